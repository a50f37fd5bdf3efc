/**
 * The radiograph page (`/studies/{id}` for CR, DX and XR studies): a 2D viewer with pan, zoom
 * and window, lung fields and opacities painted as a label map (1 lung, 2 GGO-like hazy
 * opacity, 3 consolidation; saved as an ordinary one-slice version), the reader's findings
 * (RSNA category, Brixia, RALE), Submit for review, and exports. LungLab ships no radiograph
 * model: the page says so, and offers "Run AI" once the project has trained and promoted one
 * from its approved radiographs (the proposal is loaded as the new base when it arrives).
 */
import * as api from "../../core/api";
import { gzipBytes } from "../../core/nifti";
import type { AssignmentOut, ReadingOut, Session, StudyPublic, VersionPublic } from "../../core/types";
import { h, link, sayIn } from "../../ui/dom";
import { DEFAULT_LABEL_COLORS as COLORS } from "../../ui/labels";
import type { Cleanup } from "../../ui/page";
import { runAiAction } from "../../features/ai/run-ai";
import { findingsForm } from "./findings-form";
import { RadiographViewer, type Tool } from "./radiograph-viewer";

const LABELS: [number, string, string][] = [[1, "Lung field", COLORS[1]], [2, "Hazy opacity (GGO-like)", COLORS[2]], [3, "Consolidation", COLORS[3]]];
const EDITABLE = ["assigned", "in_progress", "returned"];

async function latestVisible(sid: number): Promise<VersionPublic | null> {
  return (await api.versions(sid)).data[0] ?? null;
}

