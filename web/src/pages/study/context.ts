/** What the parts of the study page share: the open study, its viewer, and the editing state. */
import type { Geometry, CtVolume, LabelMap } from "../../core/volume";
import type { Session, StudyPublic, VersionPublic } from "../../core/types";
import type { StudyViewer } from "../../views/study-viewer";

/** Where the label map on screen came from, and what has been saved. */
export interface EditState {
  /** The version the edits started from (sent as base_version_id; 409 when no longer the newest). */
  baseVersionId: number | null;
  /** The voxels of baseVersionId as the server holds them: a save sends only the slices that
   * differ from it (null: unknown, the next save sends the whole map). */
  baseData: Uint8Array | null;
  /** `labels.revision` at the last save or load. */
  savedRevision: number;
  versions: VersionPublic[];
  saving: boolean;
  /** Set while a reviewer edits a copy of a reading (`?review_copy_of=`). */
  reviewCopyOf: number | null;
}

export interface StudyContext {
  sid: number;
  session: Session;
  study: StudyPublic;
  g: Geometry;
  ct: CtVolume;
  labels: LabelMap;
  viewer: StudyViewer;
  edit: EditState;
  /** `window.__lunglab`: read by the browser tests and the benchmark. */
  dbg: Record<string, unknown>;
  timings: Record<string, number>;
  /** Shows a status message in the header. */
  say(text: string): void;
  /** Brings the toolbar, header and legend in line with the viewer and editing state. */
  sync(): void;
}

export const isDirty = (ctx: StudyContext) => ctx.labels.revision !== ctx.edit.savedRevision;

/** A label array from a parsed NIfTI (uint8 as is, else converted). */
export const asLabels = (data: ArrayLike<number>): Uint8Array => data instanceof Uint8Array ? data : Uint8Array.from(data as Int16Array);
