/** New model version vs the active one: Dice and size error per label (volume in mL for CT, area in cm² for radiographs), cases improved / worsened, the gate. */
import type { Comparison, ComparisonSummary } from "../../core/types";
import { h } from "../../ui/dom";
import { f1, f3, TRAINING_LABELS as LABELS } from "./format";

export function comparisonView(c: Comparison, newName: string): HTMLElement {
  const a = c.active;
  const area = c.new.abs_area_error_cm2 !== undefined;
  const [what, unit] = area ? ["area error", "cm²"] : ["vol. error", "mL"];
  const err = (s: ComparisonSummary | null | undefined, l: string) => (area ? s?.abs_area_error_cm2 : s?.abs_volume_error_ml)?.[l];
  return h("div", { class: "comparison", id: "comparison" },
    h("table", { class: "worklist" },
      h("thead", {}, h("tr", {}, h("th", {}, "Label"), h("th", {}, `Dice new (${newName})`), h("th", {}, `Dice active (${c.active_model ?? "none"})`), h("th", {}, "Δ Dice"),
        h("th", {}, `|${what}| new ${unit}`), h("th", {}, `|${what}| active ${unit}`))),
      h("tbody", {}, ...LABELS.map((l) => {
        const dn = c.new.dice[l], da = a?.dice[l];
        const d = dn !== null && dn !== undefined && da !== null && da !== undefined ? dn - da : null;
        return h("tr", { "data-label": l }, h("td", {}, l), h("td", { class: "num" }, f3(dn)), h("td", { class: "num" }, f3(da)),
          h("td", { class: `num ${d !== null && d < -c.gate.tolerance ? "error" : ""}` }, d === null ? "n/a" : `${d >= 0 ? "+" : ""}${d.toFixed(3)}`),
          h("td", { class: "num" }, f1(err(c.new, l))), h("td", { class: "num" }, f1(err(a, l))));
      }))),
    h("p", { id: "cases-changed" }, `Validation cases: ${c.new.cases} · improved ${c.improved.length}${c.improved.length ? ` (studies ${c.improved.join(", ")})` : ""} · worsened ${c.worsened.length}${c.worsened.length ? ` (studies ${c.worsened.join(", ")})` : ""} · unchanged ${c.per_case.filter((p) => p.change !== "improved" && p.change !== "worsened").length}`),
    h("p", { id: "gate", class: c.gate.passed ? "msg" : "error" }, c.gate.passed ? `Gate passed (no label more than ${c.gate.tolerance} Dice below the active model).` : `Gate failed: ${c.gate.reasons.join("; ")}`));
}