export async function radiographPage(app: HTMLElement, s: Session, sid: number): Promise<Cleanup> {
  const [study, info, volume, newest, mine] = await Promise.all([
    api.study(sid), api.radiograph(sid), api.studyVolume(sid), latestVisible(sid),
    api.myAssignments().then((r) => r.data.filter((a) => a.study_id === sid)),
  ]);
  const [nx, ny] = [volume.dims[0], volume.dims[1]];
  const labels = new Uint8Array(nx * ny);
  if (newest) labels.set((await api.versionLabels(newest.id)).data as Uint8Array);
  const viewer = new RadiographViewer(volume.data as Int16Array, labels, nx, ny, info.window);
  viewer.textRegions = info.text_regions;
  let baseVersion: number | null = newest?.id ?? null;
  let savedRevision = 0;
  let assignment: AssignmentOut | null = mine.find((a) => a.state !== "approved") ?? mine[0] ?? null;
  if (assignment?.state === "assigned") assignment = await api.startAssignment(assignment.id);
  const project = await api.project(study.project_id);
  const isAdmin = s.user.is_admin || project.my_role === "admin";
  const canReview = isAdmin || project.my_role === "reviewer";

  const status = h("span", { class: "muted", id: "status", role: "status" });
  const say = sayIn(status);
  const dirty = () => viewer.revision !== savedRevision;
  const saveBtn = h("button", { id: "save", title: "Save the label map (Ctrl+S)", onclick: () => void saveLabels() }, "Save");
  const submitBtn = h("button", { class: "primary", id: "submit-assignment", onclick: () => void submit() }, "Submit for review");
  const stateBadge = h("span", { class: "badge", id: "assignment-state" });
  const versionInfo = h("span", { class: "muted", id: "base-version" });
  const form = findingsForm(sid, info.my_reading, say);

  const renderState = () => {
    const editable = !assignment || EDITABLE.includes(assignment.state);
    stateBadge.textContent = assignment ? assignment.state.replace("_", " ") : "no assignment";
    stateBadge.className = `badge st-${assignment?.state ?? "none"}`;
    submitBtn.hidden = !editable; saveBtn.disabled = !editable; form.setEditable(editable && info.can_edit);
    versionInfo.textContent = baseVersion ? `version ${baseVersion}${dirty() ? " · unsaved changes" : ""}` : dirty() ? "unsaved label map" : "no label map yet";
  };
  viewer.onChange = renderState;

  async function saveLabels(): Promise<boolean> {
    const f = new FormData();
    f.append("file", await gzipBytes(viewer.labels), "labels.raw.gz");
    f.append("format", "raw"); f.append("base_version_id", baseVersion ? String(baseVersion) : ""); f.append("message", "radiograph");
    try {
      const rev = viewer.revision;
      const v = await api.saveVersion(sid, f);
      baseVersion = v.id; savedRevision = rev; say(`Saved version ${v.id}.`); renderState(); return true;
    } catch (e) {
      const err = e as api.ApiError;
      say(err.status === 409 ? "Someone saved a newer version: reload the page to see it (your drawing stays until you do)." : `Save failed: ${err.message}`, true);
      return false;
    }
  }
  async function submit(): Promise<void> {
    if (!form.saved() && !(await form.save())) return;
    if ((dirty() || baseVersion === null) && !(await saveLabels())) return;
    try {
      assignment = assignment ? await api.submitAssignment(assignment.id) : await api.submitOwnReading(sid);
      say("Submitted for review."); renderState();
    } catch (e) { say(`Submit failed: ${(e as Error).message}`, true); }
  }

  // toolbar: label, tool, brush size, fill, undo, window, view
  const toolButtons = new Map<Tool, HTMLButtonElement>();
  const labelButtons = new Map<number, HTMLButtonElement>();
  const setTool = (t: Tool) => { viewer.tool = t; toolButtons.forEach((b, k) => b.classList.toggle("on", k === t)); };
  const setLabel = (v: number) => { viewer.label = v; labelButtons.forEach((b, k) => b.classList.toggle("on", k === v)); if (viewer.tool === "eraser") setTool("brush"); };
  for (const [v, name, color] of LABELS) {
    const sw = h("span", { class: "swatch" }); sw.style.background = color;
    labelButtons.set(v, h("button", { id: `label-${v}`, title: `${name} (${v})`, onclick: () => setLabel(v) }, sw, ` ${name}`));
  }
  for (const [t, name, key] of [["brush", "Brush", "B"], ["eraser", "Eraser", "E"], ["pan", "Pan", "P"]] as [Tool, string, string][]) {
    toolButtons.set(t, h("button", { id: `tool-${t}`, title: `${name} (${key})`, onclick: () => setTool(t) }, name));
  }
  const radius = h("input", { type: "range", id: "brush-radius", min: 2, max: Math.max(40, Math.round(Math.max(nx, ny) / 15)), value: viewer.radius, "aria-label": "Brush radius (pixels)" });
  radius.addEventListener("input", () => { viewer.radius = Number(radius.value); });
  const fill = h("button", { id: "fill-holes", title: "Fill what the active label encloses (outline a lung field, then fill)", onclick: () => {
    const n = viewer.fillHoles(viewer.label); say(n ? `Filled ${n} pixels.` : "Nothing enclosed to fill.");
  } }, "Fill enclosed");
  const windowInfo = () => `W ${Math.round(viewer.window[1])} / L ${Math.round(viewer.window[0])}`;
  const wl = h("span", { class: "muted", id: "window-info" }, windowInfo());
  const presets = h("span", { class: "group" }, "Window ",
    h("button", { id: "window-default", onclick: () => { viewer.setWindow(...info.window); wl.textContent = windowInfo(); } }, "Default"),
    h("button", { id: "window-soft", onclick: () => { viewer.setWindow(info.window[0], info.window[1] * 0.6); wl.textContent = windowInfo(); } }, "Narrow"),
    h("button", { id: "window-wide", onclick: () => { viewer.setWindow(info.window[0], info.window[1] * 1.6); wl.textContent = windowInfo(); } }, "Wide"), wl);
  const toggleLabels = h("button", { id: "toggle-labels", class: "on", onclick: () => { viewer.showLabels = !viewer.showLabels; toggleLabels.classList.toggle("on", viewer.showLabels); viewer.refresh(0, 0, nx, ny); } }, "Labels");
  const toolbar = h("div", { class: "toolbar" },
    h("span", { class: "group" }, ...labelButtons.values()), h("span", { class: "group" }, ...toolButtons.values()),
    h("label", { class: "group" }, "Size ", radius), fill,
    h("span", { class: "group" }, h("button", { id: "undo", title: "Undo (Ctrl+Z)", onclick: () => viewer.undo() }, "Undo"), h("button", { id: "redo", title: "Redo (Ctrl+Y)", onclick: () => viewer.redo() }, "Redo")),
    presets, h("button", { id: "reset-view", title: "Fit (R)", onclick: () => viewer.resetView() }, "Fit"), toggleLabels);
  setTool("brush"); setLabel(1);

  const cursor = h("div", { class: "view-info", id: "cursor-info" });
  viewer.onInfo = (t) => { cursor.textContent = t; wl.textContent = windowInfo(); };
  const pane = h("div", { class: "pane radiograph-pane" }, viewer.canvas, cursor);

  // the project's radiograph model, when it has one: Run AI, then load the proposal
  const dbg: Record<string, unknown> = {};
  const loadProposal = async () => {
    const v = await latestVisible(sid);
    if (!v || v.id === baseVersion) return;
    if (dirty() && !window.confirm(`The AI proposal (version ${v.id}) is ready. Load it? Your unsaved drawing will be replaced.`)) {
      say(`AI proposal saved as version ${v.id}; your drawing stays (saving it will ask you to reload).`); return;
    }
    viewer.replace((await api.versionLabels(v.id)).data as Uint8Array);
    baseVersion = v.id; savedRevision = viewer.revision; say(`Loaded the AI proposal (version ${v.id}): correct it, then save.`); renderState();
  };
  const runAi = info.ai.available ? runAiAction({ sid, dbg }, () => void loadProposal(), `Segment the lung fields and opacities with ${info.ai.model}`) : null;
  const aiBox = h("div", { id: "ai-box" }, h("p", { class: info.ai.available ? "muted" : "ai-none", id: "ai-status" },
    info.ai.available ? `AI: ${info.ai.message}. A proposal is a start for your reading, not a finding.` : info.ai.message), runAi?.el ?? null);

  // side panel: AI, burned-in text, findings, other readers, exports
  const side = h("aside", { class: "side radiograph-side" },
    aiBox,
    info.text_regions.length ? h("p", { class: "warning", id: "text-warning" },
      `${info.text_blacked_out ? "Blacked out" : "Suspected burned-in text in"} ${info.text_regions.length} region(s) (dashed outline): check before sharing. `,
      h("button", { class: "link", onclick: () => { viewer.showTextRegions = !viewer.showTextRegions; viewer.draw(); } }, "show/hide")) : null,
    form.el, canReview ? readersTable(info.readings) : null,
    isAdmin ? exportsBox(study, () => baseVersion, info.source_kind === "dicom") : null);

  app.append(h("div", { class: "study radiograph" },
    h("div", { class: "study-header" }, link(`/projects/${study.project_id}`, "← Worklist"), h("h1", { id: "study-name" }, study.name),
      h("span", { class: "badge modality", id: "modality" }, study.modality), stateBadge, versionInfo, h("span", { class: "spacer" }), status, saveBtn, submitBtn),
    toolbar, h("div", { class: "study-body" }, pane, side)));
  renderState();
  requestAnimationFrame(() => viewer.resetView());

  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).closest("input, textarea, select")) return;
    const k = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && k === "s") { e.preventDefault(); void saveLabels(); }
    else if ((e.ctrlKey || e.metaKey) && k === "z") { e.preventDefault(); viewer.undo(); }
    else if ((e.ctrlKey || e.metaKey) && k === "y") { e.preventDefault(); viewer.redo(); }
    else if (["1", "2", "3"].includes(k)) setLabel(Number(k));
    else if (k === "b") setTool("brush"); else if (k === "e") setTool("eraser"); else if (k === "p") setTool("pan");
    else if (k === "r") viewer.resetView();
  };
  const onResize = () => viewer.draw();
  const onLeave = (e: BeforeUnloadEvent) => { if (dirty()) e.preventDefault(); };
  window.addEventListener("keydown", onKey);
  window.addEventListener("resize", onResize);
  window.addEventListener("beforeunload", onLeave);
  (window as unknown as { __lunglab_radiograph: unknown }).__lunglab_radiograph = { viewer, counts: () => viewer.counts(), baseVersion: () => baseVersion };
  return () => {
    window.removeEventListener("keydown", onKey); window.removeEventListener("resize", onResize); window.removeEventListener("beforeunload", onLeave);
    runAi?.stop();
  };
}

