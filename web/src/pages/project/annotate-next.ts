/** "Annotate next" on the worklist (admins): studies ranked by the model's uncertainty, and Rescore. */
import * as api from "../../core/api";
import { fmtTime, h, link } from "../../ui/dom";

export function annotateNextPanel(pid: number): HTMLElement {
  const body = h("tbody");
  const status = h("span", { class: "muted", id: "annotate-next-status" });
  const load = async () => {
    const r = await api.annotateNext(pid, 20);
    body.innerHTML = "";
    for (const x of r.data) body.append(h("tr", { "data-study-id": x.study_id }, h("td", { class: "num" }, String(x.rank)), h("td", {}, link(`/studies/${x.study_id}`, x.name)),
      h("td", { class: "num" }, x.score === null ? "not scored" : x.score.toFixed(3)), h("td", {}, x.model ?? ""), h("td", {}, fmtTime(x.computed_at))));
    if (!r.data.length) body.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "Nothing left to annotate.")));
  };
  const refresh = h("button", { id: "annotate-next-refresh", onclick: async () => {
    try {
      const j = await api.rescoreAnnotateNext(pid);
      status.textContent = `Scoring with the active model (job ${j.id})…`;
      const t = window.setInterval(async () => {
        const jj = await api.job(j.id).catch(() => null);
        if (!jj || ["succeeded", "failed", "cancelled"].includes(jj.state)) { clearInterval(t); status.textContent = jj ? `Scoring ${jj.state}.` : ""; await load(); }
      }, 2000);
    } catch (e) { status.textContent = (e as Error).message; }
  } }, "Rescore");
  const panel = h("section", { class: "card", id: "annotate-next" }, h("h2", {}, "Annotate next (most uncertain first)"), h("div", { class: "filters" }, refresh, status),
    h("table", { class: "worklist" }, h("thead", {}, h("tr", {}, ...["#", "Study", "Uncertainty", "Model", "Scored"].map((t) => h("th", {}, t)))), body));
  load().catch((e) => { status.textContent = (e as Error).message; });
  return panel;
}
