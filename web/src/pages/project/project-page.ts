/** The project page: worklist with filters, the reader's own assignments, and (admins) annotate-next and import. */
import * as api from "../../core/api";
import type { ProjectPublic, Session, StudyPublic } from "../../core/types";
import { fmtTime, h, navigate } from "../../ui/dom";
import type { Cleanup } from "../../ui/page";
import { projectNav } from "../../ui/project-nav";
import { trainButton } from "../../features/training/train-dialog";
import { annotateNextPanel } from "./annotate-next";
import { importPanel } from "./import-panel";
import { bulkAi } from "./bulk-ai";
import { projectExports } from "./project-exports";

function studyState(s: StudyPublic): string {
  if (s.state) return s.state;
  if (s.version_count === 0) return s.ai_status === "done" ? "AI proposal" : "not started";
  return `in progress (${s.version_count} version${s.version_count === 1 ? "" : "s"})`;
}

export async function projectPage(app: HTMLElement, s: Session, pid: number): Promise<Cleanup> {
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
  const bulk = canImport ? bulkAi(() => void load().catch(() => null)) : null;
  const cols = ["Study", "Modality", "State", "Slices", "Last change", "AI status", "Versions"];
  const table = h("table", { class: "worklist", id: "worklist" },
    h("thead", {}, h("tr", {}, bulk ? h("th", { title: "Select for Run AI" }, "") : null, ...cols.map((t) => h("th", {}, t)))), tbody);

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
        bulk ? h("td", {}, bulk.checkbox(st)) : null, h("td", {}, st.name), h("td", {}, h("span", { class: "badge modality" }, st.modality || "CT")), h("td", {}, studyState(st)), h("td", { class: "num" }, String(st.slice_count)),
        h("td", {}, fmtTime(st.updated_at)), h("td", {}, h("span", { class: `badge ai-${st.ai_status}` }, st.ai_status)),
        h("td", { class: "num" }, String(st.version_count)));
      tbody.append(tr);
    }
    count.textContent = `${n} stud${n === 1 ? "y" : "ies"}${s.user.is_admin || project.my_role === "admin" ? " (all in project)" : " assigned to you"}`;
    bulk?.setStudies(data);
    if (data.length === 0) tbody.append(h("tr", {}, h("td", { colspan: cols.length + (bulk ? 1 : 0), class: "muted" }, q.value || ai.value ? "None match the filter." : "None.")));
  };
  q.addEventListener("input", () => { clearTimeout(timer); timer = window.setTimeout(load, 250); });
  ai.addEventListener("change", load);

  const reviewer = canImport || project.my_role === "reviewer";
  app.append(projectNav(pid, project, s, `/projects/${pid}`));
  // the reader's own assignments with their states (blinded: only their own)
  const mineBody = h("tbody");
  const loadMine = async () => {
    const mine = (await api.projectAssignments(pid, s.user.username)).data;
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
    h("div", { class: "filters" }, q, ai, count), bulk ? bulk.el : null, table));
  if (canImport) app.append(annotateNextPanel(pid));
  if (canImport) app.append(importPanel(pid, load));
  if (canImport) app.append(projectExports(pid));
  await load();
  (tbody.querySelector("tr.study-row") as HTMLElement | null)?.focus();
  const poll = window.setInterval(() => { if (!document.hidden) load().catch(() => null); }, 15000);
  return () => { clearInterval(poll); clearTimeout(timer); bulk?.stop(); };
}
