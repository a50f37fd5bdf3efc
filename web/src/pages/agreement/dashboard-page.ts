/** The agreement dashboard (reviewers): Dice by label, over time, by reader; flagged study/label pairs. */
import * as api from "../../core/api";
import type { DashboardOut, ProjectPublic, Session } from "../../core/types";
import { errorCard, h, link } from "../../ui/dom";
import { barChart, lineChart, PALETTE } from "../../ui/chart";
import { fmtDice, LABEL_NAMES, READER_COLORS } from "../../ui/labels";
import type { Cleanup } from "../../ui/page";
import { projectNav } from "../../ui/project-nav";

export async function dashboardPage(app: HTMLElement, s: Session, pid: number): Promise<Cleanup> {
  let project: ProjectPublic;
  try { project = await api.project(pid); } catch (e) { app.append(errorCard(e)); return () => {}; }
  app.append(projectNav(pid, project, s, `/projects/${pid}/agreement`));
  const thr = h("input", { type: "number", id: "dash-threshold", min: 0, max: 1, step: 0.05, value: "0.7", "aria-label": "Flag below Dice" });
  const labelSel = h("select", { id: "dash-label", "aria-label": "Label for the reader chart" }, ...["2+3", "1", "2", "3"].map((l) => h("option", { value: l }, LABEL_NAMES[l])));
  const body = h("div", { id: "dashboard-body" }, h("span", { class: "spinner" }), " Computing agreement for every study with two or more submitted readings…");
  const load = async () => {
    body.innerHTML = ""; body.append(h("span", { class: "spinner" }), " Loading…");
    let d: DashboardOut;
    try { d = await api.projectAgreement(pid, thr.value || "0.7"); } catch (e) { body.textContent = (e as Error).message; return; }
    (window as unknown as { __dashboard: unknown }).__dashboard = d;
    body.innerHTML = "";
    if (d.points.length === 0) {
      body.append(h("div", { class: "empty", id: "dash-empty" },
        h("p", { id: "dash-summary" }, h("strong", {}, "No readings yet."), " Agreement is measured on studies with two or more submitted readings; none has them so far."),
        h("p", { class: "muted" }, "Assign a study to two or more readers on the assignment board; once they submit, their Dice, HD95 and volume differences appear here.")));
      return;
    }
    const none = (cols: number) => h("tr", {}, h("td", { colspan: cols, class: "muted" }, "None."));
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
        h("tbody", {}, ...(d.by_reader.length ? [] : [none(6)]), ...d.by_reader.map((r) => h("tr", {}, h("td", {}, r.reader), h("td", {}, LABEL_NAMES[r.label] ?? r.label), h("td", { class: "num" }, String(r.studies)),
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
