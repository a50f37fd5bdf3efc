/**
 * The study page: MPR + 3D, window presets, label overlay and legend, editing tools, versions.
 * This module only assembles the parts and runs the start-up order; each part has its own module:
 * header (page actions), toolbar, label-ops (tool wiring), side-panel, versions (save / load /
 * diff / conflict), keyboard, drafts, review-copy, assignment-panel.
 */
import type { ProjectPublic, Session } from "../../core/types";
import { h } from "../../ui/dom";
import type { Cleanup } from "../../ui/page";
import { StudyViewer, WINDOW_PRESETS, type Tool } from "../../views/study-viewer";
import { assignmentPanel } from "./assignment-panel";
import { isDirty, type StudyContext } from "./context";
import { exposeStudy, newDebugHooks } from "./debug-hooks";
import { offerDraft, startAutosave } from "./drafts";
import { studyHeader } from "./header";
import { bindKeys } from "./keyboard";
import { labelOps } from "./label-ops";
import { openStudy } from "./open-study";
import { PaneLayout } from "./pane-layout";
import { ReviewCopy } from "./review-copy";
import { shortcutSheet } from "./shortcut-sheet";
import { sidePanel } from "./side-panel";
import { smartClickTool } from "./smart-click";
import { button, studyToolbar } from "./toolbar";
import { Versions } from "./versions";
import { loadSettings, saveSettings } from "../../core/user-settings";
import { watchNewVersions } from "./new-version-watch";
import { resultsMenu } from "./results-menu";
import { runAiAction } from "../../features/ai/run-ai";
import { viewSettings } from "./view-settings";

export async function studyPage(app: HTMLElement, session: Session, sid: number): Promise<Cleanup> {
  const t0 = performance.now();
  const dbg = newDebugHooks();
  const timings = dbg.timings as Record<string, number>;
  const status = h("div", { class: "loading", "aria-live": "polite" }, "Loading study…");
  app.append(status);
  const opened = await openStudy(sid, status, dbg, t0);
  if (!opened) return () => {};
  const { study, g, ct, labels } = opened;
  const dir = study.direction || [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const viewer = new StudyViewer(ct, labels, (dir[8] ?? 1) >= 0);
  let lastLabel = loadSettings().lastLabel; // the label the user painted with last
  if (lastLabel !== null && lastLabel >= 1 && lastLabel <= 255) viewer.activeLabel = lastLabel;
  const header = studyHeader(study, g);
  const ctx: StudyContext = {
    sid, session, study, g, ct, labels, viewer, dbg, timings,
    edit: { baseVersionId: study.latest_version_id ?? null, baseData: opened.baseData, savedRevision: labels.revision,
      versions: opened.versions, saving: false, reviewCopyOf: null },
    say: header.say,
    sync: () => sync(),
  };
  exposeStudy(ctx);
  timings.beforeDom = performance.now() - t0;
  status.remove();

  // ---------- layout ----------
  const panes = new PaneLayout(viewer);
  const setTool = (t: Tool) => { viewer.tool = t; sync(); };
  const ops = labelOps(ctx, () => toolbar.islandMinMm3());
  const toolbar = studyToolbar(ctx, panes, { ...ops, setTool, toggleShortcuts: () => sheet.toggle() });
  const side = sidePanel(ctx, () => void versions.loadNewestAi(), button);
  const reviewCopy = new ReviewCopy();
  const versions = new Versions(ctx, header, side, panes, reviewCopy);
  const watch = watchNewVersions(ctx, versions);
  versions.onSaved = () => void watch.check(); // a banner raised before our own save is stale now
  const runAi = runAiAction(ctx, () => void watch.check());
  header.addAction(runAi.el, "left");
  side.el.append(viewSettings());
  app.append(h("div", { class: "study" }, header.el, toolbar.el, h("div", { class: "study-body" }, panes.grid, side.el, watch.el)));
  const sheet = shortcutSheet(app);
  header.saveBtn.addEventListener("click", () => void versions.save());
  smartClickTool(ctx);

  let project: ProjectPublic | null = null;
  const applySchema = () => side.applySchema(project?.label_schema, toolbar.labelSel);
  const addReviewLink = () => {
    const p = project;
    if (!p || document.getElementById("review-link")) return;
    if (session.user.is_admin || p.my_role === "admin" || p.my_role === "reviewer")
      header.addAction(h("a", { href: `/studies/${sid}/review`, id: "review-link" }, "Review"), "left");
  };
  header.addAction(resultsMenu(ctx, () => session.user.is_admin || project?.my_role === "admin"), "left");
  opened.projectP.then((p) => { project = p; applySchema(); addReviewLink(); }).catch(() => null);

  function sync(): void {
    toolbar.sync();
    if (viewer.activeLabel !== lastLabel) { lastLabel = viewer.activeLabel; saveSettings({ lastLabel }); }
    header.saveBtn.textContent = isDirty(ctx) ? "Save*" : "Save";
    header.baseInfo.textContent = ctx.edit.baseVersionId ? `editing on version ${ctx.edit.baseVersionId}` : "no saved version yet";
    side.updateLegend();
    viewer.invalidate();
  }
  viewer.onChange.push(sync);

  const unbindKeys = bindKeys(ctx, panes, side, { ...ops, setTool, save: () => void versions.save(),
    toggleShortcuts: () => sheet.toggle(), closeShortcuts: () => sheet.close() });
  const onResize = () => { for (const v of viewer.views) v.resize(); viewer.invalidate(); };
  window.addEventListener("resize", onResize);
  const onUnload = (e: BeforeUnloadEvent) => { if (isDirty(ctx)) { e.preventDefault(); } };
  window.addEventListener("beforeunload", onUnload);

  // ---------- autosave + 3D refresh (both wait until edits settle and never run during a save) ----------
  let lastEditAt = 0;
  labels.listeners.push(() => { lastEditAt = performance.now(); });
  const settled = () => !ctx.edit.saving && performance.now() - lastEditAt > 1500;
  const stopAutosave = startAutosave(ctx, settled);
  const refresh3d = window.setInterval(() => { if (panes.r3d && settled() && panes.shows3d) void panes.r3d.refreshLabels(); }, 2000);

  timings.beforeStart = performance.now() - t0;
  // ---------- start ----------
  const askedLayout = new URLSearchParams(location.search).get("layout");
  panes.set(askedLayout === "1x1" || askedLayout === "1x3" || askedLayout === "2x2" ? askedLayout : window.innerWidth < 1000 ? "1x1" : "2x2");
  timings.afterLayout = performance.now() - t0;
  applySchema();
  addReviewLink();
  setTool("navigate");
  viewer.setWindow(WINDOW_PRESETS[0].width, WINDOW_PRESETS[0].level);
  viewer.renderNow();
  timings.firstSlice = performance.now() - t0;
  dbg.ready = true;
  void versions.refresh();
  sync();

  await reviewCopy.startFromUrl(ctx, header, (vid, discard) => versions.load(vid, discard));
  const assignBox = h("div", { id: "assignment-box" });
  side.el.prepend(assignBox);
  const stopAssignment = await assignmentPanel(ctx, assignBox, () => versions.save());
  offerDraft(ctx, header);

  return () => {
    unbindKeys();
    window.removeEventListener("resize", onResize);
    window.removeEventListener("beforeunload", onUnload);
    stopAssignment();
    runAi.stop(); watch.stop();
    stopAutosave(); clearInterval(refresh3d); panes.dispose(); sheet.close();
  };
}
