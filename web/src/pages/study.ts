/** Study view: MPR + 3D, window presets, label overlay and legend, editing tools, versions. */
import { api, ApiError, getJson, request, sendJson, type AssignmentDetail, type AssignmentOut, type List, type ProjectPublic, type StudyPublic, type VersionPublic } from "../core/api";
import { gzipBytes, maybeGunzip, parseNifti } from "../core/nifti";
import { CtVolume, LabelMap, changedSlices, copySlices, type Geometry } from "../core/volume";
import { deleteDraft, draftKey, loadDraft, saveDraft } from "../core/draft-store";
import { fmtTime, h } from "../dom";
import type { Session } from "../main";
import { StudyViewer, WINDOW_PRESETS, HU_PRESETS, type Tool } from "../views/study-viewer";
import type { Render3D } from "../views/render-3d";
import type { Orientation, Vec3 } from "../views/plane";
import { fillBetweenSlices } from "../tools/interpolate";
import { removeSmallIslands, smoothLabel } from "../tools/cleanup";
import { shortcutSheet } from "./shortcuts";

type Layout = "1x1" | "1x3" | "2x2";
type Pane = Orientation | "3d";

/**
 * Downloads a NIfTI (gzip or not) and parses it. Gzip is inflated while it downloads (streamed
 * through the browser's DecompressionStream), so transfer and inflation overlap.
 */
export async function fetchNifti(url: string, onBytes?: (n: number) => void, t?: Record<string, number>): Promise<ReturnType<typeof parseNifti>> {
  const t0 = performance.now();
  const res = await request("GET", url);
  let raw: ArrayBuffer;
  if (res.body) {
    const reader = res.body.getReader();
    const first = await reader.read();
    const head = first.value ?? new Uint8Array(0);
    const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    let n = head.length;
    const stream = new ReadableStream<Uint8Array>({
      start(c) { if (head.length) c.enqueue(head); if (first.done) c.close(); },
      async pull(c) {
        const { done, value } = await reader.read();
        if (done) { c.close(); return; }
        n += value.length; onBytes?.(n); c.enqueue(value);
      },
    });
    const body = gz ? stream.pipeThrough(new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>) : stream;
    raw = await new Response(body as ReadableStream<Uint8Array>).arrayBuffer();
  } else raw = await maybeGunzip(await res.arrayBuffer());
  const t1 = performance.now();
  const out = parseNifti(raw);
  if (t) { t.downloadAndInflate = t1 - t0; t.parse = performance.now() - t1; }
  return out;
}

function geometryOf(study: StudyPublic, nii: ReturnType<typeof parseNifti>): Geometry {
  const [nx, ny, nz] = nii.dims;
  const sp = study.spacing && study.spacing.length === 3 ? study.spacing : nii.spacing;
  return { nx, ny, nz, sx: sp[0], sy: sp[1], sz: sp[2] };
}

