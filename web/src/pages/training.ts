/** Issue 5 screens: Train dialog, job page, models page, queue, "annotate next" (docs/training-api.md). */
import { api, getJson, request, sendJson, ApiError, type Comparison, type JobPublic, type List, type ModelVersionPublic, type ProjectPublic, type RunView } from "../core/api";
import { fmtTime, h, navigate } from "../dom";
import type { Session } from "../main";
import { lineChart } from "../ui/chart";
import { link, projectNav } from "./collab";

const LABELS = ["lung", "ggo", "consolidation"];
const LABEL_COLORS: Record<string, string> = { lung: "#3c8dde", ggo: "#f2c12e", consolidation: "#e0403a" };
const f3 = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : v.toFixed(3));
const f1 = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : v.toFixed(1));
const eta = (s: number | null) => (s === null ? "—" : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

// ------------------------------------------------------------------ Train button + dialog
export function trainButton(pid: number): HTMLElement {
  return h("button", { class: "primary", id: "train-btn", title: "Fine-tune the model on the approved label maps", onclick: () => void trainDialog(pid) }, "Train…");
}

async function trainDialog(pid: number): Promise<void> {
  const [data, models] = await Promise.all([
    getJson<{ approved: { study_id: number; version_id: number }[]; count: number }>(`/api/projects/${pid}/training/data`),
    getJson<List<ModelVersionPublic> & { active_id: number | null }>(`/api/projects/${pid}/models`)]);
  const base = h("select", { id: "train-base", "aria-label": "Base model" }, h("option", { value: "" }, "active version (else the shipped model)"),
    ...models.data.map((m) => h("option", { value: m.id }, `${m.name} (${m.state})`)));
  const num = (id: string, value: string, attrs: Record<string, string | number> = {}) => h("input", { type: "number", id, value, ...attrs });
  const epochs = num("train-epochs", "10", { min: 1 });
  const budget = num("train-budget", "600", { min: 10, step: 10 });
  const device = h("select", { id: "train-device", "aria-label": "Device" }, ...["auto", "cpu", "cuda"].map((d) => h("option", { value: d }, d)));
  const spe = num("train-slices", "200", { min: 1 });
  const vspc = num("train-val-slices", "8", { min: 1, max: 512 });
  const seed = num("train-seed", "0");
  const scratch = h("input", { type: "checkbox", id: "train-scratch" });
  const msg = h("p", { class: "error", id: "train-error" });
  const enough = data.count >= 2;
  const dlg = h("dialog", { id: "train-dialog" },
    h("h2", {}, "Train a new model version"),
    h("p", {}, `${data.count} stud${data.count === 1 ? "y" : "ies"} with an approved label map. The validation studies are drawn once per project and frozen.`),
    h("table", { class: "form" }, h("tbody", {},
      ...([["Base model", base], ["Epochs", epochs], ["Time budget (s)", budget], ["Device", device], ["Slices per epoch", spe],
        ["Validation slices per case", vspc], ["Seed", seed], ["From scratch", scratch]] as [string, HTMLElement][]).map(([t, e]) => h("tr", {}, h("td", {}, t), h("td", {}, e))))),
    enough ? null : h("p", { class: "error" }, "Training needs at least two studies with approved label maps."), msg,
    h("div", { class: "buttons" },
      h("button", { class: "primary", id: "train-start", disabled: !enough, onclick: async () => {
        const body: Record<string, unknown> = { epochs: Number(epochs.value), time_budget_s: Number(budget.value), device: device.value,
          slices_per_epoch: Number(spe.value), val_slices_per_case: Number(vspc.value), seed: Number(seed.value), from_scratch: scratch.checked };
        if (base.value) body.base_version_id = Number(base.value);
        try {
          const r = await sendJson<{ run: RunView; job: JobPublic }>("POST", `/api/projects/${pid}/training`, body);
          dlg.close(); dlg.remove(); navigate(`/training/jobs/${r.job.id}`);
        } catch (e) { msg.textContent = (e as Error).message; }
      } }, "Start training"),
      h("button", { id: "train-cancel", onclick: () => { dlg.close(); dlg.remove(); } }, "Cancel")));
  document.body.append(dlg); dlg.showModal();
}

// ------------------------------------------------------------------ comparison table
export function comparisonView(c: Comparison, newName: string): HTMLElement {
  const a = c.active;
  return h("div", { class: "comparison", id: "comparison" },
    h("table", { class: "worklist" },
      h("thead", {}, h("tr", {}, h("th", {}, "Label"), h("th", {}, `Dice new (${newName})`), h("th", {}, `Dice active (${c.active_model ?? "none"})`), h("th", {}, "Δ Dice"),
        h("th", {}, "|vol. error| new mL"), h("th", {}, "|vol. error| active mL"))),
      h("tbody", {}, ...LABELS.map((l) => {
        const dn = c.new.dice[l], da = a?.dice[l];
        const d = dn !== null && dn !== undefined && da !== null && da !== undefined ? dn - da : null;
        return h("tr", { "data-label": l }, h("td", {}, l), h("td", { class: "num" }, f3(dn)), h("td", { class: "num" }, f3(da)),
          h("td", { class: `num ${d !== null && d < -c.gate.tolerance ? "error" : ""}` }, d === null ? "n/a" : `${d >= 0 ? "+" : ""}${d.toFixed(3)}`),
          h("td", { class: "num" }, f1(c.new.abs_volume_error_ml[l])), h("td", { class: "num" }, f1(a?.abs_volume_error_ml[l])));
      }))),
    h("p", { id: "cases-changed" }, `Validation cases: ${c.new.cases} · improved ${c.improved.length}${c.improved.length ? ` (studies ${c.improved.join(", ")})` : ""} · worsened ${c.worsened.length}${c.worsened.length ? ` (studies ${c.worsened.join(", ")})` : ""} · unchanged ${c.per_case.filter((p) => p.change !== "improved" && p.change !== "worsened").length}`),
    h("p", { id: "gate", class: c.gate.passed ? "msg" : "error" }, c.gate.passed ? `Gate passed (no label more than ${c.gate.tolerance} Dice below the active model).` : `Gate failed: ${c.gate.reasons.join("; ")}`));
}

/** Promote with the gate; on a failed gate offer an override with a written reason. */
async function promote(m: ModelVersionPublic, done: () => void, say: (t: string, err?: boolean) => void): Promise<void> {
  try { await sendJson("POST", `/api/models/${m.id}/promote`, { override: false, reason: null }); say(`${m.name} is now the active model.`); done(); return; } catch (e) {
    if (!(e instanceof ApiError && e.status === 409 && typeof e.detail === "object" && e.detail && "gate" in e.detail)) { say((e as Error).message, true); return; }
    const gate = (e.detail as { gate: { reasons: string[] } }).gate;
    const reason = h("textarea", { id: "override-reason", rows: 3, placeholder: "Why promote despite the gate? (at least 10 characters; audited)" });
    const err = h("p", { class: "error" });
    const dlg = h("dialog", { id: "override-dialog" }, h("h2", {}, "Promotion gate failed"),
      h("ul", {}, ...gate.reasons.map((r) => h("li", {}, r))), h("p", {}, "An admin may override with a written reason."), reason, err,
      h("div", { class: "buttons" },
        h("button", { class: "primary", id: "override-confirm", onclick: async () => {
          try { await sendJson("POST", `/api/models/${m.id}/promote`, { override: true, reason: reason.value }); dlg.close(); dlg.remove(); say(`${m.name} promoted (override).`); done(); }
          catch (e2) { err.textContent = (e2 as Error).message; }
        } }, "Override and promote"),
        h("button", { onclick: () => { dlg.close(); dlg.remove(); } }, "Cancel")));
    document.body.append(dlg); dlg.showModal();
  }
}

// ------------------------------------------------------------------ job page
export async function trainingJobPage(app: HTMLElement, s: Session, jobId: number): Promise<() => void> {
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
  const say = (t: string, err = false) => { msg.textContent = t; msg.className = err ? "error" : "msg"; };
  app.append(h("section", { class: "card", id: "training-job" }, head, h("div", {}, stateEl, " ", bar), info, actions, msg,
    h("div", { class: "job-grid" }, charts, sample), h("h2", {}, "Comparison with the active model"), compBox,
    h("h2", {}, "Log"), logPre));
  let run: RunView | null = null;
  let lastEpoch = -1, lastKey = "", stopped = false;
  const dbg: Record<string, unknown> = {};
  (window as unknown as { __training: unknown }).__training = dbg;

  const tick = async () => {
    try { run = await getJson<RunView>(`/api/training/jobs/${jobId}`); } catch (e) { info.textContent = (e as Error).message; return; }
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
    request("GET", `/api/jobs/${jid}/log`).then((x) => x.text()).then((t) => {
      const atEnd = logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 4;
      logPre.textContent = t.slice(-20000); if (atEnd) logPre.scrollTop = logPre.scrollHeight;
    }).catch(() => null);
    actions.innerHTML = "";
    const active = r.state === "queued" || r.state === "running";
    if (active) actions.append(h("button", { id: "run-cancel", onclick: async () => {
      try { await sendJson("POST", `/api/jobs/${jid}/cancel`, {}); say("Cancel requested: takes effect at the end of the current epoch."); } catch (e) { say((e as Error).message, true); }
    } }, "Cancel"));
    if ((r.state === "failed" || r.state === "cancelled") && r.phase !== "done") actions.append(h("button", { id: "run-resume", onclick: async () => {
      try { const j = await sendJson<JobPublic>("POST", `/api/training/runs/${r.id}/resume`, {}); navigate(`/training/jobs/${j.id}`); } catch (e) { say((e as Error).message, true); }
    } }, "Resume from the last checkpoint"));
    if (r.model_version_id && r.comparison && !compBox.childElementCount) {
      const m = await getJson<ModelVersionPublic>(`/api/models/${r.model_version_id}`);
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

// ------------------------------------------------------------------ models page
export async function modelsPage(app: HTMLElement, s: Session, pid: number): Promise<() => void> {
  let project: ProjectPublic;
  try { project = await api.project(pid); } catch (e) { app.append(h("div", { class: "card error" }, (e as Error).message)); return () => {}; }
  const admin = s.user.is_admin || project.my_role === "admin";
  app.append(projectNav(pid, project, s, `/projects/${pid}/models`));
  const msg = h("p", { class: "msg", id: "models-msg", "aria-live": "polite" });
  const say = (t: string, err = false) => { msg.textContent = t; msg.className = err ? "error" : "msg"; };
  const list = h("div", { id: "models-list" });
  const runsBody = h("tbody");
  const load = async () => {
    const [ms, runs] = await Promise.all([getJson<List<ModelVersionPublic> & { active_id: number | null }>(`/api/projects/${pid}/models`),
      getJson<List<RunView>>(`/api/projects/${pid}/training/runs`)]);
    (window as unknown as { __models: unknown }).__models = ms;
    list.innerHTML = "";
    const activeBadge = h("p", { id: "active-model" }, ms.active_id ? `Active: ${ms.data.find((m) => m.id === ms.active_id)?.name ?? ms.active_id}` : "Active: the shipped default model");
    list.append(activeBadge);
    const tbody = h("tbody");
    for (const m of ms.data) {
      const dice = m.metrics?.final_val_dice ?? {};
      tbody.append(h("tr", { "data-model": m.id, "data-state": m.state, class: m.state === "active" ? "active-row" : "" },
        h("td", {}, h("strong", {}, m.name), h("div", { class: "muted" }, `#${m.number} · ${m.arch} · seed ${m.seed}`)),
        h("td", {}, h("span", { class: `badge model-${m.state}` }, m.state)),
        h("td", { class: "lineage" }, [...m.lineage.map((l) => l.name), m.lineage[m.lineage.length - 1]?.base_model ?? m.base_model].filter(Boolean).join(" ← ") || "—"),
        h("td", {}, `${m.created_by ?? "—"}`, h("div", { class: "muted" }, fmtTime(m.created_at)), m.promoted_at ? h("div", { class: "muted" }, `promoted ${fmtTime(m.promoted_at)}`) : null,
          m.promotion_reason ? h("div", { class: "muted" }, `override: ${m.promotion_reason}`) : null),
        h("td", { class: "num" }, LABELS.map((l) => `${l} ${f3(dice[l])}`).join(" · "), h("div", { class: "muted" }, `${m.data_snapshot.length} studies, val ${m.val_study_ids.join(", ")}${m.metrics?.epochs ? ` · ${m.metrics.epochs} epochs` : ""}`),
          m.comparison ? h("div", { class: m.comparison.gate.passed ? "muted" : "error" }, m.comparison.gate.passed ? "gate passed" : "gate failed") : null,
          h("details", { class: "model-details" }, h("summary", {}, "lineage, data, config"),
            h("div", {}, `Base: ${m.base_model ?? "—"}${m.base_version_id ? ` (version ${m.base_version_id})` : ""}`),
            h("div", {}, `Trained on (study → label-map version): ${m.data_snapshot.map((d) => `${d.study_id}→v${d.version_id}`).join(", ")}`),
            h("div", {}, `Frozen validation studies: ${m.val_study_ids.join(", ")}`),
            m.metrics?.train_seconds !== undefined ? h("div", {}, `Training time ${Math.round(m.metrics.train_seconds)} s`) : null,
            h("pre", { class: "log" }, JSON.stringify(m.config, null, 1)))),
        h("td", {}, ...(admin ? [
          m.state !== "active" ? h("button", { class: "promote-model", onclick: () => void promote(m, () => void load(), say) }, "Promote") : null,
          m.state === "retired" ? h("button", { class: "rollback-model", onclick: async () => {
            try { await sendJson("POST", `/api/models/${m.id}/rollback`, {}); say(`Rolled back to ${m.name}.`); await load(); } catch (e) { say((e as Error).message, true); }
          } }, "Roll back to this") : null,
          h("div", { class: "exports" }, "Export: ", ...["bundle", "torchscript", "onnx"].flatMap((f) => [h("a", { href: `/api/models/${m.id}/export?format=${f}`, download: "" }, f), " "])),
        ] : []), m.run_id ? link(`/training/runs/${m.run_id}`, "run") : null)));
    }
    if (!ms.data.length) tbody.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No trained versions yet: pre-annotation uses the shipped model.")));
    list.append(h("table", { class: "worklist", id: "models-table" },
      h("thead", {}, h("tr", {}, ...["Version", "State", "Lineage", "Who / when", "Validation Dice", ""].map((t) => h("th", {}, t)))), tbody));
    runsBody.innerHTML = "";
    for (const r of runs.data) runsBody.append(h("tr", {}, h("td", {}, link(`/training/jobs/${r.job_id}`, `run ${r.id}`)), h("td", {}, `${r.state} / ${r.phase}`),
      h("td", { class: "num" }, `${r.epoch ?? 0}/${r.epochs}`), h("td", {}, fmtTime(r.created_at)), h("td", {}, r.model_version_id ? `model ${r.model_version_id}` : "—")));
  };
  const rollbackPrev = h("button", { id: "rollback-previous", onclick: async () => {
    try { await sendJson("POST", `/api/projects/${pid}/models/rollback`, {}); say("Rolled back to the previously active version."); await load(); } catch (e) { say((e as Error).message, true); }
  } }, "Roll back to the previous version");
  const rollbackDefault = h("button", { id: "rollback-default", onclick: async () => {
    try { await request("POST", `/api/projects/${pid}/models/rollback`, { version_id: 0 }); say("Back to the shipped default model."); await load(); } catch (e) { say((e as Error).message, true); }
  } }, "Use the shipped model");
  app.append(h("section", { class: "card", id: "models-page" }, h("div", { class: "study-header" }, h("h1", {}, "Models"), h("span", { class: "spacer" }),
    admin ? trainButton(pid) : null, admin ? rollbackPrev : null, admin ? rollbackDefault : null), msg, list,
  h("h2", {}, "Training runs"), h("table", { class: "worklist", id: "runs-table" }, h("thead", {}, h("tr", {}, ...["Run", "State", "Epoch", "Started", "Model"].map((t) => h("th", {}, t)))), runsBody)));
  await load();
  return () => {};
}

export async function runRedirect(_app: HTMLElement, _s: Session, runId: number): Promise<() => void> {
  const r = await getJson<RunView>(`/api/training/runs/${runId}`);
  history.replaceState(null, "", `/training/jobs/${r.job_id}`);
  window.dispatchEvent(new PopStateEvent("popstate"));
  return () => {};
}

// ------------------------------------------------------------------ queue
interface QueueJob { id: number | null; kind: string; queue: string; position?: number; project_id?: number; study_id?: number; progress?: number; message?: string; worker?: string; requested_by?: string; created_at?: string }
export async function queuePage(app: HTMLElement): Promise<() => void> {
  const box = h("div", { id: "queue" });
  app.append(h("section", { class: "card" }, h("h1", {}, "Job queue"),
    h("p", { class: "muted" }, "Interactive (pre-annotation of one study) and batch (training, uncertainty ranking) are separate queues: an interactive request never waits behind training."), box));
  const row = (j: QueueJob) => h("tr", { "data-job": j.id ?? "" }, h("td", {}, j.id === null ? "(not yours)" : j.kind === "train" ? link(`/training/jobs/${j.id}`, `#${j.id}`) : `#${j.id}`),
    h("td", {}, j.kind), h("td", {}, j.queue), h("td", { class: "num" }, j.position !== undefined ? String(j.position) : ""),
    h("td", {}, j.worker ?? ""), h("td", {}, j.progress !== undefined ? `${Math.round(j.progress * 100)} %` : ""), h("td", {}, j.message ?? ""), h("td", {}, j.requested_by ?? ""));
  const load = async () => {
    const q = await getJson<{ queues: Record<string, QueueJob[]>; running: QueueJob[] }>("/api/queue");
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

// ------------------------------------------------------------------ annotate next (admins, on the worklist)
export function annotateNextPanel(pid: number): HTMLElement {
  const body = h("tbody");
  const status = h("span", { class: "muted", id: "annotate-next-status" });
  const load = async () => {
    const r = await getJson<List<{ rank: number; study_id: number; name: string; score: number | null; method: string; model: string | null; computed_at: string | null }>>(`/api/projects/${pid}/annotate-next?limit=20`);
    body.innerHTML = "";
    for (const x of r.data) body.append(h("tr", { "data-study-id": x.study_id }, h("td", { class: "num" }, String(x.rank)), h("td", {}, link(`/studies/${x.study_id}`, x.name)),
      h("td", { class: "num" }, x.score === null ? "not scored" : x.score.toFixed(3)), h("td", {}, x.model ?? ""), h("td", {}, fmtTime(x.computed_at))));
    if (!r.data.length) body.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "Nothing left to annotate.")));
  };
  const refresh = h("button", { id: "annotate-next-refresh", onclick: async () => {
    try {
      const j = await sendJson<JobPublic>("POST", `/api/projects/${pid}/annotate-next/refresh`, {});
      status.textContent = `Scoring with the active model (job ${j.id})…`;
      const t = window.setInterval(async () => {
        const jj = await getJson<JobPublic>(`/api/jobs/${j.id}`).catch(() => null);
        if (!jj || ["succeeded", "failed", "cancelled"].includes(jj.state)) { clearInterval(t); status.textContent = jj ? `Scoring ${jj.state}.` : ""; await load(); }
      }, 2000);
    } catch (e) { status.textContent = (e as Error).message; }
  } }, "Rescore");
  const panel = h("section", { class: "card", id: "annotate-next" }, h("h2", {}, "Annotate next (most uncertain first)"), h("div", { class: "filters" }, refresh, status),
    h("table", { class: "worklist" }, h("thead", {}, h("tr", {}, ...["#", "Study", "Uncertainty", "Model", "Scored"].map((t) => h("th", {}, t)))), body));
  load().catch((e) => { status.textContent = (e as Error).message; });
  return panel;
}
