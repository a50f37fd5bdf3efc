/** Home (project list), and the project page: worklist with filters plus drag-and-drop import. */
import { api, ApiError, type ImportResult, type ProjectPublic, type StudyPublic } from "../core/api";
import { fmtTime, h, navigate } from "../dom";
import { filesFromDrop, filesFromInput, type PathedFile } from "../io/collect-files";
import { uploadMultipart, uploadResumable, type UploadProgress } from "../io/resumable-upload";
import type { Session } from "../main";
import { getJson, type AssignmentOut, type List } from "../core/api";
import { projectNav } from "./collab";
import { annotateNextPanel, trainButton } from "./training";

export async function homePage(app: HTMLElement, _s: Session): Promise<() => void> {
  const { data } = await api.projects();
  if (data.length === 1) { navigate(`/projects/${data[0].id}`); return () => {}; }
  app.append(h("section", { class: "card" }, h("h1", {}, "Projects"),
    data.length === 0 ? h("p", {}, "You are not a member of any project yet.") : h("ul", { class: "projects" },
      ...data.map((p) => h("li", {}, h("a", { href: `/projects/${p.id}`, onclick: (e: Event) => { e.preventDefault(); navigate(`/projects/${p.id}`); } }, p.name))))));
  return () => {};
}

function studyState(s: StudyPublic): string {
  if (s.state) return s.state;
  if (s.version_count === 0) return s.ai_status === "done" ? "AI proposal" : "not started";
  return `in progress (${s.version_count} version${s.version_count === 1 ? "" : "s"})`;
}

export async function projectPage(app: HTMLElement, s: Session, pid: number): Promise<() => void> {
  let project: ProjectPublic;
  try { project = await api.project(pid); } catch (e) {
    app.append(h("section", { class: "card error", role: "alert" }, `This project cannot be opened: ${(e as Error).message}`));
    return () => {};
  }
  const canImport = s.user.is_admin || project.my_role === "admin";
  const q = h("input", { type: "search", placeholder: "Filter by name", "aria-label": "Filter studies by name", id: "filter-q" });
  const ai = h("select", { "aria-label": "Filter by AI status", id: "filter-ai" },
    ...["", "none", "queued", "running", "done", "failed"].map((v) => h("option", { value: v }, v ? `AI: ${v}` : "AI: any")));
  const tbody = h("tbody");
  const count = h("span", { class: "muted" });
  const table = h("table", { class: "worklist", id: "worklist" },
    h("thead", {}, h("tr", {}, ...["Study", "State", "Slices", "Last change", "AI status", "Versions"].map((t) => h("th", {}, t)))), tbody);

  let timer = 0;
  const load = async () => {
    const { data, count: n } = await api.studies(pid, q.value, ai.value);
    tbody.innerHTML = "";
    for (const st of data) {
      const open = () => navigate(`/studies/${st.id}`);
      const tr = h("tr", { tabindex: 0, class: "study-row", "data-study-id": st.id, onclick: open,
        onkeydown: (e: Event) => {
          const k = (e as KeyboardEvent).key;
          if (k === "Enter") open();
          if (k === "ArrowDown") ((e.target as HTMLElement).nextElementSibling as HTMLElement | null)?.focus();
          if (k === "ArrowUp") ((e.target as HTMLElement).previousElementSibling as HTMLElement | null)?.focus();
        } },
        h("td", {}, st.name), h("td", {}, studyState(st)), h("td", { class: "num" }, String(st.slice_count)),
        h("td", {}, fmtTime(st.updated_at)), h("td", {}, h("span", { class: `badge ai-${st.ai_status}` }, st.ai_status)),
        h("td", { class: "num" }, String(st.version_count)));
      tbody.append(tr);
    }
    count.textContent = `${n} stud${n === 1 ? "y" : "ies"}${s.user.is_admin || project.my_role === "admin" ? " (all in project)" : " assigned to you"}`;
    if (data.length === 0) tbody.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No studies.")));
  };
  q.addEventListener("input", () => { clearTimeout(timer); timer = window.setTimeout(load, 250); });
  ai.addEventListener("change", load);

  const reviewer = canImport || project.my_role === "reviewer";
  app.append(projectNav(pid, project, s, `/projects/${pid}`));
  // the reader's own assignments with their states (blinded: only their own)
  const mineBody = h("tbody");
  const loadMine = async () => {
    const mine = (await getJson<List<AssignmentOut>>(`/api/projects/${pid}/assignments?username=${encodeURIComponent(s.user.username)}`)).data;
    mineBody.innerHTML = "";
    for (const a of mine) {
      const open = () => navigate(`/studies/${a.study_id}`);
      mineBody.append(h("tr", { class: "assignment-row", tabindex: 0, "data-assignment": a.id, "data-study-id": a.study_id, onclick: open,
        onkeydown: (e: Event) => { if ((e as KeyboardEvent).key === "Enter") open(); } },
        h("td", {}, a.study_name), h("td", {}, h("span", { class: `badge st-${a.state}` }, a.state.replace("_", " "))),
        h("td", {}, a.start_from ?? "—"), h("td", { class: "num" }, `${Math.round(a.active_seconds / 60)} min`), h("td", {}, fmtTime(a.submitted_at))));
    }
    mineSection.hidden = mine.length === 0;
  };
  const mineSection = h("section", { class: "card", id: "my-assignments", hidden: true }, h("h2", {}, "My assignments"),
    h("table", { class: "worklist" }, h("thead", {}, h("tr", {}, ...["Study", "State", "Started from", "Active", "Submitted"].map((t) => h("th", {}, t)))), mineBody));
  app.append(mineSection);
  loadMine().catch(() => null);
  app.append(h("section", { class: "card" },
    h("div", { class: "study-header" }, h("h1", {}, project.name), h("span", { class: "spacer" }), canImport ? trainButton(pid) : null,
      reviewer ? h("a", { href: `/projects/${pid}/models` , onclick: (e: Event) => { e.preventDefault(); navigate(`/projects/${pid}/models`); } }, "Models") : null), project.description ? h("p", { class: "muted" }, project.description) : null,
    h("div", { class: "filters" }, q, ai, count), table));
  if (canImport) app.append(annotateNextPanel(pid));
  if (canImport) app.append(importPanel(pid, load));
  await load();
  (tbody.querySelector("tr.study-row") as HTMLElement | null)?.focus();
  const poll = window.setInterval(() => { if (!document.hidden) load().catch(() => null); }, 15000);
  return () => { clearInterval(poll); clearTimeout(timer); };
}

