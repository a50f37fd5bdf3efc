/**
 * Versions and saving: Save (only the changed slices when the base is known), the 409 conflict
 * dialog, loading a version, the newest AI proposal, the diff overlay, and the versions list.
 */
import * as api from "../../core/api";
import { ApiError } from "../../core/api";
import { gzipBytes } from "../../core/nifti";
import { changedSlices, copySlices } from "../../core/volume";
import { deleteDraft, draftKey } from "../../core/draft-store";
import { fmtTime, h } from "../../ui/dom";
import { asLabels, isDirty, type StudyContext } from "./context";
import { conflictDialog } from "./conflict-dialog";
import type { StudyHeader } from "./header";
import type { PaneLayout } from "./pane-layout";
import type { ReviewCopy } from "./review-copy";
import type { SidePanel } from "./side-panel";
import { takeEditCounts } from "./smart-click";
import { button as btn } from "./toolbar";

export class Versions {
  constructor(private ctx: StudyContext, private header: StudyHeader, private side: SidePanel,
    private panes: PaneLayout, private reviewCopy: ReviewCopy) {}

  /** Called after each successful save (the study page re-checks for newer versions at once). */
  onSaved: (() => void) | null = null;

  async save(force = false, note = ""): Promise<void> {
    const { ctx, header } = this, { g, labels, edit, dbg, sid } = ctx, say = ctx.say;
    header.saveBtn.disabled = true; edit.saving = true;
    const ts = performance.now();
    let tally: Record<string, number> = {};
    let saved = false;
    try {
      // only the changed slices when the server's copy of the base is known and few changed
      const zs = !force && edit.reviewCopyOf === null && edit.baseVersionId !== null && edit.baseData ? changedSlices(g, edit.baseData, labels.data) : null;
      const delta = zs !== null && zs.length > 0 && zs.length <= g.nz / 2 ? zs : null;
      const sent = delta ? copySlices(g, labels.data, delta) : labels.data.slice();
      const gz = await gzipBytes(sent);
      ctx.timings.saveGzip = performance.now() - ts;
      dbg.lastSave = { slices: delta ? delta.length : g.nz, bytes: gz.size, changed: zs ? zs.length : null, base: edit.baseData !== null };
      const fd = new FormData();
      fd.append("file", new File([gz], delta ? "slices.raw.gz" : "labels.raw.gz", { type: "application/gzip" }));
      fd.append("format", delta ? "slices" : "raw");
      if (delta) fd.append("slices", delta.join(","));
      fd.append("base_version_id", edit.baseVersionId === null ? "" : String(edit.baseVersionId));
      fd.append("message", note || (force ? "kept over a newer version" : ""));
      tally = { ...labels.tally };
      fd.append("edit_counts", takeEditCounts(labels));
      const rev = labels.revision;
      const copyOf = edit.reviewCopyOf;
      if (copyOf !== null) { fd.set("base_version_id", String(copyOf)); fd.append("approve", this.reviewCopy.approve.checked ? "true" : "false"); fd.set("message", `review copy of v${copyOf}`); }
      const v = copyOf !== null ? await api.saveReviewCopy(sid, fd) : await api.saveVersion(sid, fd);
      const wasCopy = copyOf !== null;
      if (wasCopy) this.reviewCopy.end(ctx);
      edit.baseVersionId = v.id; edit.savedRevision = rev;
      if (delta && edit.baseData) { const plane = g.nx * g.ny; const base = edit.baseData; delta.forEach((z, k) => base.set(sent.subarray(k * plane, (k + 1) * plane), z * plane)); }
      else edit.baseData = sent;
      ctx.timings.save = performance.now() - ts;
      say(wasCopy ? `Saved review copy v${v.id}${this.reviewCopy.approve.checked ? " and approved it" : ""}.` : `Saved version ${v.id}.`);
      await deleteDraft(draftKey(ctx.session.user.username, sid)).catch(() => null);
      await this.refresh();
      saved = true;
    } catch (e) {
      for (const [k, n] of Object.entries(tally)) labels.tally[k] = (labels.tally[k] ?? 0) + n; // not saved: count them next time
      if (e instanceof ApiError && e.status === 409 && typeof e.detail === "object" && e.detail && "assignment_state" in e.detail) say(e.message);
      else if (e instanceof ApiError && e.status === 409) await this.conflict(e);
      else say(`Save failed: ${(e as Error).message}`);
    } finally { header.saveBtn.disabled = false; edit.saving = false; ctx.sync(); }
    if (saved) this.onSaved?.();
  }

  /** The 409 dialog: who made the newer version, and the reader's choices. */
  private async conflict(e: ApiError): Promise<void> {
    const { ctx } = this, { edit, g, labels } = ctx;
    const list = await api.versions(ctx.sid).then((r) => r.data).catch(() => null);
    if (list) edit.versions = list;
    const latestId = (e.detail as { latest_version_id?: number | null } | null)?.latest_version_id ?? list?.[0]?.id ?? null;
    const newest = list?.find((v) => v.id === latestId) ?? null;
    const base = edit.baseData ?? (edit.baseVersionId === null ? new Uint8Array(labels.data.length) : null);
    ctx.dbg.conflict = { latest: latestId };
    conflictDialog(e, { baseVersionId: edit.baseVersionId, newest, changedSlices: base ? changedSlices(g, base, labels.data).length : null,
      me: ctx.session.user.username }, {
      keepOnTop: (latest) => this.keepOnTop(latest),
      keepMine: async (latest) => { edit.baseVersionId = latest; await this.save(true); },
      review: (latest) => this.showDiff(latest),
      reload: (latest) => this.load(latest, true),
    });
  }

