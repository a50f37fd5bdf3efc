/** The dialog shown when a save is refused with 409 because someone saved a newer version. */
import type { ApiError } from "../../core/api";
import { h } from "../../ui/dom";
import { showModal } from "../../ui/dialog";

export interface ConflictChoices {
  /** Save the labels on screen as the newest version, on top of `latest`. */
  keepMine(latest: number | null): Promise<void>;
  /** Discard the edits and load `latest`. */
  reload(latest: number): Promise<void>;
}

export function conflictDialog(e: ApiError, baseVersionId: number | null, choose: ConflictChoices): void {
  const d = e.detail as { message?: string; latest_version_id?: number } | string;
  const latest = typeof d === "object" ? d.latest_version_id ?? null : null;
  const dlg = h("dialog", { class: "conflict", id: "conflict-dialog" },
    h("h2", {}, "Someone saved a newer version"),
    h("p", {}, `${typeof d === "object" ? d.message ?? "" : d} You edited on version ${baseVersionId ?? "none"}; the newest is version ${latest ?? "?"}.`),
    h("p", {}, "Keep mine saves your labels as the newest version (the other version stays in the history). Reload discards your changes and loads the newest version."),
    h("div", { class: "buttons" },
      h("button", { class: "primary", id: "conflict-keep", onclick: async () => { close(); await choose.keepMine(latest); } }, "Keep mine as a new version"),
      h("button", { id: "conflict-reload", onclick: async () => { close(); if (latest) await choose.reload(latest); } }, "Reload the newest version"),
      h("button", { id: "conflict-cancel", onclick: () => close() }, "Cancel")));
  const close = showModal(dlg);
}