function importPanel(pid: number, reload: () => Promise<void>): HTMLElement {
  const bar = h("progress", { max: 1, value: 0, id: "upload-progress", hidden: true });
  const status = h("p", { class: "muted", id: "upload-status", "aria-live": "polite" });
  const results = h("ul", { class: "import-results", id: "import-results" });
  const fileInput = h("input", { type: "file", multiple: true, id: "import-files", accept: ".dcm,.zip,.nii,.gz,application/dicom,*/*", hidden: true });
  const dirInput = h("input", { type: "file", multiple: true, id: "import-folder", hidden: true });
  dirInput.setAttribute("webkitdirectory", "");
  const zone = h("div", { class: "dropzone", id: "dropzone", tabindex: 0, role: "button",
    "aria-label": "Drop DICOM folders, files, .zip or NIfTI here, or press Enter to choose files" },
    h("strong", {}, "Drop DICOM folders, files, .zip archives or NIfTI here"),
    h("div", {}, h("button", { type: "button", onclick: () => fileInput.click() }, "Choose files…"), " ",
      h("button", { type: "button", onclick: () => dirInput.click() }, "Choose a folder…")));
  let busy = false;

  const run = async (files: PathedFile[]) => {
    if (busy || files.length === 0) return;
    busy = true; results.innerHTML = ""; bar.hidden = false; bar.value = 0; zone.classList.add("busy");
    const t0 = performance.now();
    const onProgress = (p: UploadProgress) => {
      bar.value = p.total ? p.sent / p.total : 1;
      status.textContent = `${p.retrying ? "Connection lost, resuming… " : "Uploading "}${(p.sent / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(1)} MB (${files.length} files)`;
    };
    try {
      let res: ImportResult[];
      try { res = await uploadResumable(pid, files, onProgress); } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 405)) res = await uploadMultipart(pid, files, onProgress);
        else throw e;
      }
      bar.value = 1;
      status.textContent = `Import finished in ${((performance.now() - t0) / 1000).toFixed(1)} s.`;
      for (const r of res) {
        results.append(h("li", { class: `result ${r.status}`, "data-status": r.status },
          h("span", { class: `badge ${r.status}` }, r.status), " ",
          r.study_id && r.status !== "refused" ? h("a", { href: `/studies/${r.study_id}`, onclick: (e: Event) => { e.preventDefault(); navigate(`/studies/${r.study_id}`); } }, r.name) : h("span", {}, r.name),
          r.reason ? h("span", { class: "reason" }, ` — ${r.reason}`) : null,
          ...(r.warnings || []).map((w) => h("div", { class: "warning" }, `⚠ ${w}`))));
      }
      await reload();
    } catch (e) {
      status.textContent = "";
      results.append(h("li", { class: "result refused", "data-status": "refused" }, h("span", { class: "badge refused" }, "refused"), ` Upload refused: ${(e as Error).message}`));
    } finally { busy = false; zone.classList.remove("busy"); }
  };

  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault(); zone.classList.remove("over");
    if (e.dataTransfer) filesFromDrop(e.dataTransfer).then(run);
  });
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.target === zone) fileInput.click(); });
  fileInput.addEventListener("change", () => { if (fileInput.files) run(filesFromInput(fileInput.files)); fileInput.value = ""; });
  dirInput.addEventListener("change", () => { if (dirInput.files) run(filesFromInput(dirInput.files)); dirInput.value = ""; });
  return h("section", { class: "card" }, h("h2", {}, "Import studies"), zone, fileInput, dirInput, bar, status, results);
}
