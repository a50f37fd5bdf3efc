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
  const [ctData, xrData, models] = await Promise.all([api.trainingData(pid, "ct"), api.trainingData(pid, "xr"), api.models(pid)]);
  const count = { ct: ctData.count, xr: xrData.count };
  // chest radiographs train their own 2D model (none is shipped); CT and radiographs never mix
  const modality = h("select", { id: "train-modality", "aria-label": "What to train" },
    h("option", { value: "ct" }, "CT: lung, GGO, consolidation"), h("option", { value: "xr" }, "Chest radiographs: lung fields, opacities (2D)"));
  if (!count.ct && count.xr) modality.value = "xr";
  const base = h("select", { id: "train-base", "aria-label": "Base model" });
  const num = (id: string, value: string, attrs: Record<string, string | number> = {}) => h("input", { type: "number", id, value, ...attrs });
  const epochs = num("train-epochs", "10", { min: 1 });
  const budget = num("train-budget", "600", { min: 10, step: 10 });
  const device = h("select", { id: "train-device", "aria-label": "Device" }, ...["auto", "cpu", "cuda"].map((d) => h("option", { value: d }, d)));
  const spe = num("train-slices", "200", { min: 1 });
  const vspc = num("train-val-slices", "8", { min: 1, max: 512 });
  const seed = num("train-seed", "0");
  const scratch = h("input", { type: "checkbox", id: "train-scratch" });
  // CT runs also fine-tune the Smart click model on the run's lesion slices (issue 18)
  const smart = h("input", { type: "checkbox", id: "train-smartclick", checked: true,
    title: "After training, fine-tune the Smart click model on the run's lesion slices (25 iterations per epoch, at most 150)" });
  const smartRow = h("tr", {}, h("td", {}, "Fine-tune Smart click too"), h("td", {}, smart));
  const msg = h("p", { class: "error", id: "train-error" });
  const intro = h("p", { id: "train-intro" });
  const missing = h("p", { class: "error", id: "train-missing" });
  const start = h("button", { class: "primary", id: "train-start" }, "Start training");
  const update = () => {
    const m = modality.value as "ct" | "xr";
    const n = count[m];
    const what = m === "xr" ? `radiograph${n === 1 ? "" : "s"}` : `stud${n === 1 ? "y" : "ies"}`;
    intro.textContent = `${n} ${what} with an approved label map. The validation ${m === "xr" ? "radiographs" : "studies"} are drawn once per project and frozen.` +
      (m === "xr" ? " LungLab ships no radiograph model: the first one starts from scratch; each epoch repeats the radiographs under new augmentations." : "");
    const own = models.data.filter((v) => v.modality === m);
    base.replaceChildren(h("option", { value: "" }, m === "xr" ? "active radiograph model (else from scratch)" : "active version (else the shipped model)"),
      ...own.map((v) => h("option", { value: v.id }, `${v.name} (${v.state})`)));
    missing.textContent = m === "xr" ? `Approve ${2 - n} more radiograph${2 - n === 1 ? "" : "s"} to train (${n} of 2): open a radiograph, paint the lung fields and ` +
      "opacities, save, “Submit for review”, then “Approve” on its review page." : trainingMissing(n);
    missing.hidden = n >= 2; (start as HTMLButtonElement).disabled = n < 2;
    smartRow.hidden = m === "xr";
  };
  modality.addEventListener("change", update);
  update();
  start.addEventListener("click", async () => {
    const body: Record<string, unknown> = { modality: modality.value, epochs: Number(epochs.value), time_budget_s: Number(budget.value), device: device.value,
      slices_per_epoch: Number(spe.value), val_slices_per_case: Number(vspc.value), seed: Number(seed.value), from_scratch: scratch.checked };
    if (base.value) body.base_version_id = Number(base.value);
    if (modality.value === "ct" && !smart.checked) body.smartclick_iterations = 0;
    try {
      const r = await api.startTraining(pid, body);
      close(); navigate(`/training/jobs/${r.job.id}`);
    } catch (e) { msg.textContent = (e as Error).message; }
  });
  const dlg = h("dialog", { id: "train-dialog" },
    h("h2", {}, "Train a new model version"), intro,
    h("table", { class: "form" }, h("tbody", {},
      ...([["Train", modality], ["Base model", base], ["Epochs", epochs], ["Time budget (s)", budget], ["Device", device], ["Slices per epoch", spe],
        ["Validation slices per case", vspc], ["Seed", seed], ["From scratch", scratch]] as [string, HTMLElement][]).map(([t, e]) => h("tr", {}, h("td", {}, t), h("td", {}, e))),
      smartRow)),
    missing, msg,
    h("div", { class: "buttons" }, start, h("button", { id: "train-cancel", onclick: () => close() }, "Cancel")));
  const close = showModal(dlg);
}
