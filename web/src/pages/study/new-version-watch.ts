/**
 * Notices versions saved by others while the page is open (an AI proposal, a reviewer, the same
 * reader in another tab): polls the versions list every few seconds while the tab is visible and
 * shows a banner, "AI proposal ready — Load". Without unsaved edits Load puts it under the editor
 * at once; with unsaved edits the reader may keep their edit on top of it or discard it.
 */
import type { VersionPublic } from "../../core/types";
import { h } from "../../ui/dom";
import { isDirty, type StudyContext } from "./context";
import { madeBy } from "./version-author";
import type { Versions } from "./versions";

const POLL_MS = 4000;

export interface VersionWatch { el: HTMLElement; check(): Promise<void>; stop(): void }

export function watchNewVersions(ctx: StudyContext, versions: Versions): VersionWatch {
  const el = h("div", { class: "new-version", id: "new-version-banner", role: "status", hidden: true });
  // the newest version this page knows about; anything newer (and not our own save) is news
  let seen = Math.max(ctx.edit.baseVersionId ?? 0, ...ctx.edit.versions.map((v) => v.id));
  let busy = false;

  const hide = () => { el.hidden = true; el.innerHTML = ""; };
  const offer = (v: VersionPublic) => {
    const who = madeBy(v, ctx.session.user.username);
    const text = v.kind === "ai" ? `AI proposal ready (version ${v.id}, ${v.model_name ?? "AI"})` : `Version ${v.id} saved by ${who}`;
    const load = async (discard: boolean) => { hide(); seen = Math.max(seen, v.id); await versions.load(v.id, discard); };
    el.innerHTML = "";
    el.append(h("span", {}, `${text} — `),
      isDirty(ctx)
        ? h("span", {}, "you have unsaved edits: ",
          h("button", { type: "button", id: "new-version-on-top", class: "primary", onclick: async () => { hide(); seen = Math.max(seen, v.id); await versions.keepOnTop(v.id); } }, "Keep my edit on top of it"), " ",
          h("button", { type: "button", id: "new-version-load", onclick: () => void load(false) }, "Load it (discard mine)"))
        : h("button", { type: "button", id: "new-version-load", class: "primary", onclick: () => void load(!isDirty(ctx)) }, "Load"),
      " ", h("button", { type: "button", class: "link", id: "new-version-dismiss", onclick: () => { seen = Math.max(seen, v.id); hide(); } }, "Not now"));
    el.hidden = false;
    ctx.dbg.newVersion = v.id;
  };

  const check = async () => {
    if (busy || ctx.edit.saving) return;
    busy = true;
    try {
      await versions.refresh();
      const newest = ctx.edit.versions[0];
      if (!newest || newest.id <= seen) return;
      if (newest.id === ctx.edit.baseVersionId) { seen = newest.id; hide(); return; } // our own save
      offer(newest);
    } catch { /* offline for a moment: try again at the next tick */ } finally { busy = false; }
  };
  const timer = window.setInterval(() => { if (!document.hidden) void check(); }, POLL_MS);
  const onVisible = () => { if (!document.hidden) void check(); };
  document.addEventListener("visibilitychange", onVisible);
  return { el, check, stop: () => { clearInterval(timer); document.removeEventListener("visibilitychange", onVisible); } };
}
