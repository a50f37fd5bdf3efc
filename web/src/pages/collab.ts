/** Issue 4 screens: assignment board, review screen, agreement dashboard (docs/collaboration-api.md). */
import {
  api, ApiError, getJson, request, sendJson, type AgreementOut, type AssignmentOut, type DashboardOut,
  type List, type MemberPublic, type ProjectPublic, type ReviewOut, type StudyPublic, type VersionPublic,
} from "../core/api";
import { fmtTime, h, navigate } from "../dom";
import type { Session } from "../main";
import { barChart, lineChart, PALETTE } from "../ui/chart";
import { fetchNifti } from "./study";
import { maybeGunzip, parseNifti } from "../core/nifti";

export const LABEL_NAMES: Record<string, string> = { "1": "lung", "2": "GGO", "3": "consolidation", "2+3": "infection (GGO+consolidation)" };
export const READER_COLORS = ["#39b36b", "#e08a3a", "#4fd1d9", "#d94f9b", "#b46be0"];

export const link = (href: string, text: string, attrs: Record<string, string> = {}) =>
  h("a", { href, ...attrs, onclick: (e: Event) => { e.preventDefault(); navigate(href); } }, text);
const fmtDice = (d: number | null | undefined) => (d === null || d === undefined ? "n/a" : d.toFixed(3));
const fmtSec = (s: number) => (s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);
const errBox = (e: unknown) => h("div", { class: "card error", role: "alert" }, (e as Error).message);

export function projectNav(pid: number, project: ProjectPublic, s: Session, current: string): HTMLElement {
  const admin = s.user.is_admin || project.my_role === "admin";
  const reviewer = admin || project.my_role === "reviewer";
  const items: [string, string, boolean][] = [
    [`/projects/${pid}`, "Worklist", true], [`/projects/${pid}/board`, "Assignment board", admin],
    [`/projects/${pid}/agreement`, "Agreement", reviewer], [`/projects/${pid}/models`, "Models", reviewer],
    ["/queue", "Queue", true],
  ];
  const audit = s.user.is_admin ? h("a", { href: "/api/audit/export.csv", download: "", id: "audit-export" }, "Audit log (CSV)") : null;
  return h("nav", { class: "subnav" }, h("strong", {}, project.name), ...items.filter((i) => i[2]).map(([href, text]) =>
    link(href, text, { class: href === current ? "current" : "" })), audit);
}