function readersTable(readings: ReadingOut[]): HTMLElement {
  return h("section", { id: "all-readings" }, h("h2", {}, "Readers"),
    readings.length ? h("table", { class: "worklist" }, h("thead", {}, h("tr", {}, ...["Reader", "Category", "Brixia", "RALE"].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...readings.map((r) => h("tr", {}, h("td", {}, r.reader), h("td", {}, r.category),
        h("td", { class: "num" }, r.brixia_total === null ? "–" : String(r.brixia_total)), h("td", { class: "num" }, r.rale_total === null ? "–" : String(r.rale_total)))))) :
      h("p", { class: "muted" }, "No findings recorded yet."));
}

function exportsBox(study: StudyPublic, version: () => number | null, dicom: boolean): HTMLElement {
  const links = h("div", { class: "exports", id: "radiograph-exports" });
  const render = () => {
    const v = version();
    links.innerHTML = "";
    links.append(...[
      v ? file(api.radiographMaskPngUrl(v), "Mask (PNG)", "export-mask-png") : h("span", { class: "muted" }, "Save a label map to export masks"), " ",
      v ? file(api.radiographMaskNiftiUrl(v), "Mask (NIfTI)", "export-mask-nifti") : null, " ",
      v && dicom ? file(api.radiographSegUrl(v), "DICOM SEG", "export-seg") : null, " ",
      file(api.radiographFindingsCsvUrl(study.project_id), "Findings CSV (project)", "export-findings-csv")].filter((x): x is HTMLElement | string => x !== null));
  };
  const file = (href: string, text: string, id: string) => h("a", { href, download: "", id }, text);
  render();
  return h("section", {}, h("h2", {}, "Export"), links, h("button", { class: "link", onclick: render }, "refresh links"));
}
