/** The models page: model versions with state, lineage, validation Dice, export, promote / roll back; training runs. */
import * as api from "../../core/api";
import type { ProjectPublic, Session, ShippedModel } from "../../core/types";
import { fmtTime, h, link, sayIn } from "../../ui/dom";
import type { Cleanup } from "../../ui/page";
import { projectNav } from "../../ui/project-nav";
import { f3, TRAINING_LABELS as LABELS } from "../../features/training/format";
import { promote } from "../../features/training/promote";
import { trainButton } from "../../features/training/train-dialog";

/** Disable a button that cannot act, with the reason as its tooltip and beside it. */
function setDisabled(b: HTMLElement, off: boolean, why: string): void {
  (b as HTMLButtonElement).disabled = off;
  b.title = off ? why : "";
  const note = b.nextElementSibling?.classList.contains("why-disabled") ? b.nextElementSibling : null;
  if (off && !note) b.after(h("span", { class: "muted why-disabled", "data-for": b.id }, why));
  else if (off && note) note.textContent = why;
  else note?.remove();
}

export async function modelsPage(app: HTMLElement, s: Session, pid: number): Promise<Cleanup> {
  let project: ProjectPublic;
  try { project = await api.project(pid); } catch (e) { app.append(h("div", { class: "card error" }, (e as Error).message)); return () => {}; }
  const admin = s.user.is_admin || project.my_role === "admin";
  app.append(projectNav(pid, project, s, `/projects/${pid}/models`));
  const msg = h("p", { class: "msg", id: "models-msg", "aria-live": "polite" });
  const say = sayIn(msg);
  const list = h("div", { id: "models-list" });
  const runsBody = h("tbody");
  const load = async () => {
    const [ms, runs] = await Promise.all([api.models(pid), api.trainingRuns(pid)]);
    (window as unknown as { __models: unknown }).__models = ms;
    list.innerHTML = "";
    const shippedName = ms.shipped?.name ?? "the shipped model";
    const activeBadge = h("p", { id: "active-model" }, ms.active_id ? `Active: ${ms.data.find((m) => m.id === ms.active_id)?.name ?? ms.active_id}`
      : `Active: ${shippedName}, the shipped default model (version 0)`);
    const xr = ms.data.find((m) => m.id === ms.active_radiograph_id);
    list.append(activeBadge, h("p", { id: "active-radiograph-model" }, xr ? `Chest radiographs: ${xr.name} `
      : "Chest radiographs: no model (LungLab ships none; train one on approved radiographs with Train…)",
    xr && admin ? h("button", { id: "no-radiograph-model", onclick: async () => {
      try { await api.noRadiographModel(pid); say("Radiographs get no AI proposal now."); await load(); } catch (e) { say((e as Error).message, true); }
    } }, "Stop using it") : null));
    // buttons that cannot act say why (issue 16): nothing to roll back to, shipped model already in use
    const earlier = ms.data.some((m) => m.modality !== "xr" && m.state === "retired" && m.promoted_at);
    setDisabled(rollbackPrev, !earlier, ms.data.some((m) => m.modality !== "xr") ? "No earlier promoted version to roll back to." : "No trained versions yet: train one first.");
    setDisabled(rollbackDefault, !ms.active_id, `${shippedName} (version 0) is already the active CT model.`);
    const ctVersions = ms.data.filter((m) => m.modality !== "xr");
    const tbody = h("tbody");
    for (const m of ms.data) {
      const dice = m.metrics?.final_val_dice ?? {};
      tbody.append(h("tr", { "data-model": m.id, "data-state": m.state, class: m.state === "active" ? "active-row" : "" },
        h("td", {}, h("strong", {}, m.name), h("div", { class: "muted" }, `#${m.number} · ${m.modality === "xr" ? "chest radiographs" : "CT"} · ${m.arch} · seed ${m.seed}`)),
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
            try { await api.rollbackTo(m.id); say(`Rolled back to ${m.name}.`); await load(); } catch (e) { say((e as Error).message, true); }
          } }, "Roll back to this") : null,
          h("div", { class: "exports" }, "Export: ", ...(["bundle", "torchscript", "onnx"] as const).flatMap((f) => [h("a", { href: api.modelExportUrl(m.id, f), download: "" }, f), " "])),
        ] : []), m.run_id ? link(`/training/runs/${m.run_id}`, "run") : null)));
    }
    if (ms.shipped) tbody.append(shippedRow(ms.shipped, !ctVersions.length));
    list.append(h("table", { class: "worklist", id: "models-table" },
      h("thead", {}, h("tr", {}, ...["Version", "State", "Lineage", "Who / when", "Validation Dice", ""].map((t) => h("th", {}, t)))), tbody));
    runsBody.innerHTML = "";
    for (const r of runs.data) runsBody.append(h("tr", {}, h("td", {}, link(`/training/jobs/${r.job_id}`, `run ${r.id}`)), h("td", {}, `${r.state} / ${r.phase}`),
      h("td", { class: "num" }, `${r.epoch ?? 0}/${r.epochs}`), h("td", {}, fmtTime(r.created_at)), h("td", {}, r.model_version_id ? `model ${r.model_version_id}` : "—")));
  };
  const shippedRow = (v0: ShippedModel, alone: boolean) => h("tr", { "data-model": 0, "data-state": v0.state, class: v0.state === "active" ? "active-row" : "", id: "model-v0" },
    h("td", {}, h("strong", {}, v0.name), h("div", { class: "muted" }, `#0 · shipped with LungLab · ${v0.arch}`)),
    h("td", {}, h("span", { class: `badge model-${v0.state}` }, v0.state)),
    h("td", { class: "lineage" }, "—"),
    h("td", {}, "LungLab", h("div", { class: "muted" }, "version 0 of every project")),
    h("td", { class: "num" }, "see the model card", alone ? h("div", { class: "muted" }, "No trained versions yet: AI uses this model.") : null,
      h("details", { class: "model-details", id: "model-card" }, h("summary", {}, "model card"), h("pre", { class: "log card-text" }, v0.card || "no card"))),
    h("td", {}, admin && v0.state !== "active" ? h("button", { class: "rollback-model", id: "use-v0", onclick: () => rollbackDefault.click() }, "Use this model") : null));
  const rollbackPrev = h("button", { id: "rollback-previous", onclick: async () => {
    try { await api.rollbackPrevious(pid); say("Rolled back to the previously active version."); await load(); } catch (e) { say((e as Error).message, true); }
  } }, "Roll back to the previous version");
  const rollbackDefault = h("button", { id: "rollback-default", onclick: async () => {
    try { await api.useShippedModel(pid); say("Back to the shipped default model."); await load(); } catch (e) { say((e as Error).message, true); }
  } }, "Use the shipped model");
  app.append(h("section", { class: "card", id: "models-page" }, h("div", { class: "study-header" }, h("h1", {}, "Models"), h("span", { class: "spacer" }),
    admin ? trainButton(pid) : null, admin ? rollbackPrev : null, admin ? rollbackDefault : null), msg, list,
  h("h2", {}, "Training runs"), h("table", { class: "worklist", id: "runs-table" }, h("thead", {}, h("tr", {}, ...["Run", "State", "Epoch", "Started", "Model"].map((t) => h("th", {}, t)))), runsBody)));
  await load();
  return () => {};
}
