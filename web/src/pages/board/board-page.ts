/** The assignment board (project admins): assign studies to readers by hand or automatically, reader start setting. */
import * as api from "../../core/api";
import type { AssignmentOut, MemberPublic, ProjectPublic, Session, StudyPublic } from "../../core/types";
import { errorCard, h, link, sayIn } from "../../ui/dom";
import { fmtSeconds } from "../../ui/labels";
import type { Cleanup } from "../../ui/page";
import { projectNav } from "../../ui/project-nav";

export async function boardPage(app: HTMLElement, s: Session, pid: number): Promise<Cleanup> {
  let project: ProjectPublic;
  try { project = await api.project(pid); } catch (e) { app.append(errorCard(e)); return () => {}; }
  app.append(projectNav(pid, project, s, `/projects/${pid}/board`));
  const msg = h("p", { class: "msg", id: "board-msg", "aria-live": "polite" });
  const readersBox = h("div", { class: "readers", id: "board-readers" });
  const tbody = h("tbody");
  const perStudy = h("input", { type: "number", min: 1, max: 5, value: "2", id: "auto-n", "aria-label": "Readers per study" });
  const quota = h("input", { type: "number", min: 1, placeholder: "none", id: "auto-quota", "aria-label": "Quota per reader" });
  const onlySel = h("input", { type: "checkbox", id: "auto-only-selected" });
  const startSel = h("select", { id: "reader-start", "aria-label": "Readers start from", onchange: async () => {
    try { project = await api.updateProjectSettings(pid, { reader_start: startSel.value }); say(`Readers now start from ${startSel.value === "ai" ? "the AI proposal" : "an empty map"}.`); }
    catch (e) { say((e as Error).message, true); }
  } }, h("option", { value: "ai" }, "the AI proposal"), h("option", { value: "empty" }, "an empty label map"));
  startSel.value = String(project.settings?.reader_start ?? "ai");
  let studies: StudyPublic[] = [];
  let members: MemberPublic[] = [];
  const selectedStudies = () => Array.from(tbody.querySelectorAll<HTMLInputElement>("input.pick:checked")).map((c) => Number(c.value));
  const selectedReaders = () => Array.from(readersBox.querySelectorAll<HTMLInputElement>("input:checked")).map((c) => c.value);
  const say = sayIn(msg);

  const load = async () => {
    const [st, as, mem] = await Promise.all([api.studies(pid), api.projectAssignments(pid), api.members(pid)]);
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
        h("td", { class: "assignees" }, ...list.map((a) => h("span", { class: `badge st-${a.state}`, "data-assignment": a.id, "data-reader": a.username, title: `${a.state}, active ${fmtSeconds(a.active_seconds)}` },
          `${a.username}: ${a.state.replace("_", " ")}`,
          a.state === "assigned" ? h("button", { class: "link x", title: "Remove this assignment", "aria-label": `Remove ${a.username}`, onclick: async () => {
            try { await api.deleteAssignment(a.id); say(`Removed ${a.username} from ${st.name}.`); await load(); } catch (e) { say((e as Error).message, true); }
          } }, "×") : null)), list.length ? null : h("span", { class: "muted" }, "unassigned")),
        h("td", {}, submitted ? link(`/studies/${st.id}/review`, `Review (${submitted} submitted)`, { class: "review-link" }) : h("span", { class: "muted" }, "—"))));
    }
    if (!studies.length) tbody.append(h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No studies.")));
  };

  const assign = async () => {
    const sids = selectedStudies(), users = selectedReaders();
    if (!sids.length || !users.length) { say("Select at least one study and one reader.", true); return; }
    try {
      const r = await api.assignBulk(pid, sids, users);
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
        const next = await api.annotateNext(pid, Math.max(1, Number(topK.value) || 10));
        if (!next.data.length) { say("No unannotated studies to fill.", true); return; }
        body.study_ids = next.data.map((x) => x.study_id);
      } catch (e) { say((e as Error).message, true); return; }
    }
    try {
      const r = await api.assignAuto(pid, body);
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
