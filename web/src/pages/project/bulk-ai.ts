/**
 * Run AI in bulk (project admins): pick studies on the worklist, or "all unlabelled", and queue
 * the `ai-segment` job for each; every study's job is followed (queue position, progress, end).
 */
import * as api from "../../core/api";
import type { JobPublic, StudyPublic } from "../../core/types";
import { h } from "../../ui/dom";

const FINAL = ["succeeded", "failed", "cancelled"];

export interface BulkAi {
  el: HTMLElement;
  /** The checkbox of one worklist row. */
  checkbox(st: StudyPublic): HTMLElement;
  /** The studies now on the worklist (for "all unlabelled"). */
  setStudies(list: StudyPublic[]): void;
  stop(): void;
}

export function bulkAi(onQueued: () => void): BulkAi {
  const selected = new Set<number>();
  let studies: StudyPublic[] = [];
  const jobs = new Map<number, JobPublic>(); // study id -> its job
  const names = new Map<number, string>();
  const runBtn = h("button", { type: "button", class: "primary", id: "bulk-run-ai", disabled: true }, "Run AI on 0 studies");
  const unlabelledBtn = h("button", { type: "button", id: "select-unlabelled", title: "Select every study without a label-map version" }, "Select all unlabelled");
  const clearBtn = h("button", { type: "button", id: "select-none" }, "Clear selection");
  const list = h("ul", { class: "bulk-jobs", id: "bulk-jobs" });
  const el = h("div", { class: "bulk-ai", id: "bulk-ai" }, runBtn, unlabelledBtn, clearBtn, list);
  let timer = 0;

  const update = () => {
    runBtn.textContent = `Run AI on ${selected.size} stud${selected.size === 1 ? "y" : "ies"}`;
    runBtn.disabled = selected.size === 0;
    for (const cb of document.querySelectorAll<HTMLInputElement>("input.pick-study")) cb.checked = selected.has(Number(cb.dataset.studyId));
  };
  const describe = (j: JobPublic, pos: number | null) =>
    j.state === "queued" ? `queued${pos ? ` (position ${pos})` : ""}`
      : j.state === "running" ? `running ${Math.round((j.progress ?? 0) * 100)} %`
      : j.state === "succeeded" ? "done: AI proposal saved" : `${j.state}: ${j.message || "no reason given"}`;
  const renderJobs = async () => {
    const q = await api.queue().catch(() => null);
    const pos = (id: number) => {
      for (const js of Object.values(q?.queues ?? {})) { const k = js.findIndex((x) => x.id === id); if (k >= 0) return js[k].position ?? k + 1; }
      return null;
    };
    list.innerHTML = "";
    for (const [sid, j] of jobs) list.append(h("li", { "data-study-id": sid, "data-state": j.state, class: FINAL.includes(j.state) && j.state !== "succeeded" ? "error" : "" },
      `${names.get(sid) ?? `study ${sid}`}: ${describe(j, pos(j.id))}`));
  };
  const poll = async () => {
    const open = [...jobs.values()].filter((j) => !FINAL.includes(j.state));
    for (const j of open) { try { jobs.set(j.study_id as number, await api.job(j.id)); } catch { /* try again */ } }
    await renderJobs();
    if ([...jobs.values()].some((j) => !FINAL.includes(j.state))) timer = window.setTimeout(() => void poll(), 2000);
    else onQueued();
  };

  runBtn.addEventListener("click", async () => {
    runBtn.disabled = true;
    const ids = [...selected];
    for (const sid of ids) {
      names.set(sid, studies.find((s) => s.id === sid)?.name ?? `study ${sid}`);
      try { jobs.set(sid, await api.runAi(sid)); } catch (e) {
        jobs.set(sid, { id: -1, kind: "ai-segment", state: "failed", progress: 0, message: `not queued: ${(e as Error).message}`, study_id: sid });
      }
    }
    selected.clear(); update(); onQueued();
    clearTimeout(timer); await poll();
  });
  unlabelledBtn.addEventListener("click", () => { for (const s of studies) if (s.version_count === 0) selected.add(s.id); update(); });
  clearBtn.addEventListener("click", () => { selected.clear(); update(); });

  return {
    el,
    checkbox: (st) => h("input", { type: "checkbox", class: "pick-study", "data-study-id": st.id, checked: selected.has(st.id), "aria-label": `Select ${st.name}`,
      onclick: (e: Event) => e.stopPropagation(),
      onchange: (e: Event) => { if ((e.target as HTMLInputElement).checked) selected.add(st.id); else selected.delete(st.id); update(); } }),
    setStudies: (l) => { studies = l; update(); },
    stop: () => clearTimeout(timer),
  };
}