  /**
   * Keeps the reader's edit on top of version `latest`: the axial slices they changed (against
   * the version they started from) keep their labels, every other slice takes `latest`'s; one
   * undo step brings back what was on screen. Then saves with `latest` as the base.
   */
  async keepOnTop(latest: number): Promise<void> {
    const { ctx } = this, { g, labels, edit, say } = ctx;
    const base = edit.baseData ?? (edit.baseVersionId === null ? new Uint8Array(labels.data.length) : null);
    if (!base) { edit.baseVersionId = latest; await this.save(true); return; }
    say(`Putting your edit on top of version ${latest}…`);
    const mine = new Set(changedSlices(g, base, labels.data));
    const newer = asLabels((await api.versionLabels(latest)).data);
    const plane = g.nx * g.ny;
    labels.begin(`your edit on top of version ${latest}`);
    for (let z = 0; z < g.nz; z++) {
      if (mine.has(z)) continue;
      for (let i = z * plane, end = i + plane; i < end; i++) if (labels.data[i] !== newer[i]) labels.set(i, newer[i]);
    }
    labels.commit();
    edit.baseVersionId = latest; edit.baseData = newer.slice();
    void this.panes.r3d?.refreshLabels();
    await this.save(false, `my edit of ${mine.size} slice${mine.size === 1 ? "" : "s"} kept on top of v${latest}`);
  }

  /** Puts version `vid` under the editor (asks first when there are unsaved edits, unless `discard`). */
  async load(vid: number, discard = false): Promise<void> {
    const { ctx } = this, { labels, edit, viewer, say } = ctx;
    if (!discard && isDirty(ctx) && !confirm("Discard unsaved changes and load this version?")) return;
    say(`Loading version ${vid}…`);
    const lab = await api.versionLabels(vid);
    labels.replace(asLabels(lab.data));
    edit.baseData = labels.data.slice();
    edit.baseVersionId = vid; edit.savedRevision = labels.revision; viewer.diffRef = null; this.side.diffInfo.textContent = "";
    say(`Loaded version ${vid}.`); ctx.sync(); void this.panes.r3d?.refreshLabels();
  }

  async loadNewestAi(): Promise<void> {
    const v = this.ctx.edit.versions.find((x) => x.kind === "ai");
    if (!v) { this.ctx.say("No AI proposal for this study yet."); return; }
    await this.load(v.id);
  }

  /** Overlays in magenta the voxels where version `vid` differs from the labels on screen. */
  async showDiff(vid: number): Promise<void> {
    const { viewer, labels } = this.ctx, diffInfo = this.side.diffInfo;
    const lab = await api.versionLabels(vid);
    const ref = lab.data as Uint8Array;
    let n = 0; for (let i = 0; i < ref.length; i++) if (ref[i] !== labels.data[i]) n++;
    viewer.diffRef = ref;
    diffInfo.innerHTML = "";
    diffInfo.append(h("span", {}, `Diff vs version ${vid}: ${n.toLocaleString()} voxels differ (magenta). `),
      btn("Clear diff", "Hide the diff overlay", () => { viewer.diffRef = null; diffInfo.textContent = ""; viewer.invalidate(); }, "clear-diff"));
    viewer.invalidate();
  }

  /** Reloads the versions list (newest first, with voxel deltas per label). */
  async refresh(): Promise<void> {
    const { edit, sid } = this.ctx, versionList = this.side.versionList;
    edit.versions = (await api.versions(sid)).data;
    const versions = edit.versions;
    versionList.innerHTML = "";
    versions.forEach((v, k) => {
      const prev = versions[k + 1];
      const delta = ["1", "2", "3"].map((l) => (v.voxel_counts?.[l] ?? 0) - (prev?.voxel_counts?.[l] ?? 0));
      versionList.append(h("li", { "data-version": v.id, class: v.id === edit.baseVersionId ? "current" : "" },
        h("div", {}, h("strong", {}, `v${v.id}`), ` ${v.kind}${v.model_name ? ` (${v.model_name})` : ""} · ${v.author ?? "—"}`),
        h("div", { class: "muted" }, `${fmtTime(v.created_at)} · Δ voxels ${delta.map((d, i) => `${i + 1}:${d >= 0 ? "+" : ""}${d}`).join(" ")}`),
        v.message ? h("div", { class: "muted" }, v.message) : null,
        h("div", {}, btn("Load", "Load this version and edit on top of it", () => void this.load(v.id)),
          btn("Diff", "Overlay the voxels where this version differs from the labels on screen", () => void this.showDiff(v.id)))));
    });
    if (versions.length === 0) versionList.append(h("li", { class: "muted" }, "No versions yet."));
  }
}
