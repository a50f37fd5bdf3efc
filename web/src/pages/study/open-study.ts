/** Opening a study: CT, study, versions and the newest label map are fetched in parallel. */
import * as api from "../../core/api";
import { ApiError, type Nifti } from "../../core/api";
import type { ProjectPublic, StudyPublic, VersionPublic } from "../../core/types";
import { CtVolume, LabelMap, type Geometry } from "../../core/volume";
import { asLabels } from "./context";

export interface OpenedStudy {
  study: StudyPublic; g: Geometry; ct: CtVolume; labels: LabelMap; versions: VersionPublic[];
  /** The newest version's voxels as loaded (null when the study has no version yet). */
  baseData: Uint8Array | null;
  /** The project (label schema, the user's role), fetched alongside. */
  projectP: Promise<ProjectPublic>;
}

function geometryOf(study: StudyPublic, nii: Nifti): Geometry {
  const [nx, ny, nz] = nii.dims;
  const sp = study.spacing && study.spacing.length === 3 ? study.spacing : nii.spacing;
  return { nx, ny, nz, sx: sp[0], sy: sp[1], sz: sp[2] };
}

/** Loads everything the viewer needs; on failure writes the reason into `status` and returns null. */
export async function openStudy(sid: number, status: HTMLElement, dbg: Record<string, unknown>, t0: number): Promise<OpenedStudy | null> {
  const timings = dbg.timings as Record<string, number>;
  const volP = api.studyVolume(sid, (n) => { status.textContent = `Loading CT… ${(n / 1e6).toFixed(1)} MB`; }, timings);
  volP.catch(() => null);
  const studyP = api.study(sid);
  const versionsP = api.versions(sid);
  versionsP.catch(() => null);
  const labelsP = studyP.then((st) => st.latest_version_id !== null ? api.versionLabels(st.latest_version_id) : null);
  labelsP.catch(() => null);
  let study: StudyPublic;
  try { study = await studyP; } catch (e) {
    status.className = "card error"; status.setAttribute("role", "alert"); status.id = "study-error";
    status.textContent = e instanceof ApiError && (e.status === 403 || e.status === 404)
      ? `You cannot open this study: ${e.message}` : `The study could not be loaded: ${(e as Error).message}`;
    dbg.error = status.textContent;
    return null;
  }
  const projectP = api.project(study.project_id);
  projectP.catch(() => null);
  let nii: Nifti;
  try { nii = await volP; } catch (e) {
    status.className = "card error"; status.id = "study-error";
    status.textContent = `You cannot open this study: ${(e as Error).message}`; return null;
  }
  const g = geometryOf(study, nii);
  const ct = new CtVolume(g, nii.data as Int16Array);
  timings.volumeLoaded = performance.now() - t0;
  const versions = (await versionsP).data;
  let labelsData: Uint8Array = new Uint8Array(g.nx * g.ny * g.nz);
  const lab = await labelsP;
  if (lab) labelsData = asLabels(lab.data);
  timings.beforeLabelMap = performance.now() - t0;
  const labels = new LabelMap(g, labelsData);
  return { study, g, ct, labels, versions, baseData: lab ? labelsData.slice() : null, projectP };
}
