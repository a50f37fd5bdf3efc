/** The review screen: submitted readings side by side or overlaid, disagreement map, approve / return / consensus. */
import * as api from "../../core/api";
import type { ReviewOut, Session, StudyPublic, VersionPublic } from "../../core/types";
import { errorCard, fmtTime, h, link, sayIn } from "../../ui/dom";
import { DEFAULT_LABEL_SCHEMA, fmtSeconds, READER_COLORS } from "../../ui/labels";
import type { Cleanup } from "../../ui/page";
import { loadAgreement, loadHistory } from "./review-panels";

interface Layer { name: string; color: string; versionId: number; data: Uint8Array }

export async function reviewPage(app: HTMLElement, s: Session, sid: number): Promise<Cleanup> {
  const loading = h("div", { class: "loading" }, "Loading review…");
  app.append(loading);
  let study: StudyPublic; let review: ReviewOut;
  try { [study, review] = await Promise.all([api.study(sid), api.review(sid)]); } catch (e) {
    loading.remove(); app.append(errorCard(e)); return () => {};
  }
  const project = await api.project(study.project_id);
  const dbg: Record<string, unknown> = { ready: false };
  (window as unknown as { __review: unknown }).__review = dbg;
  const colors = Object.fromEntries((project.label_schema?.length ? project.label_schema : DEFAULT_LABEL_SCHEMA).map((l) => [l.value, l.color])) as Record<number, string>;
  loading.textContent = "Loading CT and label maps…";
  const nii = await api.studyVolume(sid);
  loading.remove();
  const [nx, ny, nz] = nii.dims;
  const ct = nii.data as Int16Array;
  let layers: Layer[] = [];
  let disagreement: Uint8Array | null = null;
  let z = Math.floor(nz / 2);
  let mode: "side" | "overlay" = "side";
  let showDis = true;
  let anchor: { slice_index: number; position: [number, number] } | null = null;

  const msg = h("span", { class: "msg", id: "review-msg", "aria-live": "polite" });
  const say = sayIn(msg);
  const readersBody = h("tbody");
  const othersList = h("ul", { class: "versions", id: "other-versions" });
  const commentsList = h("ul", { class: "comments", id: "review-comments" });
  const agreementBox = h("div", { id: "agreement" }, h("span", { class: "spinner" }), " Computing agreement (first time can take ~30 s)…");
  const disInfo = h("span", { class: "muted", id: "disagreement-info" });
  const views = h("div", { class: "review-views", id: "review-views" });
  const sliceIn = h("input", { type: "range", min: 0, max: nz - 1, value: String(z), id: "review-slice", "aria-label": "Slice" });
  const sliceText = h("span", { class: "wl", id: "review-slice-text" });
  const anchorText = h("span", { class: "muted", id: "anchor-text" }, "Click an image to anchor a note to slice + position.");
  const returnText = h("textarea", { id: "return-comment", rows: 2, placeholder: "Why is it returned? (required)", "aria-label": "Return comment" });
  const noteText = h("input", { id: "anchor-note", placeholder: "Note at the anchored position", "aria-label": "Anchored note" });
  const returnTarget = h("select", { id: "return-target", "aria-label": "Reader to return to" });
  const finalInfo = h("div", { id: "final-info" });
  const historyBox = h("div", { id: "history" }, h("span", { class: "spinner" }), " Loading history…");
  function rgb(hex: string): [number, number, number] { const n = parseInt(hex.slice(1), 16); return [(n >> 16) & 255, (n >> 8) & 255, n & 255]; }
  function drawCt(img: ImageData): void {
    const lo = -600 - 750, w = 1500, o = z * nx * ny;
    for (let i = 0; i < nx * ny; i++) { const v = Math.max(0, Math.min(255, ((ct[o + i] - lo) / w) * 255)); img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v; img.data[4 * i + 3] = 255; }
  }
  function blend(img: ImageData, i: number, c: [number, number, number], a: number): void {
    img.data[4 * i] = img.data[4 * i] * (1 - a) + c[0] * a; img.data[4 * i + 1] = img.data[4 * i + 1] * (1 - a) + c[1] * a; img.data[4 * i + 2] = img.data[4 * i + 2] * (1 - a) + c[2] * a;
  }
  function edge(d: Uint8Array, o: number, i: number, test: (v: number) => boolean): boolean {
    if (!test(d[o + i])) return false;
    const x = i % nx, y = (i / nx) | 0;
    return x === 0 || y === 0 || x === nx - 1 || y === ny - 1 || !test(d[o + i - 1]) || !test(d[o + i + 1]) || !test(d[o + i - nx]) || !test(d[o + i + nx]);
  }
  function makeCanvas(title: string, color: string, paint: (img: ImageData) => void, key: string): HTMLElement {
    const c = h("canvas", { width: nx, height: ny, class: "review-canvas", "data-layer": key, style: `border-color:${color}` });
    const ctx = c.getContext("2d")!;
    const img = ctx.createImageData(nx, ny);
    drawCt(img); paint(img);
    ctx.putImageData(img, 0, 0);
    if (anchor && anchor.slice_index === z) { ctx.strokeStyle = "#ffcc33"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(anchor.position[0], anchor.position[1], 8, 0, 7); ctx.stroke(); }
    for (const cm of review.comments) if (cm.slice_index === z && cm.position) { ctx.fillStyle = "#ffcc33"; ctx.fillRect(cm.position[0] - 3, cm.position[1] - 3, 6, 6); }
    c.addEventListener("click", (e) => {
      const r = c.getBoundingClientRect();
      const x = Math.floor(((e.clientX - r.left) / r.width) * nx), y = Math.floor(((e.clientY - r.top) / r.height) * ny);
      anchor = { slice_index: z, position: [Math.max(0, Math.min(nx - 1, x)), Math.max(0, Math.min(ny - 1, y))] };
      anchorText.textContent = `Anchor: slice ${z} at x ${anchor.position[0]}, y ${anchor.position[1]}`;
      render();
    });
    return h("figure", { class: "review-fig" }, h("figcaption", {}, h("span", { class: "swatch", style: `background:${color}` }), ` ${title}`), c);
  }
  function render(): void {
    sliceText.textContent = `slice ${z} / ${nz - 1}`;
    views.innerHTML = "";
    const o = z * nx * ny;
    const dis = (img: ImageData) => { if (showDis && disagreement) for (let i = 0; i < nx * ny; i++) if (disagreement[o + i]) blend(img, i, [255, 0, 255], 0.75); };
    if (mode === "side") {
      for (const l of layers) views.append(makeCanvas(`${l.name} (v${l.versionId})`, l.color, (img) => {
        for (let i = 0; i < nx * ny; i++) { const v = l.data[o + i]; if (v) blend(img, i, rgb(colors[v] ?? "#ffffff"), v === 1 ? 0.25 : 0.5); }
        dis(img);
      }, `v${l.versionId}`));
    } else {
      views.append(makeCanvas("overlay: infection outlines per reader" + (showDis ? ", disagreement in magenta" : ""), "#ff00ff", (img) => {
        dis(img);
        for (const l of layers) { const c = rgb(l.color); for (let i = 0; i < nx * ny; i++) if (edge(l.data, o, i, (v) => v >= 2)) blend(img, i, c, 1); }
      }, "overlay"));
    }
    dbg.z = z;
  }
  sliceIn.addEventListener("input", () => { z = Number(sliceIn.value); render(); });
  views.addEventListener("wheel", (e) => { e.preventDefault(); z = Math.max(0, Math.min(nz - 1, z + (e.deltaY > 0 ? -1 : 1))); sliceIn.value = String(z); render(); }, { passive: false });

  const volCell = (v: VersionPublic, l: string) => h("td", { class: "num" }, `${(v.volumes_ml?.[l] ?? 0).toFixed(1)}`);
  // "Lung" is the whole lung everywhere (labels 1-3), as in the report, the CLI and the SEG
  const lungCell = (v: VersionPublic) => h("td", { class: "num" }, `${["1", "2", "3"].reduce((t, l) => t + (v.volumes_ml?.[l] ?? 0), 0).toFixed(1)}`);
  const me = s.user.username;
  async function approve(vid: number, comment = ""): Promise<void> {
    try { await api.approve(sid, vid, comment); say(`Approved version ${vid}.`); await reload(); }
    catch (e) { say((e as Error).message, true); }
  }
  async function consensus(method: "staple" | "majority"): Promise<void> {
    say(`Building ${method.toUpperCase()} consensus…`);
    try {
      const r = await api.buildConsensus(sid, method, `${method} consensus of ${layers.length} readers`);
      say(`${method === "staple" ? "STAPLE" : "Majority"} consensus saved as version ${r.version.id}.`); await reload();
    } catch (e) { say((e as Error).message, true); }
  }
  async function doReturn(): Promise<void> {
    const aid = Number(returnTarget.value);
    if (!returnText.value.trim()) { say("A return needs a comment.", true); return; }
    const anchors = anchor && noteText.value.trim() ? [{ text: noteText.value.trim(), ...anchor }] : [];
    try {
      await api.returnAssignment(aid, returnText.value.trim(), anchors);
      say("Returned to the reader with comments."); returnText.value = ""; noteText.value = ""; await reload();
    } catch (e) { say((e as Error).message, true); }
  }

  async function loadLayers(): Promise<void> {
    const want = review.readers.map((r, i) => ({ name: r.username, color: READER_COLORS[i % READER_COLORS.length], versionId: r.version.id }));
    const have = new Map(layers.map((l) => [l.versionId, l]));
    layers = await Promise.all(want.map(async (w) => have.get(w.versionId) ?? { ...w, data: (await api.versionLabels(w.versionId)).data as Uint8Array }));
    if (layers.length >= 2) {
      try {
        const dis = await api.disagreement(sid);
        const n = dis.voxels;
        disagreement = dis.data;
        disInfo.textContent = `Disagreement map: ${n.toLocaleString()} voxels where readers differ (magenta).`;
        dbg.disagreementVoxels = n;
        // jump to the slice with the most disagreement
        let best = -1, bz = z;
        for (let k = 0; k < nz; k++) { let c = 0; const o = k * nx * ny; for (let i = 0; i < nx * ny; i++) if (disagreement[o + i]) c++; if (c > best) { best = c; bz = k; } }
        if (best > 0) { z = bz; sliceIn.value = String(z); }
      } catch (e) { disInfo.textContent = `Disagreement map unavailable: ${(e as Error).message}`; }
    } else disInfo.textContent = "The disagreement map needs at least two submitted readings.";
    render();
  }

  function fillTables(): void {
    readersBody.innerHTML = "";
    returnTarget.innerHTML = "";
    review.readers.forEach((r, i) => {
      const color = READER_COLORS[i % READER_COLORS.length];
      readersBody.append(h("tr", { "data-reader": r.username, "data-version": r.version.id },
        h("td", {}, h("span", { class: "swatch", style: `background:${color}` }), ` ${r.username}`,
          r.username === me ? h("div", { class: "muted same-person" }, "you: reader and reviewer are the same person") : null),
        h("td", {}, h("span", { class: `badge st-${r.state}` }, r.state)), h("td", {}, `v${r.version.id}`),
        lungCell(r.version), volCell(r.version, "2"), volCell(r.version, "3"),
        h("td", { class: "num" }, fmtSeconds(r.active_seconds)), h("td", {}, r.start_from ?? ""),
        h("td", {}, h("button", { class: "approve-reader", onclick: () => approve(r.version.id) }, "Approve"), " ",
          link(`/studies/${sid}?review_copy_of=${r.version.id}`, "Edit a copy", { class: "edit-copy" }))));
      if (r.state === "submitted") returnTarget.append(h("option", { value: r.assignment_id }, r.username));
    });
    if (!review.readers.length) readersBody.append(h("tr", { id: "no-readings" }, h("td", { colspan: 9, class: "muted" }, "No submitted readings yet. Working alone? ",
      link(`/studies/${sid}`, "Open the study"), ", save your label map and click “Submit for review”; then approve it here.")));
    othersList.innerHTML = "";
    for (const v of review.other_versions) {
      const cons = (v as unknown as { details?: { consensus?: { method?: string } } }).details?.consensus;
      othersList.append(h("li", { "data-version": v.id, "data-kind": v.kind, class: v.id === review.final_version_id ? "current" : "" },
        h("strong", {}, `v${v.id} ${v.kind}`), ` ${v.message ?? ""} · ${v.author ?? ""} · ${fmtTime(v.created_at)}${cons?.method ? ` (${cons.method})` : ""}`,
        h("div", { class: "muted" }, `lung ${(v.volumes_ml?.["1"] ?? 0).toFixed(1)} · GGO ${(v.volumes_ml?.["2"] ?? 0).toFixed(1)} · consolidation ${(v.volumes_ml?.["3"] ?? 0).toFixed(1)} mL`),
        h("div", {}, h("button", { class: "approve-other", onclick: () => approve(v.id) }, v.id === review.final_version_id ? "Approved ✓ (approve again)" : "Approve this"),
          " ", link(`/studies/${sid}?review_copy_of=${v.id}`, "Edit a copy"))));
    }
    if (!review.other_versions.length) othersList.append(h("li", { class: "muted" }, "No consensus or review copies yet."));
    commentsList.innerHTML = "";
    const items = [...review.comments.map((c) => ({ at: c.created_at, el: h("li", { class: "comment" }, h("strong", {}, c.author), ": ", c.text,
      c.slice_index !== null ? h("button", { class: "link", onclick: () => { z = c.slice_index!; sliceIn.value = String(z); render(); } }, ` (slice ${c.slice_index}${c.position ? ` @ ${c.position.join(", ")}` : ""})`) : null,
      h("span", { class: "muted" }, ` · ${fmtTime(c.created_at)}`)) })),
    ...review.decisions.map((d) => ({ at: d.created_at, el: h("li", { class: `decision ${d.decision}` }, h("span", { class: `badge st-${d.decision === "approve" ? "approved" : "returned"}` }, d.decision), ` v${d.version_id} by ${d.reviewer}${d.same_person ? " (reader and reviewer: the same person)" : ""}${d.comment ? `: ${d.comment}` : ""}`, h("span", { class: "muted" }, ` · ${fmtTime(d.created_at)}`)) }))]
      .sort((a, b) => a.at.localeCompare(b.at));
    for (const i of items) commentsList.append(i.el);
    if (!items.length) commentsList.append(h("li", { class: "muted" }, "No comments or decisions yet."));
    finalInfo.textContent = review.final_version_id ? `Approved: version ${review.final_version_id}` : "Not approved yet.";
    finalInfo.className = review.final_version_id ? "badge st-approved" : "muted";
  }

  async function reload(): Promise<void> {
    review = await api.review(sid);
    dbg.review = review;
    fillTables(); void loadHistory(sid, historyBox); await loadLayers();
  }

  const modeSel = h("select", { id: "review-mode", "aria-label": "Display", onchange: (e: Event) => { mode = (e.target as HTMLSelectElement).value as "side" | "overlay"; render(); } },
    h("option", { value: "side" }, "Side by side"), h("option", { value: "overlay" }, "Overlay (reader colours)"));
  const disToggle = h("input", { type: "checkbox", id: "show-disagreement", checked: true, onchange: (e: Event) => { showDis = (e.target as HTMLInputElement).checked; render(); } });
  app.append(h("section", { class: "card review", id: "review-page" },
    h("div", { class: "study-header" }, h("h1", {}, `Review: ${review.study_name}`), finalInfo, h("span", { class: "spacer" }),
      link(`/projects/${study.project_id}/board`, "Assignment board"), " ", link(`/studies/${sid}`, "Open in the viewer")),
    h("div", { class: "review-grid" },
      h("div", {},
        h("div", { class: "filters" }, modeSel, h("label", {}, disToggle, " Disagreement map"), sliceIn, sliceText), disInfo, views, anchorText),
      h("div", { class: "review-side" },
        h("h2", {}, "Submitted readings"),
        h("table", { class: "worklist", id: "review-readers" }, h("thead", {}, h("tr", {}, ...["Reader", "State", "Version", "Lung mL (1-3)", "GGO mL", "Cons. mL", "Active", "Start", ""].map((t) => h("th", {}, t)))), readersBody),
        h("h2", {}, "Consensus"),
        h("div", {}, h("button", { id: "consensus-staple", class: "primary", onclick: () => consensus("staple") }, "Build STAPLE consensus"), " ",
          h("button", { id: "consensus-majority", onclick: () => consensus("majority") }, "Build majority consensus")),
        h("h2", {}, "Consensus and review copies"), othersList,
        h("h2", {}, "Return to a reader"),
        h("div", { class: "return-form" }, h("label", {}, "Reader ", returnTarget), returnText, noteText,
          h("button", { id: "return-btn", onclick: doReturn }, "Return with comments")),
        msg,
        h("h2", {}, "Agreement"), agreementBox,
        h("h2", {}, "Comments and decisions"), commentsList,
        h("h2", {}, "Provenance and correction effort"), historyBox))));
  fillTables();
  await loadLayers();
  dbg.ready = true;
  void loadAgreement(sid, review, agreementBox, dbg);
  void loadHistory(sid, historyBox);
  return () => {};
}