// ------------------------------------------------------------------ assignment board
export async function boardPage(app: HTMLElement, s: Session, pid: number): Promise<() => void> {
  let project: ProjectPublic;
  try { project = await api.project(pid); } catch (e) { app.append(errBox(e)); return () => {}; }
  app.append(projectNav(pid, project, s, `/projects/${pid}/board`));
  const msg = h("p", { class: "msg", id: "board-msg", "aria-live": "polite" });
  const readersBox = h("div", { class: "readers", id: "board-readers" });
  const tbody = h("tbody");
  const perStudy = h("input", { type: "number", min: 1, max: 5, value: "2", id: "auto-n", "aria-label": "Readers per study" });
  const quota = h("input", { type: "number", min: 1, placeholder: "none", id: "auto-quota", "aria-label": "Quota per reader" });
  const onlySel = h("input", { type: "checkbox", id: "auto-only-selected" });
  const startSel = h("select", { id: "reader-start", "aria-label": "Readers start from", onchange: async () => {
    try { project = await sendJson<ProjectPublic>("PATCH", `/api/projects/${pid}`, { settings: { reader_start: startSel.value } }); say(`Readers now start from ${startSel.value === "ai" ? "the AI proposal" : "an empty map"}.`); }
    catch (e) { say((e as Error).message, true); }
  } }, h("option", { value: "ai" }, "the AI proposal"), h("option", { value: "empty" }, "an empty label map"));
  startSel.value = String(project.settings?.reader_start ?? "ai");
  let studies: StudyPublic[] = [];
  let members: MemberPublic[] = [];
  const selectedStudies = () => Array.from(tbody.querySelectorAll<HTMLInputElement>("input.pick:checked")).map((c) => Number(c.value));
  const selectedReaders = () => Array.from(readersBox.querySelectorAll<HTMLInputElement>("input:checked")).map((c) => c.value);
  const say = (t: string, err = false) => { msg.textContent = t; msg.className = err ? "error" : "msg"; };

  const load = async () => {
    const [st, as, mem] = await Promise.all([api.studies(pid), getJson<List<AssignmentOut>>(`/api/projects/${pid}/assignments`),
      getJson<List<MemberPublic>>(`/api/projects/${pid}/members`)]);
    studies = st.data; members = mem.data;
    const keep = new Set(selectedReaders());
    readersBox.innerHTML = "";
    for (const m of members.filter((x) => x.role === "annotator"))
      readersBox.append(h("label", { class: "chip" }, h("input", { type: "checkbox", value: m.username, checked: keep.has(m.username), "data-reader": m.username }), ` ${m.username}`));
    if (!readersBox.children.length) readersBox.append(h("span", { class: "muted" }, "No annotators in this project yet."));
    const byStudy = new Map<number, AssignmentOut[]>();
    for (const a of as.data) byStudy.set(a.study_id, [...(byStudy.get(a.study_id) ?? []), a]);
    const keepStudies = new Set(selectedStudies());
    tbody.innerHTML = "";
    for (const st of studies) {
      const list = byStudy.get(st.id) ?? [];
      const submitted = list.filter((a) => a.state === "submitted" || a.state === "approved").length;
      tbody.append(h("tr", { "data-study-id": st.id },
        h("td", {}, h("input", { type: "checkbox", class: "pick", value: st.id, checked: keepStudies.has(st.id), "aria-label": `Select ${st.name}` })),
        h("td", {}, st.name),
        h("td", { class: "assignees" }, ...list.map((a) => h("span", { class: `badge st-${a.state}`, "data-assignment": a.id, "data-reader": a.username, title: `${a.state}, active ${fmtSec(a.active_seconds)}` },
          `${a.username}: ${a.state.replace("_", " ")}`,
          a.state === "assigned" ? h("button", { class: "link x", title: "Remove this assignment", "aria-label": `Remove ${a.username}`, onclick: async () => {
            try { await request("DELETE", `/api/assignments/${a.id}`); say(`Removed ${a.username} from ${st.name}.`); await load(); } catch (e) { say((e as Error).message, true); }
          } }, "×") : null)), list.length ? null : h("span", { class: "muted" }, "unassigned")),
        h("td", {}, submitted ? link(`/studies/${st.id}/review`, `Review (${submitted} submitted)`, { class: "review-link" }) : h("span", { class: "muted" }, "—"))));
    }
    if (!studies.length) tbody.append(h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No studies.")));
  };

  const assign = async () => {
    const sids = selectedStudies(), users = selectedReaders();
    if (!sids.length || !users.length) { say("Select at least one study and one reader.", true); return; }
    try {
      const r = await sendJson<List<AssignmentOut>>("POST", `/api/projects/${pid}/assignments/bulk`, { study_ids: sids, usernames: users });
      say(`Created ${r.count} assignment(s).`); await load();
    } catch (e) { say((e as Error).message, true); }
  };
  const topK = h("input", { type: "number", min: 1, value: "10", id: "auto-top", "aria-label": "Most uncertain studies to fill" });
  const auto = async (uncertain = false) => {
    const body: Record<string, unknown> = { readers_per_study: Number(perStudy.value) || 1 };
    if (quota.value) body.quota = Number(quota.value);
    if (selectedReaders().length) body.usernames = selectedReaders();
    if (onlySel.checked && selectedStudies().length) body.study_ids = selectedStudies();
    if (uncertain) {
      try {
        const next = await getJson<List<{ study_id: number }>>(`/api/projects/${pid}/annotate-next?limit=${Math.max(1, Number(topK.value) || 10)}`);
        if (!next.data.length) { say("No unannotated studies to fill.", true); return; }
        body.study_ids = next.data.map((x) => x.study_id);
      } catch (e) { say((e as Error).message, true); return; }
    }
    try {
      const r = await sendJson<{ created: AssignmentOut[]; unfilled: { study_id: number; missing: number }[] }>("POST", `/api/projects/${pid}/assignments/auto`, body);
      say(`Auto-assigned ${r.created.length} reading(s).${r.unfilled.length ? ` ${r.unfilled.length} stud${r.unfilled.length === 1 ? "y" : "ies"} could not be filled (quota or too few readers).` : ""}`);
      await load();
    } catch (e) { say((e as Error).message, true); }
  };
  const all = h("input", { type: "checkbox", "aria-label": "Select all studies", onchange: (e: Event) => {
    for (const c of tbody.querySelectorAll<HTMLInputElement>("input.pick")) c.checked = (e.target as HTMLInputElement).checked;
  } });
  app.append(h("section", { class: "card", id: "assignment-board" },
    h("h1", {}, "Assignment board"),
    h("p", { class: "muted" }, "Readers are blinded: each sees only their own work (and shared AI / consensus versions) until review."),
    h("div", { class: "board-controls" },
      h("div", {}, h("h2", {}, "Readers"), readersBox, h("label", {}, "Readers start from ", startSel)),
      h("div", {}, h("h2", {}, "By hand"), h("button", { class: "primary", id: "assign-selected", onclick: assign }, "Assign selected studies to selected readers")),
      h("div", {}, h("h2", {}, "Automatically"),
        h("label", {}, "Readers per study ", perStudy), " ", h("label", {}, "Quota per reader ", quota), " ",
        h("label", {}, onlySel, " only selected studies"), " ",
        h("button", { id: "auto-assign", onclick: () => void auto() }, "Auto-assign"), " ",
        h("div", {}, h("label", {}, "or fill the ", topK, " most uncertain studies "), h("button", { id: "auto-assign-uncertain", onclick: () => void auto(true) }, "Auto-assign (annotate next)")),
        h("div", { class: "muted" }, "Each pick goes to the eligible reader with the fewest assignments; without selected readers every annotator is in the pool."))),
    msg,
    h("table", { class: "worklist", id: "board-table" }, h("thead", {}, h("tr", {}, h("th", {}, all), h("th", {}, "Study"), h("th", {}, "Readers (state)"), h("th", {}, "Review"))), tbody)));
  await load();
  const poll = window.setInterval(() => { if (!document.hidden) load().catch(() => null); }, 20000);
  return () => clearInterval(poll);
}

// ------------------------------------------------------------------ review screen
interface Layer { name: string; color: string; versionId: number; data: Uint8Array }

export async function reviewPage(app: HTMLElement, s: Session, sid: number): Promise<() => void> {
  const loading = h("div", { class: "loading" }, "Loading review…");
  app.append(loading);
  let study: StudyPublic; let review: ReviewOut;
  try { [study, review] = await Promise.all([api.study(sid), getJson<ReviewOut>(`/api/studies/${sid}/review`)]); } catch (e) {
    loading.remove(); app.append(errBox(e)); return () => {};
  }
  const project = await api.project(study.project_id);
  const dbg: Record<string, unknown> = { ready: false };
  (window as unknown as { __review: unknown }).__review = dbg;
  const colors = Object.fromEntries((project.label_schema?.length ? project.label_schema : [
    { value: 1, color: "#3c8dde" }, { value: 2, color: "#f2c12e" }, { value: 3, color: "#e0403a" }]).map((l) => [l.value, l.color])) as Record<number, string>;
  loading.textContent = "Loading CT and label maps…";
  const nii = await fetchNifti(`/api/studies/${sid}/volume.nii.gz`);
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
  const say = (t: string, err = false) => { msg.textContent = t; msg.className = err ? "error" : "msg"; };
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
  async function loadHistory(): Promise<void> {
    type Effort = { added: Record<string, number>; removed: Record<string, number>; changed_voxels: number } | null;
    try {
      const hist = await getJson<{ ai_version_id: number | null; final_version_id: number | null;
        versions: { id: number; kind: string; author: string | null; model_name: string | null; step: string; parent_id: number | null; inputs: number[] | null; created_at: string }[];
        readers: { reader: string; state: string; start_from: string | null; active_seconds: number; chain: number[]; effort: { vs_start: Effort; vs_ai: Effort } | null }[] }>(`/api/studies/${sid}/history?effort=true`);
      const eff = (e: Effort) => e ? `${e.changed_voxels.toLocaleString()} voxels changed (+${Object.values(e.added).reduce((a, b) => a + b, 0).toLocaleString()} / −${Object.values(e.removed).reduce((a, b) => a + b, 0).toLocaleString()})` : "n/a";
      historyBox.innerHTML = "";
      historyBox.append(
        h("ol", { class: "comments", id: "history-chain" }, ...hist.versions.map((v) => h("li", { "data-version": v.id },
          h("strong", {}, `v${v.id}`), ` ${v.step} · ${v.kind}${v.model_name ? ` (${v.model_name})` : ""}${v.author ? ` · ${v.author}` : ""}${v.parent_id ? ` · from v${v.parent_id}` : ""}${v.inputs ? ` · inputs ${v.inputs.map((i) => `v${i}`).join(", ")}` : ""} · ${fmtTime(v.created_at)}`))),
        h("table", { class: "worklist", id: "history-effort" }, h("thead", {}, h("tr", {}, ...["Reader", "Chain", "Active", "Effort vs start", "Effort vs AI"].map((t) => h("th", {}, t)))),
          h("tbody", {}, ...hist.readers.map((r) => h("tr", {}, h("td", {}, r.reader), h("td", {}, r.chain.map((c) => `v${c}`).join(" → ")), h("td", { class: "num" }, fmtSec(r.active_seconds)),
            h("td", {}, eff(r.effort?.vs_start ?? null)), h("td", {}, eff(r.effort?.vs_ai ?? null)))))));
    } catch (e) { historyBox.textContent = `History unavailable: ${(e as Error).message}`; }
  }

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
  async function approve(vid: number, comment = ""): Promise<void> {
    try { await sendJson("POST", `/api/studies/${sid}/approve`, comment ? { version_id: vid, comment } : { version_id: vid }); say(`Approved version ${vid}.`); await reload(); }
    catch (e) { say((e as Error).message, true); }
  }
  async function consensus(method: "staple" | "majority"): Promise<void> {
    say(`Building ${method.toUpperCase()} consensus…`);
    try {
      const r = await sendJson<{ version: VersionPublic }>("POST", `/api/studies/${sid}/consensus`, { method, message: `${method} consensus of ${layers.length} readers` });
      say(`${method === "staple" ? "STAPLE" : "Majority"} consensus saved as version ${r.version.id}.`); await reload();
    } catch (e) { say((e as Error).message, true); }
  }
  async function doReturn(): Promise<void> {
    const aid = Number(returnTarget.value);
    if (!returnText.value.trim()) { say("A return needs a comment.", true); return; }
    const anchors = anchor && noteText.value.trim() ? [{ text: noteText.value.trim(), ...anchor }] : [];
    try {
      await sendJson("POST", `/api/assignments/${aid}/return`, { comment: returnText.value.trim(), anchors });
      say("Returned to the reader with comments."); returnText.value = ""; noteText.value = ""; await reload();
    } catch (e) { say((e as Error).message, true); }
  }

  async function loadLayers(): Promise<void> {
    const want = review.readers.map((r, i) => ({ name: r.username, color: READER_COLORS[i % READER_COLORS.length], versionId: r.version.id }));
    const have = new Map(layers.map((l) => [l.versionId, l]));
    layers = await Promise.all(want.map(async (w) => have.get(w.versionId) ?? { ...w, data: (await fetchNifti(`/api/versions/${w.versionId}/labels.nii.gz`)).data as Uint8Array }));
    if (layers.length >= 2) {
      try {
        const res = await request("GET", `/api/studies/${sid}/disagreement.nii.gz`);
        const n = Number(res.headers.get("X-Disagreement-Voxels") ?? "0");
        disagreement = parseNifti(await maybeGunzip(await res.arrayBuffer())).data as Uint8Array;
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

  async function loadAgreement(): Promise<void> {
    if (review.readers.length < 2) { agreementBox.textContent = "Agreement needs at least two submitted readings."; return; }
    try {
      const a = await getJson<AgreementOut>(`/api/studies/${sid}/agreement`);
      dbg.agreement = a;
      agreementBox.innerHTML = "";
      agreementBox.append(h("table", { class: "worklist", id: "agreement-table" },
        h("thead", {}, h("tr", {}, ...["Label", "Mean Dice", "Pair", "Dice", "HD95 mm", "Vol a / b mL"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...a.labels.flatMap((l) => l.pairs.map((p, k) => h("tr", { "data-label": l.label },
          h("td", {}, k === 0 ? LABEL_NAMES[l.label] ?? l.label : ""), h("td", { class: "num mean-dice" }, k === 0 ? fmtDice(l.mean_dice) : ""),
          h("td", {}, `${p.reader_a} vs ${p.reader_b}`), h("td", { class: "num" }, fmtDice(p.dice)),
          h("td", { class: "num" }, p.hd95_mm === null ? "n/a" : p.hd95_mm.toFixed(1)),
          h("td", { class: "num" }, `${p.volume_a_ml.toFixed(1)} / ${p.volume_b_ml.toFixed(1)}`)))))),
      h("p", { class: "muted" }, `Reader vs consensus (${a.consensus?.method ?? "none"}): ` + a.readers.map((r) => `${r.reader} ${fmtDice(r.labels["2+3"]?.dice_vs_consensus)}`).join(", ")));
    } catch (e) { agreementBox.textContent = `Agreement unavailable: ${(e as Error).message}`; }
  }

  function fillTables(): void {
    readersBody.innerHTML = "";
    returnTarget.innerHTML = "";
    review.readers.forEach((r, i) => {
      const color = READER_COLORS[i % READER_COLORS.length];
      readersBody.append(h("tr", { "data-reader": r.username, "data-version": r.version.id },
        h("td", {}, h("span", { class: "swatch", style: `background:${color}` }), ` ${r.username}`),
        h("td", {}, h("span", { class: `badge st-${r.state}` }, r.state)), h("td", {}, `v${r.version.id}`),
        volCell(r.version, "1"), volCell(r.version, "2"), volCell(r.version, "3"),
        h("td", { class: "num" }, fmtSec(r.active_seconds)), h("td", {}, r.start_from ?? ""),
        h("td", {}, h("button", { class: "approve-reader", onclick: () => approve(r.version.id) }, "Approve"), " ",
          link(`/studies/${sid}?review_copy_of=${r.version.id}`, "Edit a copy", { class: "edit-copy" }))));
      if (r.state === "submitted") returnTarget.append(h("option", { value: r.assignment_id }, r.username));
    });
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
    ...review.decisions.map((d) => ({ at: d.created_at, el: h("li", { class: `decision ${d.decision}` }, h("span", { class: `badge st-${d.decision === "approve" ? "approved" : "returned"}` }, d.decision), ` v${d.version_id} by ${d.reviewer}${d.comment ? `: ${d.comment}` : ""}`, h("span", { class: "muted" }, ` · ${fmtTime(d.created_at)}`)) }))]
      .sort((a, b) => a.at.localeCompare(b.at));
    for (const i of items) commentsList.append(i.el);
    if (!items.length) commentsList.append(h("li", { class: "muted" }, "No comments or decisions yet."));
    finalInfo.textContent = review.final_version_id ? `Approved: version ${review.final_version_id}` : "Not approved yet.";
    finalInfo.className = review.final_version_id ? "badge st-approved" : "muted";
  }

  async function reload(): Promise<void> {
    review = await getJson<ReviewOut>(`/api/studies/${sid}/review`);
    dbg.review = review;
    fillTables(); void loadHistory(); await loadLayers();
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
        h("table", { class: "worklist", id: "review-readers" }, h("thead", {}, h("tr", {}, ...["Reader", "State", "Version", "Lung mL", "GGO mL", "Cons. mL", "Active", "Start", ""].map((t) => h("th", {}, t)))), readersBody),
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
  void loadAgreement();
  void loadHistory();
  return () => {};
}

// ------------------------------------------------------------------ agreement dashboard
export async function dashboardPage(app: HTMLElement, s: Session, pid: number): Promise<() => void> {
  let project: ProjectPublic;
  try { project = await api.project(pid); } catch (e) { app.append(errBox(e)); return () => {}; }
  app.append(projectNav(pid, project, s, `/projects/${pid}/agreement`));
  const thr = h("input", { type: "number", id: "dash-threshold", min: 0, max: 1, step: 0.05, value: "0.7", "aria-label": "Flag below Dice" });
  const labelSel = h("select", { id: "dash-label", "aria-label": "Label for the reader chart" }, ...["2+3", "1", "2", "3"].map((l) => h("option", { value: l }, LABEL_NAMES[l])));
  const body = h("div", { id: "dashboard-body" }, h("span", { class: "spinner" }), " Computing agreement for every study with two or more submitted readings…");
  const load = async () => {
    body.innerHTML = ""; body.append(h("span", { class: "spinner" }), " Loading…");
    let d: DashboardOut;
    try { d = await getJson<DashboardOut>(`/api/projects/${pid}/agreement?threshold=${encodeURIComponent(thr.value || "0.7")}`); } catch (e) { body.textContent = (e as Error).message; return; }
    (window as unknown as { __dashboard: unknown }).__dashboard = d;
    body.innerHTML = "";
    const t = (iso: string) => new Date(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z").getTime();
    const labels = [...new Set(d.points.map((p) => p.label))];
    const byLabelSeries = labels.map((l, k) => ({ name: LABEL_NAMES[l] ?? l, color: PALETTE[k], points: d.points.filter((p) => p.label === l).map((p) => [t(p.at), p.mean_dice] as [number, number | null]).sort((a, b) => a[0] - b[0]) }));
    const lab = labelSel.value;
    const readers = [...new Set(d.points.flatMap((p) => Object.keys(p.readers)))];
    const byReaderSeries = readers.map((r, k) => ({ name: r, color: READER_COLORS[k % READER_COLORS.length], points: d.points.filter((p) => p.label === lab && r in p.readers).map((p) => [t(p.at), p.readers[r]] as [number, number | null]).sort((a, b) => a[0] - b[0]) }));
    body.append(
      h("p", { id: "dash-summary" }, `${d.studies} stud${d.studies === 1 ? "y" : "ies"} with two or more submitted readings.`),
      h("div", { class: "charts" },
        barChart(d.by_label.map((b) => ({ name: `${LABEL_NAMES[b.label] ?? b.label} (${b.studies})`, value: b.mean_dice })), { max: 1, title: "Mean pairwise Dice by label", threshold: d.threshold, id: "chart-by-label" }),
        lineChart(byLabelSeries, { yMin: 0, yMax: 1, title: "Mean pairwise Dice over time, by label", xTime: true, id: "chart-label-time" }),
        lineChart(byReaderSeries, { yMin: 0, yMax: 1, title: `Dice vs consensus over time, by reader (${LABEL_NAMES[lab]})`, xTime: true, id: "chart-reader-time" })),
      h("h2", {}, "By reader"),
      h("table", { class: "worklist", id: "dash-readers" }, h("thead", {}, h("tr", {}, ...["Reader", "Label", "Studies", "Dice vs consensus", "Sensitivity", "Specificity"].map((x) => h("th", {}, x)))),
        h("tbody", {}, ...d.by_reader.map((r) => h("tr", {}, h("td", {}, r.reader), h("td", {}, LABEL_NAMES[r.label] ?? r.label), h("td", { class: "num" }, String(r.studies)),
          h("td", { class: "num" }, fmtDice(r.mean_dice_vs_consensus)), h("td", { class: "num" }, fmtDice(r.mean_sensitivity)), h("td", { class: "num" }, fmtDice(r.mean_specificity)))))),
      h("h2", {}, `Flagged (mean Dice below ${d.threshold})`),
      h("table", { class: "worklist", id: "dash-flagged" }, h("thead", {}, h("tr", {}, ...["Study", "Label", "Mean Dice", ""].map((x) => h("th", {}, x)))),
        h("tbody", {}, ...(d.flagged.length ? d.flagged.map((f) => h("tr", { "data-study-id": f.study_id }, h("td", {}, f.study_name), h("td", {}, LABEL_NAMES[f.label] ?? f.label),
          h("td", { class: "num" }, fmtDice(f.mean_dice)), h("td", {}, link(`/studies/${f.study_id}/review`, "Review")))) : [h("tr", {}, h("td", { colspan: 4, class: "muted" }, "None."))]))),
      h("h2", {}, "Per study"),
      h("table", { class: "worklist", id: "dash-points" }, h("thead", {}, h("tr", {}, ...["Study", "Label", "Mean Dice", "Min Dice", "Readers (vs consensus)"].map((x) => h("th", {}, x)))),
        h("tbody", {}, ...d.points.map((p) => h("tr", { "data-study-id": p.study_id, "data-label": p.label }, h("td", {}, link(`/studies/${p.study_id}/review`, p.study_name)), h("td", {}, LABEL_NAMES[p.label] ?? p.label),
          h("td", { class: "num dice" }, fmtDice(p.mean_dice)), h("td", { class: "num" }, fmtDice(p.min_dice)),
          h("td", {}, Object.entries(p.readers).map(([r, v]) => `${r} ${fmtDice(v)}`).join(", ")))))));
  };
  thr.addEventListener("change", () => void load());
  labelSel.addEventListener("change", () => void load());
  app.append(h("section", { class: "card", id: "agreement-dashboard" }, h("h1", {}, "Inter-reader agreement"),
    h("div", { class: "filters" }, h("label", {}, "Flag below Dice ", thr), h("label", {}, "Reader chart label ", labelSel)), body));
  await load();
  return () => {};
}

export { ApiError };
