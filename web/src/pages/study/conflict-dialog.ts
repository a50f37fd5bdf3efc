/**
 * The dialog shown when a save is refused with 409 because a newer version exists: who made it
 * (the AI, a reviewer, "you, in another tab"), and what the reader can do: keep their edit on
 * top of the newer version (their changed slices re-applied onto it), keep theirs as a whole,
 * review the differences, or discard their edit and load the newer version.
 */
import type { ApiError } from "../../core/api";
import type { VersionPublic } from "../../core/types";
import { fmtTime, h } from "../../ui/dom";
import { showModal } from "../../ui/dialog";
import { madeBy } from "./version-author";

export interface ConflictChoices {
  /** Re-apply the slices the reader changed onto `latest` and save with `latest` as the base. */
  keepOnTop(latest: number): Promise<void>;
  /** Save the labels on screen as they are, as the newest version on top of `latest`. */
  keepMine(latest: number | null): Promise<void>;
  /** Overlay the differences between `latest` and the screen. */
  review(latest: number): Promise<void>;
  /** Discard the edits and load `latest`. */
  reload(latest: number): Promise<void>;
}

export interface ConflictFacts {
  baseVersionId: number | null;
  /** The newer version (null when the list could not be read). */
  newest: VersionPublic | null;
  /** Slices the reader changed (null: unknown). */
  changedSlices: number | null;
  me: string;
}

export function conflictDialog(e: ApiError, facts: ConflictFacts, choose: ConflictChoices): void {
  const d = (typeof e.detail === "object" && e.detail ? e.detail : {}) as { latest_version_id?: number | null; latest_author?: string | null; latest_kind?: string | null; latest_model_name?: string | null };
  const latest = facts.newest?.id ?? d.latest_version_id ?? null;
  const who = facts.newest ? madeBy(facts.newest, facts.me)
    : d.latest_kind ? madeBy({ kind: d.latest_kind as VersionPublic["kind"], author: d.latest_author ?? null, model_name: d.latest_model_name ?? null, message: null }, facts.me)
    : "someone else";
  const when = facts.newest ? ` at ${fmtTime(facts.newest.created_at)}` : "";
  const started = facts.baseVersionId === null ? "an empty label map" : `version ${facts.baseVersionId}`;
  const yours = facts.changedSlices === null ? "your edit" : `your edit (${facts.changedSlices} slice${facts.changedSlices === 1 ? "" : "s"} changed)`;
  const act = (f: () => Promise<void>) => async () => { close(); await f(); };
  const dlg = h("dialog", { class: "conflict", id: "conflict-dialog" },
    h("h2", {}, latest === null ? "A newer version was saved" : `Version ${latest} was saved by ${who} while you edited`),
    h("p", { id: "conflict-text" }, `You started from ${started}; version ${latest ?? "(unknown)"} was saved by ${who}${when}. Nothing of ${yours} is lost yet.`),
    h("ul", { class: "muted" },
      h("li", {}, "Keep my edit on top: the slices you changed replace those slices of the newer version; the rest of the newer version stays."),
      h("li", {}, "Keep mine as it is: your labels on screen become the newest version (the newer one stays in the history)."),
      h("li", {}, "Review: shows in magenta where the newer version differs from your screen; nothing is saved."),
      h("li", {}, "Discard: loads the newer version; your changes are lost.")),
    h("div", { class: "buttons" },
      latest !== null ? h("button", { class: "primary", id: "conflict-on-top", onclick: act(() => choose.keepOnTop(latest)) }, "Keep my edit on top of the newer version") : null,
      h("button", { id: "conflict-keep", onclick: act(() => choose.keepMine(latest)) }, "Keep mine as it is"),
      latest !== null ? h("button", { id: "conflict-review", onclick: act(() => choose.review(latest)) }, "Review the differences") : null,
      latest !== null ? h("button", { id: "conflict-reload", onclick: act(() => choose.reload(latest)) }, "Discard mine, load the newer version") : null,
      h("button", { id: "conflict-cancel", onclick: () => close() }, "Cancel")));
  const close = showModal(dlg);
}
