/** The job queue: running and waiting jobs of the interactive and batch queues. */
import * as api from "../../core/api";
import type { QueueJob } from "../../core/types";
import { h, link } from "../../ui/dom";
import type { Cleanup } from "../../ui/page";

export async function queuePage(app: HTMLElement): Promise<Cleanup> {
  const box = h("div", { id: "queue" });
  app.append(h("section", { class: "card" }, h("h1", {}, "Job queue"),
    h("p", { class: "muted" }, "Interactive (pre-annotation of one study) and batch (training, uncertainty ranking) are separate queues: an interactive request never waits behind training."), box));
  const row = (j: QueueJob) => h("tr", { "data-job": j.id ?? "" }, h("td", {}, j.id === null ? "(not yours)" : j.kind === "train" ? link(`/training/jobs/${j.id}`, `#${j.id}`) : `#${j.id}`),
    h("td", {}, j.kind), h("td", {}, j.queue), h("td", { class: "num" }, j.position !== undefined ? String(j.position) : ""),
    h("td", {}, j.worker ?? ""), h("td", {}, j.progress !== undefined ? `${Math.round(j.progress * 100)} %` : ""), h("td", {}, j.message ?? ""), h("td", {}, j.requested_by ?? ""));
  const load = async () => {
    const q = await api.queue();
    box.innerHTML = "";
    const table = (title: string, rows: QueueJob[], id: string) => [h("h2", {}, title), h("table", { class: "worklist", id },
      h("thead", {}, h("tr", {}, ...["Job", "Kind", "Queue", "Position", "Worker", "Progress", "Message", "By"].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...(rows.length ? rows.map(row) : [h("tr", {}, h("td", { colspan: 8, class: "muted" }, "Empty."))])))];
    box.append(...table("Running", q.running, "queue-running"), ...Object.entries(q.queues).flatMap(([name, rows]) => table(`Waiting: ${name}`, rows, `queue-${name}`)));
  };
  await load();
  const poll = window.setInterval(() => { if (!document.hidden) load().catch(() => null); }, 3000);
  return () => clearInterval(poll);
}
