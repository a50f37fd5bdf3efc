/**
 * A reader's study-level findings on a radiograph: the RSNA consensus category for COVID-19,
 * the Brixia score (zones A-F, 0-3 each, 0-18) and the RALE score (each lung 0-4, 0-8).
 */
import * as api from "../../core/api";
import type { FindingsIn, ReadingOut, RsnaCategory } from "../../core/types";
import { h } from "../../ui/dom";

export const CATEGORIES: [RsnaCategory, string, string][] = [
  ["normal", "Negative for pneumonia", "no lung opacities"],
  ["typical", "Typical appearance", "multifocal, bilateral, peripheral opacities, lower lungs"],
  ["indeterminate", "Indeterminate appearance", "absent typical findings, unilateral, central or upper"],
  ["atypical", "Atypical appearance", "pneumothorax, pleural effusion, lobar consolidation, nodules, cavitation"],
];
const ZONES: [string, string][] = [["A", "right upper"], ["B", "right middle"], ["C", "right lower"], ["D", "left upper"], ["E", "left middle"], ["F", "left lower"]];

export interface FindingsForm {
  el: HTMLElement;
  /** Saves the form (resolves false when no category is chosen). */
  save(): Promise<boolean>;
  saved(): boolean;
  setEditable(editable: boolean): void;
}

function select(id: string, max: number, label: string, value: number | null): HTMLSelectElement {
  const s = h("select", { id, "aria-label": label, class: "score" },
    h("option", { value: "" }, "–"), ...Array.from({ length: max + 1 }, (_, v) => h("option", { value: String(v) }, String(v))));
  s.value = value === null ? "" : String(value);
  return s;
}

export function findingsForm(sid: number, mine: ReadingOut | null, say: (t: string, err?: boolean) => void): FindingsForm {
  let savedJson = "";
  const radios = CATEGORIES.map(([value, name, hint]) => {
    const input = h("input", { type: "radio", name: "rsna-category", value, id: `cat-${value}` });
    if (mine?.category === value) input.checked = true;
    return { input, row: h("label", { class: "category", for: `cat-${value}`, title: hint }, input, ` ${name}`) };
  });
  const brixia = ZONES.map(([z, where], i) => select(`brixia-${z}`, 3, `Brixia zone ${z} (${where})`, mine?.brixia?.[i] ?? null));
  const rale = ["right", "left"].map((side, i) => select(`rale-${side}`, 4, `RALE ${side} lung`, mine?.rale?.[i] ?? null));
  const note = h("textarea", { id: "findings-note", rows: 2, maxlength: 2000, placeholder: "Note (optional)", "aria-label": "Note" });
  note.value = mine?.note ?? "";
  const brixiaTotal = h("strong", { id: "brixia-total" });
  const raleTotal = h("strong", { id: "rale-total" });
  const status = h("span", { class: "muted", id: "findings-status" });
  const saveBtn = h("button", { id: "save-findings", onclick: () => void form.save() }, "Save findings");

  const values = (xs: HTMLSelectElement[]) => (xs.every((s) => s.value === "") ? null : xs.map((s) => Number(s.value || 0)));
  const current = (): FindingsIn | null => {
    const cat = radios.find((r) => r.input.checked)?.input.value as RsnaCategory | undefined;
    return cat ? { category: cat, brixia: values(brixia), rale: values(rale), note: note.value } : null;
  };
  const update = () => {
    const b = values(brixia), r = values(rale);
    brixiaTotal.textContent = b ? `${b.reduce((a, v) => a + v, 0)} / 18` : "not scored";
    raleTotal.textContent = r ? `${r.reduce((a, v) => a + v, 0)} / 8` : "not scored";
    const c = current();
    status.textContent = !c ? "choose a category" : JSON.stringify(c) === savedJson ? "saved" : "not saved";
  };
  for (const el of [...radios.map((r) => r.input), ...brixia, ...rale, note]) el.addEventListener("input", update);
  for (const el of [...radios.map((r) => r.input), ...brixia, ...rale]) el.addEventListener("change", update);

  const el = h("section", { class: "findings", id: "findings-form" },
    h("h2", {}, "Findings"),
    h("fieldset", {}, h("legend", {}, "RSNA category (COVID-19)"), ...radios.map((r) => r.row)),
    h("fieldset", {}, h("legend", {}, "Brixia score (0-3 per zone)"),
      h("div", { class: "brixia-grid" }, ...ZONES.map(([z, where], i) => h("label", { title: where }, `${z} `, brixia[i]))),
      h("div", {}, "Total ", brixiaTotal)),
    h("fieldset", {}, h("legend", {}, "RALE (0-4 per lung)"),
      h("div", { class: "brixia-grid" }, h("label", {}, "Right ", rale[0]), h("label", {}, "Left ", rale[1])),
      h("div", {}, "Total ", raleTotal)),
    note, h("div", { class: "row" }, saveBtn, status));

  const form: FindingsForm = {
    el,
    saved: () => { const c = current(); return c !== null && JSON.stringify(c) === savedJson; },
    async save() {
      const c = current();
      if (!c) { say("Choose the RSNA category first.", true); update(); return false; }
      try {
        await api.saveRadiographReading(sid, c);
        savedJson = JSON.stringify(c); say("Findings saved."); update(); return true;
      } catch (e) { say(`Findings not saved: ${(e as Error).message}`, true); return false; }
    },
    setEditable(editable: boolean) {
      for (const x of [...radios.map((r) => r.input), ...brixia, ...rale, note, saveBtn]) (x as HTMLInputElement).disabled = !editable;
    },
  };
  if (mine) { const c = current(); savedJson = c ? JSON.stringify(c) : ""; }
  update();
  return form;
}