export async function studyPage(app: HTMLElement, session: Session, sid: number): Promise<() => void> {
  const t0 = performance.now();
  const dbg: Record<string, unknown> = { ready: false, timings: {} };
  (window as unknown as { __lunglab: unknown }).__lunglab = dbg;
  const status = h("div", { class: "loading", "aria-live": "polite" }, "Loading study…");
  app.append(status);
  // CT, study, versions and the newest label map are fetched in parallel
  const volP = fetchNifti(`/api/studies/${sid}/volume.nii.gz`, (n) => { status.textContent = `Loading CT… ${(n / 1e6).toFixed(1)} MB`; }, dbg.timings as Record<string, number>);
  volP.catch(() => null);
  const studyP = api.study(sid);
  const versionsP = api.versions(sid);
  versionsP.catch(() => null);
  const labelsP = studyP.then((st) => st.latest_version_id !== null ? fetchNifti(`/api/versions/${st.latest_version_id}/labels.nii.gz`) : null);
  labelsP.catch(() => null);
  let study: StudyPublic;
  try { study = await studyP; } catch (e) {
    status.className = "card error"; status.setAttribute("role", "alert"); status.id = "study-error";
    status.textContent = e instanceof ApiError && (e.status === 403 || e.status === 404)
      ? `You cannot open this study: ${e.message}` : `The study could not be loaded: ${(e as Error).message}`;
    dbg.error = status.textContent;
    return () => {};
  }
  let project: ProjectPublic | null = null;
  api.project(study.project_id).then((p) => {
    project = p; applySchema(); addReviewLink();
  }).catch(() => null);
  let nii: Awaited<ReturnType<typeof fetchNifti>>;
  try { nii = await volP; } catch (e) {
    status.className = "card error"; status.id = "study-error";
    status.textContent = `You cannot open this study: ${(e as Error).message}`; return () => {};
  }
  const g = geometryOf(study, nii);
  const ct = new CtVolume(g, nii.data as Int16Array);
  (dbg.timings as Record<string, number>).volumeLoaded = performance.now() - t0;
  let versions: VersionPublic[] = (await versionsP).data;
  let baseVersionId: number | null = study.latest_version_id ?? null;
  let labelsData: Uint8Array = new Uint8Array(g.nx * g.ny * g.nz);
  const lab = await labelsP;
  if (lab) labelsData = lab.data instanceof Uint8Array ? lab.data : Uint8Array.from(lab.data as Int16Array);
  (dbg.timings as Record<string, number>).beforeLabelMap = performance.now() - t0;
  const labels = new LabelMap(g, labelsData);
  // the voxels of baseVersionId as the server holds them: a save sends only the slices that
  // differ from it (null: unknown, the next save sends the whole map)
  let baseData: Uint8Array | null = lab ? labelsData.slice() : null;
  const dir = study.direction || [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const viewer = new StudyViewer(ct, labels, (dir[8] ?? 1) >= 0);
  let savedRevision = labels.revision;
  dbg.viewer = viewer; dbg.study = study;
  Object.defineProperty(dbg, "baseVersionId", { get: () => baseVersionId });
  Object.defineProperty(dbg, "dirty", { get: () => labels.revision !== savedRevision });
  dbg.voxelToClient = (o: Orientation, v: Vec3) => viewer.view(o)!.voxelToClient(v);
  dbg.labelAt = (v: Vec3) => labels.data[(v[2] * g.ny + v[1]) * g.nx + v[0]];
  dbg.counts = () => Array.from(labels.counts.slice(0, 4));
  dbg.sliceCount = (label: number, z: number) => { let n = 0; const o = z * g.nx * g.ny; for (let i = 0; i < g.nx * g.ny; i++) if (labels.data[o + i] === label) n++; return n; };
  (dbg.timings as Record<string, number>).beforeDom = performance.now() - t0;
  status.remove();

  // ---------- layout ----------
  const msg = h("span", { class: "msg", id: "study-msg", "aria-live": "polite" });
  const saveBtn = h("button", { class: "primary", id: "save", title: "Save a new version (Ctrl+S)" }, "Save");
  const baseInfo = h("span", { class: "muted", id: "base-info" });
  const header = h("div", { class: "study-header" }, h("h1", {}, study.name),
    h("span", { class: "muted" }, `${g.nx}×${g.ny}×${g.nz} · ${g.sx.toFixed(2)}×${g.sy.toFixed(2)}×${g.sz.toFixed(2)} mm · AI ${study.ai_status}`),
    baseInfo, h("span", { class: "spacer" }), msg, saveBtn);
  const grid = h("div", { class: "view-grid", id: "view-grid" });
  const panes: Record<Pane, HTMLDivElement> = {
    axial: h("div", { class: "pane", "data-pane": "axial" }), coronal: h("div", { class: "pane", "data-pane": "coronal" }),
    sagittal: h("div", { class: "pane", "data-pane": "sagittal" }), "3d": h("div", { class: "pane", "data-pane": "3d" }),
  };
  for (const o of ["axial", "coronal", "sagittal"] as Orientation[]) viewer.addView(panes[o], o);
  // NiiVue (WebGL2, ~1 MB) is loaded only when a 3D pane is first shown
  let r3d: Render3D | null = null;
  const show3d = async () => {
    if (!r3d) { const m = await import("../views/render-3d"); r3d = r3d ?? new m.Render3D(panes["3d"], viewer); }
    await r3d.init(); await r3d.refreshLabels();
  };
  let layout: Layout = "2x2";
  let saving = false;
  let single: Pane = "axial";

  const btn = (label: string, title: string, on: () => void, id?: string) => h("button", { type: "button", title, onclick: on, id }, label);
  const layoutBar = h("div", { class: "group", role: "group", "aria-label": "Layout" },
    ...(["1x1", "1x3", "2x2"] as Layout[]).map((l) => btn(l, `Layout ${l} (L cycles)`, () => setLayout(l), `layout-${l}`)),
    h("select", { id: "single-pane", "aria-label": "View shown in 1x1", onchange: (e: Event) => { single = (e.target as HTMLSelectElement).value as Pane; setLayout("1x1"); } },
      ...(["axial", "coronal", "sagittal", "3d"] as Pane[]).map((p) => h("option", { value: p }, p === "3d" ? "3D" : p))));
  const wlText = h("span", { class: "wl", id: "wl-text" });
  const windowBar = h("div", { class: "group", role: "group", "aria-label": "Window" },
    ...WINDOW_PRESETS.map((p, i) => btn(p.name, `W${p.width}/L${p.level} (W cycles)`, () => { viewer.presetIndex = i; viewer.setWindow(p.width, p.level); }, `preset-${p.name.toLowerCase()}`)), wlText);
  const toolDefs: [Tool, string, string][] = [["navigate", "Navigate", "N"], ["brush", "Brush", "B"], ["eraser", "Eraser", "E"],
    ["threshold", "Threshold brush", "T"], ["grow", "Region grow", "G"], ["box", "Erase in box", "X"]];
  const toolBtns = toolDefs.map(([t, name, key]) => btn(`${name} (${key})`, `${name} [${key}]`, () => setTool(t), `tool-${t}`));
  const labelSel = h("select", { id: "active-label", "aria-label": "Active label", onchange: (e: Event) => { viewer.activeLabel = Number((e.target as HTMLSelectElement).value); sync(); } });
  const radius = h("input", { type: "number", id: "brush-radius", min: 0.5, max: 50, step: 0.5, value: String(viewer.brushRadiusMm), "aria-label": "Brush radius in mm",
    onchange: (e: Event) => { viewer.brushRadiusMm = Math.max(0.5, Number((e.target as HTMLInputElement).value) || 5); sync(); } });
  const sphere = h("select", { id: "brush-mode", "aria-label": "2D or 3D", onchange: (e: Event) => { viewer.sphere = (e.target as HTMLSelectElement).value === "3d"; sync(); } },
    h("option", { value: "2d" }, "2D"), h("option", { value: "3d" }, "3D"));
  const huLo = h("input", { type: "number", id: "hu-lo", step: 10, "aria-label": "HU range low", onchange: () => { viewer.huRange = [Number(huLo.value), Number(huHi.value)]; } });
  const huHi = h("input", { type: "number", id: "hu-hi", step: 10, "aria-label": "HU range high", onchange: () => { viewer.huRange = [Number(huLo.value), Number(huHi.value)]; } });
  const huPresetBtns = Object.entries(HU_PRESETS).map(([name, r]) => btn(name, `HU ${r[0]}..${r[1]}`, () => { viewer.huRange = [...r]; sync(); }, `hu-${name.toLowerCase()}`));
  const undoBtn = btn("Undo", "Undo (Ctrl+Z)", () => doUndo(), "undo");
  const redoBtn = btn("Redo", "Redo (Ctrl+Y)", () => doRedo(), "redo");
  const islandMin = h("input", { type: "number", id: "island-min", min: 1, value: "100", step: 10, "aria-label": "Smallest island kept (mm³)" });
  const toolbar = h("div", { class: "toolbar" }, layoutBar, windowBar,
    h("div", { class: "group", role: "group", "aria-label": "Tools" }, ...toolBtns),
    h("div", { class: "group" }, h("label", {}, "Label ", labelSel), h("label", {}, "Radius mm ", radius), sphere),
    h("div", { class: "group", role: "group", "aria-label": "HU range" }, h("label", {}, "HU ", huLo, "..", huHi), ...huPresetBtns),
    h("div", { class: "group", role: "group", "aria-label": "Label operations" },
      btn("Fill between slices (F)", "Interpolate the active label across skipped slices along the active view", () => doFill(), "fill-between"),
      btn("Remove islands", "Remove islands of the active label smaller than the given size", () => doIslands(), "remove-islands"),
      h("label", {}, "< ", islandMin, " mm³"),
      btn("Smooth", "3x3x3 majority smoothing of the active label", () => doSmooth(), "smooth"), undoBtn, redoBtn),
    btn("?", "Keyboard shortcuts (?)", () => sheet.toggle(), "shortcuts-btn"));

  // legend + versions
  const legendBody = h("tbody");
  const opacity = h("input", { type: "range", min: 0, max: 1, step: 0.05, value: String(viewer.opacity), id: "opacity", "aria-label": "Label opacity",
    oninput: (e: Event) => { viewer.opacity = Number((e.target as HTMLInputElement).value); viewer.rebuildLuts(); } });
  const outline = h("input", { type: "checkbox", id: "outline", onchange: (e: Event) => { viewer.outline = (e.target as HTMLInputElement).checked; viewer.rebuildLuts(); } });
  const overlay = h("input", { type: "checkbox", id: "overlay", checked: true, onchange: (e: Event) => { viewer.overlayOn = (e.target as HTMLInputElement).checked; viewer.invalidate(); } });
  const diffInfo = h("div", { class: "diff-info", id: "diff-info" });
  const versionList = h("ul", { class: "versions", id: "versions" });
  const cursorInfo = h("div", { class: "cursor-info", id: "cursor-info" });
  const side = h("aside", { class: "side" },
    h("h2", {}, "Labels"), h("table", { class: "legend", id: "legend" }, legendBody),
    h("label", {}, "Opacity ", opacity), h("label", {}, outline, " Outline only"), h("label", {}, overlay, " Show labels (V)"),
    cursorInfo, h("h2", {}, "Versions"),
    h("div", {}, btn("Load newest AI proposal", "Load the newest AI version", () => loadNewestAi(), "load-ai")),
    diffInfo, versionList);
  const body = h("div", { class: "study-body" }, grid, side);
  app.append(h("div", { class: "study" }, header, toolbar, body));
  const sheet = shortcutSheet(app);

  function addReviewLink(): void {
    const p = project as ProjectPublic | null;
    if (!p || document.getElementById("review-link")) return;
    if (session.user.is_admin || p.my_role === "admin" || p.my_role === "reviewer")
      header.querySelector(".spacer")?.before(h("a", { href: `/studies/${sid}/review`, id: "review-link" }, "Review"));
  }

  function applySchema(): void {
    const schema = project?.label_schema?.length ? project.label_schema : [
      { value: 1, name: "lung", color: "#3c8dde" }, { value: 2, name: "ground-glass opacity", color: "#f2c12e" }, { value: 3, name: "consolidation", color: "#e0403a" }];
    for (const l of schema) viewer.labelColors[l.value] = l.color;
    labelSel.innerHTML = "";
    legendBody.innerHTML = "";
    for (const l of schema) {
      labelSel.append(h("option", { value: l.value, selected: l.value === viewer.activeLabel }, `${l.value} ${l.name}`));
      const vis = h("input", { type: "checkbox", checked: viewer.labelVisible[l.value], "aria-label": `Show ${l.name}`,
        onchange: (e: Event) => { viewer.labelVisible[l.value] = (e.target as HTMLInputElement).checked; viewer.invalidate(); } });
      legendBody.append(h("tr", { "data-label": l.value }, h("td", {}, vis), h("td", {}, h("span", { class: "swatch", style: `background:${l.color}` })),
        h("td", {}, `${l.value} ${l.name}`), h("td", { class: "num vol", "data-vol": l.value }, "")));
    }
    viewer.rebuildLuts(); updateLegend();
  }

  function updateLegend(): void {
    for (const td of Array.from(legendBody.querySelectorAll<HTMLElement>("td.vol"))) {
      const l = Number(td.dataset.vol);
      td.textContent = `${viewer.labels.volumeMl(l).toFixed(1)} mL`;
    }
  }

  function setLayout(l: Layout): void {
    layout = l;
    grid.className = `view-grid layout-${l}`;
    grid.innerHTML = "";
    const shown: Pane[] = l === "1x1" ? [single] : l === "1x3" ? ["axial", "coronal", "sagittal"] : ["axial", "coronal", "sagittal", "3d"];
    for (const p of shown) grid.append(panes[p]);
    (document.getElementById("single-pane") as HTMLSelectElement).value = single;
    for (const b of layoutBar.querySelectorAll("button")) b.classList.toggle("on", b.id === `layout-${l}`);
    for (const v of viewer.views) v.resize();
    if (shown.includes("3d")) void show3d();
    if (l === "1x1" && single !== "3d") viewer.activeView = viewer.view(single as Orientation) ?? viewer.activeView;
    viewer.invalidate();
  }

  function setTool(t: Tool): void { viewer.tool = t; sync(); }

  function sync(): void {
    for (const [i, [t]] of toolDefs.entries()) toolBtns[i].classList.toggle("on", viewer.tool === t);
    labelSel.value = String(viewer.activeLabel);
    radius.value = String(viewer.brushRadiusMm);
    sphere.value = viewer.sphere ? "3d" : "2d";
    huLo.value = String(viewer.huRange[0]); huHi.value = String(viewer.huRange[1]);
    wlText.textContent = `W ${viewer.windowWidth} / L ${viewer.windowLevel}`;
    undoBtn.disabled = !labels.canUndo; redoBtn.disabled = !labels.canRedo;
    const dirty = labels.revision !== savedRevision;
    saveBtn.textContent = dirty ? "Save*" : "Save";
    baseInfo.textContent = baseVersionId ? `editing on version ${baseVersionId}` : "no saved version yet";
    updateLegend();
    viewer.invalidate();
  }
  viewer.onChange.push(sync);
  labels.listeners.push(() => { updateLegend(); });
  viewer.onHover.push(() => {
    const v = viewer.hover;
    if (!v) { cursorInfo.textContent = ""; return; }
    const i = ct.index(v[0], v[1], v[2]);
    cursorInfo.textContent = `x ${v[0]} y ${v[1]} z ${v[2]} (slice ${v[2] + 1}/${g.nz}) · ${ct.hu[i]} HU · label ${labels.data[i]}`;
  });

  // ---------- actions ----------
  const say = (t: string) => { msg.textContent = t; };
  function doUndo() { if (labels.undo()) say("Undone."); sync(); }
  function doRedo() { if (labels.redo()) say("Redone."); sync(); }
  function activePlane() { return (viewer.activeView ?? viewer.views[0]).plane; }
  function doFill() {
    labels.begin("fill between slices");
    const n = fillBetweenSlices(labels, activePlane(), viewer.activeLabel);
    const changed = labels.commit(); say(`Filled ${n} slice(s), ${changed} voxels.`); sync();
  }
  function doIslands() {
    const minVox = Math.max(1, Math.round(Number(islandMin.value) / (g.sx * g.sy * g.sz)));
    labels.begin("remove islands");
    const n = removeSmallIslands(labels, viewer.activeLabel, minVox);
    labels.commit(); say(`Removed ${n} island(s).`); sync();
  }
  function doSmooth() { labels.begin("smooth"); smoothLabel(labels, viewer.activeLabel); const n = labels.commit(); say(`Smoothed: ${n} voxels changed.`); sync(); }

  async function save(force = false): Promise<void> {
    saveBtn.disabled = true; saving = true;
    const ts = performance.now();
    try {
      // only the changed slices when the server's copy of the base is known and few changed
      const zs = !force && reviewCopyOf === null && baseVersionId !== null && baseData ? changedSlices(g, baseData, labels.data) : null;
      const delta = zs !== null && zs.length > 0 && zs.length <= g.nz / 2 ? zs : null;
      const sent = delta ? copySlices(g, labels.data, delta) : labels.data.slice();
      const gz = await gzipBytes(sent);
      (dbg.timings as Record<string, number>).saveGzip = performance.now() - ts;
      dbg.lastSave = { slices: delta ? delta.length : g.nz, bytes: gz.size, changed: zs ? zs.length : null, base: baseData !== null };
      const fd = new FormData();
      fd.append("file", new File([gz], delta ? "slices.raw.gz" : "labels.raw.gz", { type: "application/gzip" }));
      fd.append("format", delta ? "slices" : "raw");
      if (delta) fd.append("slices", delta.join(","));
      fd.append("base_version_id", baseVersionId === null ? "" : String(baseVersionId));
      fd.append("message", force ? "kept over a newer version" : "");
      const rev = labels.revision;
      if (reviewCopyOf !== null) { fd.set("base_version_id", String(reviewCopyOf)); fd.append("approve", approveCopy.checked ? "true" : "false"); fd.set("message", `review copy of v${reviewCopyOf}`); }
      const v: VersionPublic = await (await request("POST", reviewCopyOf !== null ? `/api/studies/${sid}/review-copies` : `/api/studies/${sid}/versions`, fd)).json();
      const wasCopy = reviewCopyOf !== null;
      if (wasCopy) { reviewCopyOf = null; copyBar.remove(); }
      baseVersionId = v.id; savedRevision = rev;
      if (delta && baseData) { const plane = g.nx * g.ny; delta.forEach((z, k) => baseData!.set(sent.subarray(k * plane, (k + 1) * plane), z * plane)); }
      else baseData = sent;
      (dbg.timings as Record<string, number>).save = performance.now() - ts;
      say(wasCopy ? `Saved review copy v${v.id}${approveCopy.checked ? " and approved it" : ""}.` : `Saved version ${v.id}.`);
      await deleteDraft(draftKey(session.user.username, sid)).catch(() => null);
      await refreshVersions();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && typeof e.detail === "object" && e.detail && "assignment_state" in e.detail) say(e.message);
      else if (e instanceof ApiError && e.status === 409) conflictDialog(e);
      else say(`Save failed: ${(e as Error).message}`);
    } finally { saveBtn.disabled = false; saving = false; sync(); }
  }
  saveBtn.addEventListener("click", () => void save());

  function conflictDialog(e: ApiError): void {
    const d = e.detail as { message?: string; latest_version_id?: number } | string;
    const latest = typeof d === "object" ? d.latest_version_id ?? null : null;
    const dlg = h("dialog", { class: "conflict", id: "conflict-dialog" },
      h("h2", {}, "Someone saved a newer version"),
      h("p", {}, `${typeof d === "object" ? d.message ?? "" : d} You edited on version ${baseVersionId ?? "none"}; the newest is version ${latest ?? "?"}.`),
      h("p", {}, "Keep mine saves your labels as the newest version (the other version stays in the history). Reload discards your changes and loads the newest version."),
      h("div", { class: "buttons" },
        h("button", { class: "primary", id: "conflict-keep", onclick: async () => { dlg.close(); dlg.remove(); baseVersionId = latest; await save(true); } }, "Keep mine as a new version"),
        h("button", { id: "conflict-reload", onclick: async () => { dlg.close(); dlg.remove(); if (latest) await loadVersion(latest, true); } }, "Reload the newest version"),
        h("button", { id: "conflict-cancel", onclick: () => { dlg.close(); dlg.remove(); } }, "Cancel")));
    document.body.append(dlg); dlg.showModal();
  }

  async function loadVersion(vid: number, discard = false): Promise<void> {
    if (!discard && labels.revision !== savedRevision && !confirm("Discard unsaved changes and load this version?")) return;
    say(`Loading version ${vid}…`);
    const lab = await fetchNifti(`/api/versions/${vid}/labels.nii.gz`);
    labels.replace(lab.data instanceof Uint8Array ? lab.data : Uint8Array.from(lab.data as Int16Array));
    baseData = labels.data.slice();
    baseVersionId = vid; savedRevision = labels.revision; viewer.diffRef = null; diffInfo.textContent = "";
    say(`Loaded version ${vid}.`); sync(); void r3d?.refreshLabels();
  }
  async function loadNewestAi(): Promise<void> {
    const v = versions.find((x) => x.kind === "ai");
    if (!v) { say("No AI proposal for this study yet."); return; }
    await loadVersion(v.id);
  }
  async function showDiff(vid: number): Promise<void> {
    const lab = await fetchNifti(`/api/versions/${vid}/labels.nii.gz`);
    const ref = lab.data as Uint8Array;
    let n = 0; for (let i = 0; i < ref.length; i++) if (ref[i] !== labels.data[i]) n++;
    viewer.diffRef = ref;
    diffInfo.innerHTML = "";
    diffInfo.append(h("span", {}, `Diff vs version ${vid}: ${n.toLocaleString()} voxels differ (magenta). `),
      btn("Clear diff", "Hide the diff overlay", () => { viewer.diffRef = null; diffInfo.textContent = ""; viewer.invalidate(); }, "clear-diff"));
    viewer.invalidate();
  }
  async function refreshVersions(): Promise<void> {
    versions = (await api.versions(sid)).data;
    versionList.innerHTML = "";
    versions.forEach((v, k) => {
      const prev = versions[k + 1];
      const delta = ["1", "2", "3"].map((l) => (v.voxel_counts?.[l] ?? 0) - (prev?.voxel_counts?.[l] ?? 0));
      versionList.append(h("li", { "data-version": v.id, class: v.id === baseVersionId ? "current" : "" },
        h("div", {}, h("strong", {}, `v${v.id}`), ` ${v.kind}${v.model_name ? ` (${v.model_name})` : ""} · ${v.author ?? "—"}`),
        h("div", { class: "muted" }, `${fmtTime(v.created_at)} · Δ voxels ${delta.map((d, i) => `${i + 1}:${d >= 0 ? "+" : ""}${d}`).join(" ")}`),
        v.message ? h("div", { class: "muted" }, v.message) : null,
        h("div", {}, btn("Load", "Load this version and edit on top of it", () => void loadVersion(v.id)),
          btn("Diff", "Overlay the voxels where this version differs from the labels on screen", () => void showDiff(v.id)))));
    });
    if (versions.length === 0) versionList.append(h("li", { class: "muted" }, "No versions yet."));
  }

  // ---------- keyboard ----------
  const onKey = (e: KeyboardEvent) => {
    const t = e.target as HTMLElement;
    if (document.querySelector("dialog[open]") && e.key !== "Escape") return;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA") && e.key !== "Escape") return;
    const k = e.key, ctrl = e.ctrlKey || e.metaKey;
    const av = viewer.activeView ?? viewer.views[0];
    let handled = true;
    if (ctrl && (k === "z" || k === "Z") && !e.shiftKey) doUndo();
    else if (ctrl && (k === "y" || k === "Y" || ((k === "z" || k === "Z") && e.shiftKey))) doRedo();
    else if (ctrl && (k === "s" || k === "S")) void save();
    else if (ctrl) handled = false;
    else if (k === "1" || k === "2" || k === "3") { viewer.activeLabel = Number(k); sync(); }
    else if (k === "b" || k === "B") setTool("brush");
    else if (k === "e" || k === "E") setTool("eraser");
    else if (k === "t" || k === "T") setTool("threshold");
    else if (k === "g" || k === "G") setTool("grow");
    else if (k === "x" || k === "X") setTool("box");
    else if (k === "n" || k === "N" || k === "Escape") { setTool("navigate"); sheet.close(); }
    else if (k === "w" || k === "W") viewer.cyclePreset();
    else if (k === "[") { viewer.brushRadiusMm = Math.max(0.5, viewer.brushRadiusMm - 1); sync(); }
    else if (k === "]") { viewer.brushRadiusMm = Math.min(50, viewer.brushRadiusMm + 1); sync(); }
    else if (k === "?") sheet.toggle();
    else if (k === "ArrowUp" || k === "ArrowRight") viewer.scroll(av, 1);
    else if (k === "ArrowDown" || k === "ArrowLeft") viewer.scroll(av, -1);
    else if (k === "PageUp") viewer.scroll(av, 5);
    else if (k === "PageDown") viewer.scroll(av, -5);
    else if (k === "Home") viewer.scroll(av, -1e6);
    else if (k === "End") viewer.scroll(av, 1e6);
    else if (k === "f" || k === "F") doFill();
    else if (k === "o" || k === "O") { viewer.outline = !viewer.outline; outline.checked = viewer.outline; viewer.rebuildLuts(); }
    else if (k === "v" || k === "V") { viewer.overlayOn = !viewer.overlayOn; overlay.checked = viewer.overlayOn; viewer.invalidate(); }
    else if (k === "l" || k === "L") setLayout(layout === "1x1" ? "1x3" : layout === "1x3" ? "2x2" : "1x1");
    else if (k === "+" || k === "=") { av.zoom *= 1.25; viewer.invalidate(); av.dirty = true; }
    else if (k === "-") { av.zoom /= 1.25; av.dirty = true; viewer.invalidate(); }
    else if (k === "r" || k === "R") { av.zoom = 1; av.pan = [0, 0]; av.dirty = true; viewer.invalidate(); }
    else handled = false;
    if (handled) e.preventDefault();
  };
  document.addEventListener("keydown", onKey);
  const onResize = () => { for (const v of viewer.views) v.resize(); viewer.invalidate(); };
  window.addEventListener("resize", onResize);
  const onUnload = (e: BeforeUnloadEvent) => { if (labels.revision !== savedRevision) { e.preventDefault(); } };
  window.addEventListener("beforeunload", onUnload);

  // ---------- autosave + 3D refresh (both wait until edits settle and never run during a save) ----------
  let draftRevision = labels.revision;
  let lastEditAt = 0;
  labels.listeners.push(() => { lastEditAt = performance.now(); });
  const settled = () => !saving && performance.now() - lastEditAt > 1500;
  const dKey = draftKey(session.user.username, sid);
  const autosave = window.setInterval(async () => {
    if (labels.revision === draftRevision || labels.revision === savedRevision || !settled()) return;
    draftRevision = labels.revision;
    try { await saveDraft({ key: dKey, baseVersionId, savedAt: Date.now(), labels: await gzipBytes(labels.data), revision: draftRevision }); }
    catch { /* storage full or unavailable: keep working */ }
  }, 5000);
  const refresh3d = window.setInterval(() => { if (r3d && settled() && (layout === "2x2" || (layout === "1x1" && single === "3d"))) void r3d.refreshLabels(); }, 2000);

  (dbg.timings as Record<string, number>).beforeStart = performance.now() - t0;
  // ---------- start ----------
  const askedLayout = new URLSearchParams(location.search).get("layout");
  setLayout(askedLayout === "1x1" || askedLayout === "1x3" || askedLayout === "2x2" ? askedLayout : window.innerWidth < 1000 ? "1x1" : "2x2");
  (dbg.timings as Record<string, number>).afterLayout = performance.now() - t0;
  applySchema();
  addReviewLink();
  setTool("navigate");
  viewer.setWindow(WINDOW_PRESETS[0].width, WINDOW_PRESETS[0].level);
  viewer.renderNow();
  (dbg.timings as Record<string, number>).firstSlice = performance.now() - t0;
  dbg.ready = true;
  void refreshVersions();
  sync();

  // ---------- review copy ("edit a copy and approve", reviewers) ----------
  let reviewCopyOf: number | null = null;
  const approveCopy = h("input", { type: "checkbox", id: "approve-copy", checked: true });
  const copyBar = h("div", { class: "draft-banner", id: "review-copy-bar" });
  const askedCopy = Number(new URLSearchParams(location.search).get("review_copy_of"));
  if (askedCopy) {
    await loadVersion(askedCopy, true);
    reviewCopyOf = askedCopy;
    copyBar.append(`Editing a review copy of version ${askedCopy}. Save stores it as your copy. `, h("label", {}, approveCopy, " and approve it"), " ",
      h("a", { href: `/studies/${sid}/review` }, "Back to review"));
    header.after(copyBar);
  }

  // ---------- reader's assignment: start, active-time heartbeats, submit, comments ----------
  const assignBox = h("div", { id: "assignment-box" });
  const replyIn = h("input", { id: "reply-text", placeholder: "Reply to the reviewer", "aria-label": "Reply to the reviewer" });
  side.prepend(assignBox);
  let assignment: AssignmentDetail | null = null;
  let lastInput = performance.now(), activeMs = 0, lastTick = performance.now();
  const markActive = () => { lastInput = performance.now(); };
  for (const ev of ["pointermove", "pointerdown", "keydown", "wheel"]) document.addEventListener(ev, markActive, { passive: true });
  const ticker = window.setInterval(() => {
    const now = performance.now();
    if (assignment && !document.hidden && document.hasFocus() && now - lastInput < 30000) activeMs += now - lastTick;
    lastTick = now;
  }, 1000);
  const sendHeartbeat = async () => {
    if (!assignment || !["assigned", "in_progress", "returned"].includes(assignment.state) || activeMs < 1000) return;
    const seconds = Math.round(activeMs / 1000); activeMs -= seconds * 1000;
    try {
      const r = await sendJson<{ active_seconds: number }>("POST", `/api/assignments/${assignment.id}/heartbeat`, { seconds });
      assignment.active_seconds = r.active_seconds; dbg.activeSeconds = r.active_seconds; renderAssignment();
    } catch { /* submitted meanwhile or offline: drop this beat */ }
  };
  const heartbeat = window.setInterval(() => void sendHeartbeat(), 30000);
  const onHidden = () => { if (document.hidden) void sendHeartbeat(); };
  document.addEventListener("visibilitychange", onHidden);
  dbg.heartbeat = sendHeartbeat;
  function renderAssignment(): void {
    assignBox.innerHTML = "";
    if (!assignment) return;
    const a = assignment;
    const editable = ["assigned", "in_progress", "returned"].includes(a.state);
    assignBox.append(h("h2", {}, "My assignment"),
      h("div", {}, h("span", { class: `badge st-${a.state}`, id: "assignment-state" }, a.state.replace("_", " ")),
        ` · active ${Math.round(a.active_seconds / 60)} min · started from ${a.start_from ?? "—"}`),
      editable ? h("button", { class: "primary", id: "submit-assignment", onclick: () => void submit() }, "Submit for review") :
        h("div", { class: "muted" }, a.state === "submitted" ? `Submitted version ${a.submitted_version_id}; frozen until a reviewer decides.` : "Approved."),
      h("ul", { class: "comments", id: "assignment-comments" },
        ...a.decisions.map((d) => h("li", { class: `decision ${d.decision}` }, h("span", { class: `badge st-${d.decision === "approve" ? "approved" : "returned"}` }, d.decision === "approve" ? "approved" : "returned"),
          ` by ${d.reviewer}${d.comment ? `: ${d.comment}` : ""}`)),
        ...a.comments.map((c) => h("li", { class: "comment" }, h("strong", {}, c.author), `: ${c.text}`,
          c.slice_index !== null ? h("button", { class: "link", onclick: () => { const v = viewer.view("axial"); if (v) { viewer.scroll(v, c.slice_index! - viewer.cursor[2]); } } }, ` → slice ${c.slice_index}${c.position ? ` (${c.position.join(", ")})` : ""}`) : null))),
      a.comments.length || a.decisions.length ? h("div", { class: "reply" }, replyIn, h("button", { id: "reply-btn", onclick: async () => {
        if (!replyIn.value.trim()) return;
        try {
          await sendJson("POST", `/api/studies/${sid}/comments`, { text: replyIn.value.trim(), assignment_id: a.id });
          replyIn.value = ""; assignment = await getJson<AssignmentDetail>(`/api/assignments/${a.id}`); renderAssignment();
        } catch (e) { say((e as Error).message); }
      } }, "Reply")) : "");
  }
  async function submit(): Promise<void> {
    if (!assignment) return;
    if (labels.revision !== savedRevision || baseVersionId === null) await save();
    try {
      const a = await sendJson<AssignmentOut>("POST", `/api/assignments/${assignment.id}/submit`, {});
      assignment = { ...assignment, ...a }; say("Submitted for review."); renderAssignment();
    } catch (e) { say(`Submit failed: ${(e as Error).message}`); }
  }
  try {
    const mine = (await getJson<List<AssignmentOut>>("/api/me/assignments")).data.filter((a) => a.study_id === sid);
    const open = mine.find((a) => a.state !== "approved") ?? mine[0];
    if (open) {
      let a: AssignmentOut = open;
      const fresh = a.state === "assigned";
      if (fresh) a = await sendJson<AssignmentOut>("POST", `/api/assignments/${a.id}/start`, {});
      assignment = await getJson<AssignmentDetail>(`/api/assignments/${a.id}`);
      dbg.assignment = assignment;
      if (fresh && assignment.start_from === "empty" && labels.counts.some((n, i) => i > 0 && n > 0)) {
        labels.replace(new Uint8Array(labels.data.length)); baseData = null; savedRevision = labels.revision; say("Starting from an empty label map (project setting)."); sync();
      }
      renderAssignment();
    }
  } catch { /* no assignments API or none: plain editing */ }
  loadDraft(dKey).then((d) => {
    if (!d) return;
    const bar = h("div", { class: "draft-banner", id: "draft-banner", role: "alert" },
      `A local draft from ${new Date(d.savedAt).toLocaleString()} (on version ${d.baseVersionId ?? "none"}) was not saved. `,
      btn("Restore draft", "Load the autosaved draft", async () => {
        const raw = new Uint8Array(await maybeGunzip(await d.labels.arrayBuffer()));
        if (raw.length === labels.data.length) {
          labels.begin("restore draft");
          for (let i = 0; i < raw.length; i++) if (raw[i] !== labels.data[i]) labels.set(i, raw[i]);
          labels.commit(); if (baseVersionId !== d.baseVersionId) baseData = null; baseVersionId = d.baseVersionId; say("Draft restored."); sync();
        }
        bar.remove();
      }, "restore-draft"),
      btn("Discard", "Delete the draft", () => { void deleteDraft(dKey); bar.remove(); }, "discard-draft"));
    header.after(bar);
  }).catch(() => null);

  return () => {
    document.removeEventListener("keydown", onKey);
    window.removeEventListener("resize", onResize);
    window.removeEventListener("beforeunload", onUnload);
    void sendHeartbeat();
    for (const ev of ["pointermove", "pointerdown", "keydown", "wheel"]) document.removeEventListener(ev, markActive);
    document.removeEventListener("visibilitychange", onHidden);
    clearInterval(ticker); clearInterval(heartbeat);
    clearInterval(autosave); clearInterval(refresh3d); r3d?.dispose(); sheet.close();
  };
}
