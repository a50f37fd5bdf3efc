/** Local drafts: every 5 s a changed label map is autosaved (gzip) to IndexedDB; reopening offers to restore it. */
import { deleteDraft, draftKey, loadDraft, saveDraft } from "../../core/draft-store";
import { gzipBytes, maybeGunzip } from "../../core/nifti";
import { h } from "../../ui/dom";
import type { StudyContext } from "./context";
import type { StudyHeader } from "./header";
import { button as btn } from "./toolbar";

/** Starts autosaving while `settled()`; returns the function that stops it. */
export function startAutosave(ctx: StudyContext, settled: () => boolean): () => void {
  const { labels, edit } = ctx;
  const dKey = draftKey(ctx.session.user.username, ctx.sid);
  let draftRevision = labels.revision;
  const timer = window.setInterval(async () => {
    if (labels.revision === draftRevision || labels.revision === edit.savedRevision || !settled()) return;
    draftRevision = labels.revision;
    try { await saveDraft({ key: dKey, baseVersionId: edit.baseVersionId, savedAt: Date.now(), labels: await gzipBytes(labels.data), revision: draftRevision }); }
    catch { /* storage full or unavailable: keep working */ }
  }, 5000);
  return () => clearInterval(timer);
}

/** When a draft was left unsaved: a banner with Restore draft / Discard under the header. */
export function offerDraft(ctx: StudyContext, header: StudyHeader): void {
  const { labels, edit } = ctx;
  const dKey = draftKey(ctx.session.user.username, ctx.sid);
  loadDraft(dKey).then((d) => {
    if (!d) return;
    const bar = h("div", { class: "draft-banner", id: "draft-banner", role: "alert" },
      `A local draft from ${new Date(d.savedAt).toLocaleString()} (on version ${d.baseVersionId ?? "none"}) was not saved. `,
      btn("Restore draft", "Load the autosaved draft", async () => {
        const raw = new Uint8Array(await maybeGunzip(await d.labels.arrayBuffer()));
        if (raw.length === labels.data.length) {
          labels.begin("restore draft");
          for (let i = 0; i < raw.length; i++) if (raw[i] !== labels.data[i]) labels.set(i, raw[i]);
          labels.commit(); if (edit.baseVersionId !== d.baseVersionId) edit.baseData = null; edit.baseVersionId = d.baseVersionId; ctx.say("Draft restored."); ctx.sync();
        }
        bar.remove();
      }, "restore-draft"),
      btn("Discard", "Delete the draft", () => { void deleteDraft(dKey); bar.remove(); }, "discard-draft"));
    header.el.after(bar);
  }).catch(() => null);
}
