/** A training run, live: state, progress, curves, sample prediction, log, Cancel / Resume, comparison and Promote. */
import * as api from "../../core/api";
import type { RunView, Session } from "../../core/types";
import { fmtTime, h, link, navigate, sayIn } from "../../ui/dom";
import { lineChart } from "../../ui/chart";
import type { Cleanup } from "../../ui/page";
import { projectNav } from "../../ui/project-nav";
import { comparisonView } from "../../features/training/comparison-view";
import { eta, TRAINING_LABEL_COLORS as LABEL_COLORS } from "../../features/training/format";
import { promote } from "../../features/training/promote";

export async function trainingJobPage(app: HTMLElement, s: Session, jobId: number): Promise<Cleanup> {
  const head = h("div", { class: "study-header" });
  const stateEl = h("span", { class: "badge", id: "run-state" });
  const bar = h("progress", { max: 1, value: 0, id: "run-progress" });
  const info = h("p", { id: "run-info", "aria-live": "polite" });
  const charts = h("div", { class: "charts", id: "run-charts" });
  const sample = h("div", { id: "run-sample" });
  const logPre = h("pre", { class: "log", id: "run-log" });
  const compBox = h("div", { id: "run-comparison" });
  const actions = h("div", { class: "buttons", id: "run-actions" });
  const msg = h("p", { class: "msg", id: "run-msg", "aria-live": "polite" });
  const say = sayIn(msg);
  app.append(h("section", { class: "card", id: "training-job" }, head, h("div", {}, stateEl, " ", bar), info, actions, msg,
    h("div", { class: "job-grid" }, charts, sample), h("h2", {}, "Comparison with the active model"), compBox,
    h("h2", {}, "Log"), logPre));
  let run: RunView | null = null;
  let lastEpoch = -1, lastKey = "", stopped = false;
  const dbg: Record<string, unknown> = {};
  (window as unknown as { __training: unknown }).__training = dbg;

  const tick = async () => {
    try { run = await api.trainingJob(jobId); } catch (e) { info.textContent = (e as Error).message; return; }
    const r = run;
    dbg.run = r; dbg.updates = ((dbg.updates as number) ?? 0) + 1;
    const seen = (dbg.seen as string[] | undefined) ?? []; if (seen[seen.length - 1] !== `${r.state}:${r.epoch ?? 0}`) seen.push(`${r.state}:${r.epoch ?? 0}`); dbg.seen = seen;
    if (!head.childElementCount) {
      const project = await api.project(r.project_id).catch(() => null);
      if (project) app.prepend(projectNav(r.project_id, project, s, ""));
      head.append(h("h1", {}, `Training run ${r.id}`), h("span", { class: "muted" }, ` started ${fmtTime(r.created_at)} · ${r.data_snapshot.length} training studies · validation studies ${r.val_study_ids.join(", ")}`),
        h("span", { class: "spacer" }), link(`/projects/${r.project_id}/models`, "Models"));
    }
    stateEl.textContent = `${r.state} / ${r.phase}`;
    stateEl.className = `badge job-${r.state}`;
    bar.value = r.progress;
    info.textContent = `Epoch ${r.epoch ?? 0} of ${r.epochs} · ETA ${eta(r.eta_seconds)} · ${r.message}${r.worker ? ` · worker ${r.worker}` : ""}${r.resumed_from_epoch ? ` · resumed from epoch ${r.resumed_from_epoch}` : ""}`;
    const key = JSON.stringify(r.curves);
    if (key !== lastKey) {
      lastKey = key;
      charts.innerHTML = "";
      const ep = r.curves.epoch;
      charts.append(lineChart([{ name: "loss", color: "#e6e9ef", points: ep.map((e, i) => [e, r.curves.loss[i]]) }], { title: "Training loss", xLabel: "epoch", id: "chart-loss" }),
        lineChart(Object.entries(r.curves.val_dice).map(([l, v]) => ({ name: l, color: LABEL_COLORS[l], points: ep.map((e, i) => [e, v[i]] as [number, number | null]) })),
          { title: "Validation Dice per label", yMin: 0, yMax: 1, xLabel: "epoch", id: "chart-dice" }));
    }
    const last = r.samples[r.samples.length - 1];
    if (last && last.epoch !== lastEpoch) {
      lastEpoch = last.epoch;
      const show = (smp: RunView["samples"][number]) => {
        img.src = smp.url; img.alt = `Sample prediction, epoch ${smp.epoch}`;
        cap.textContent = `Epoch ${smp.epoch}: study ${smp.study_id}, slice ${smp.z}. Left reference, right prediction.`;
      };
      const img = h("img", { id: "sample-img", class: "sample" });
      const cap = h("figcaption", { class: "muted" });
      const pick = h("select", { id: "sample-epoch", "aria-label": "Sample of epoch", onchange: () => show(r.samples.find((x) => String(x.epoch) === pick.value) ?? last) },
        ...r.samples.map((x) => h("option", { value: x.epoch, selected: x === last }, `epoch ${x.epoch}`)));
      show(last);
      sample.innerHTML = "";
      sample.append(h("figure", {}, h("div", {}, h("label", {}, "Sample prediction ", pick)), img, cap));
    }
    const jid = r.job_id;
    api.jobLog(jid).then((t) => {
      const atEnd = logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 4;
      logPre.textContent = t.slice(-20000); if (atEnd) logPre.scrollTop = logPre.scrollHeight;
    }).catch(() => null);
    actions.innerHTML = "";
    const active = r.state === "queued" || r.state === "running";
    if (active) actions.append(h("button", { id: "run-cancel", onclick: async () => {
      try { await api.cancelJob(jid); say("Cancel requested: takes effect at the end of the current epoch."); } catch (e) { say((e as Error).message, true); }
    } }, "Cancel"));
    if ((r.state === "failed" || r.state === "cancelled") && r.phase !== "done") actions.append(h("button", { id: "run-resume", onclick: async () => {
      try { const j = await api.resumeTraining(r.id); navigate(`/training/jobs/${j.id}`); } catch (e) { say((e as Error).message, true); }
    } }, "Resume from the last checkpoint"));
    if (r.model_version_id && r.comparison && !compBox.childElementCount) {
      const m = await api.model(r.model_version_id);
      compBox.append(comparisonView(r.comparison, m.name));
      const promoteBtn = h("button", { class: "primary", id: "promote", disabled: m.state === "active", onclick: () => void promote(m, () => { promoteBtn.disabled = true; }, say) }, m.state === "active" ? "Active" : `Promote ${m.name}`);
      compBox.append(h("div", { class: "buttons" }, promoteBtn, link(`/projects/${r.project_id}/models`, "Models page")));
    }
    if (!active && (r.state !== "succeeded" || compBox.childElementCount)) stopped = true;
  };
  await tick();
  const poll = window.setInterval(() => { if (!stopped) void tick(); }, 1500);
  return () => clearInterval(poll);
}

/** `/training/runs/{id}`: shows the run's job page. */
export async function runRedirect(_app: HTMLElement, _s: Session, runId: number): Promise<Cleanup> {
  const r = await api.trainingRun(runId);
  history.replaceState(null, "", `/training/jobs/${r.job_id}`);
  window.dispatchEvent(new PopStateEvent("popstate"));
  return () => {};
}
