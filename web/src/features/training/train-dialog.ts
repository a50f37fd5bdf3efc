/** The Train… button and its dialog (project page, models page): start a training run on the approved label maps. */
import * as api from "../../core/api";
import { h, navigate } from "../../ui/dom";
import { showModal } from "../../ui/dialog";

export function trainButton(pid: number): HTMLElement {
  return h("button", { class: "primary", id: "train-btn", title: "Fine-tune the model on the approved label maps", onclick: () => void trainDialog(pid) }, "Train…");
}

/** What training still needs, and how to get it (issue 16: one admin may do it all). */
export function trainingMissing(approved: number, needed = 2): string {
  const more = needed - approved;
  return more <= 0 ? "" : `Approve ${more} more stud${more === 1 ? "y" : "ies"} to train (${approved} of ${needed}): open a study, run AI, correct it, save, ` +
    "click “Submit for review”, then “Approve” on its review page. Working alone, you may approve your own reading.";
}

async function trainDialog(pid: number): Promise<void> {
  const [data, models] = await Promise.all([api.trainingData(pid), api.models(pid)]);
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
    enough ? null : h("p", { class: "error", id: "train-missing" }, trainingMissing(data.count)), msg,
    h("div", { class: "buttons" },
      h("button", { class: "primary", id: "train-start", disabled: !enough, onclick: async () => {
        const body: Record<string, unknown> = { epochs: Number(epochs.value), time_budget_s: Number(budget.value), device: device.value,
          slices_per_epoch: Number(spe.value), val_slices_per_case: Number(vspc.value), seed: Number(seed.value), from_scratch: scratch.checked };
        if (base.value) body.base_version_id = Number(base.value);
        try {
          const r = await api.startTraining(pid, body);
          close(); navigate(`/training/jobs/${r.job.id}`);
        } catch (e) { msg.textContent = (e as Error).message; }
      } }, "Start training"),
      h("button", { id: "train-cancel", onclick: () => close() }, "Cancel")));
  const close = showModal(dlg);
}
