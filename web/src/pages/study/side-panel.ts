/** The side panel: label legend with volumes, opacity / outline / overlay, cursor read-out, and the versions list. */
import type { LabelSpec } from "../../core/types";
import { h } from "../../ui/dom";
import { DEFAULT_LABEL_SCHEMA } from "../../ui/labels";
import type { StudyContext } from "./context";

export interface SidePanel {
  el: HTMLElement;
  outline: HTMLInputElement;
  overlay: HTMLInputElement;
  diffInfo: HTMLElement;
  versionList: HTMLUListElement;
  /** Fills the legend and the label selector from the project's label schema. */
  applySchema(schema: LabelSpec[] | undefined, labelSel: HTMLSelectElement): void;
  updateLegend(): void;
}

export function sidePanel(ctx: StudyContext, loadNewestAi: () => void, button: (l: string, t: string, on: () => void, id?: string) => HTMLButtonElement): SidePanel {
  const { viewer, ct, labels, g } = ctx;
  const legendBody = h("tbody");
  const opacity = h("input", { type: "range", min: 0, max: 1, step: 0.05, value: String(viewer.opacity), id: "opacity", "aria-label": "Label opacity",
    oninput: (e: Event) => { viewer.opacity = Number((e.target as HTMLInputElement).value); viewer.rebuildLuts(); } });
  const outline = h("input", { type: "checkbox", id: "outline", onchange: (e: Event) => { viewer.outline = (e.target as HTMLInputElement).checked; viewer.rebuildLuts(); } });
  const overlay = h("input", { type: "checkbox", id: "overlay", checked: true, onchange: (e: Event) => { viewer.overlayOn = (e.target as HTMLInputElement).checked; viewer.invalidate(); } });
  const diffInfo = h("div", { class: "diff-info", id: "diff-info" });
  const versionList = h("ul", { class: "versions", id: "versions" });
  const cursorInfo = h("div", { class: "cursor-info", id: "cursor-info" });
  const el = h("aside", { class: "side" },
    h("h2", {}, "Labels"), h("table", { class: "legend", id: "legend" }, legendBody),
    h("label", {}, "Opacity ", opacity), h("label", {}, outline, " Outline only"), h("label", {}, overlay, " Show labels (V)"),
    cursorInfo, h("h2", {}, "Versions"),
    h("div", {}, button("Load newest AI proposal", "Load the newest AI version", () => loadNewestAi(), "load-ai")),
    diffInfo, versionList);

  function updateLegend(): void {
    for (const td of Array.from(legendBody.querySelectorAll<HTMLElement>("td.vol"))) {
      const l = Number(td.dataset.vol);
      td.textContent = `${viewer.labels.volumeMl(l).toFixed(1)} mL`;
    }
  }
  function applySchema(projectSchema: LabelSpec[] | undefined, labelSel: HTMLSelectElement): void {
    const schema = projectSchema?.length ? projectSchema : DEFAULT_LABEL_SCHEMA;
    if (!schema.some((l) => l.value === viewer.activeLabel)) viewer.activeLabel = schema[Math.min(1, schema.length - 1)].value;
    for (const l of schema) viewer.labelColors[l.value] = l.color;
    labelSel.innerHTML = "";
    legendBody.innerHTML = "";
    for (const l of schema) {
      labelSel.append(h("option", { value: l.value, selected: l.value === viewer.activeLabel }, `${l.value} ${l.name}`));
      const vis = h("input", { type: "checkbox", checked: viewer.labelVisible[l.value], "aria-label": `Show ${l.name}`,
        onchange: (e: Event) => { viewer.labelVisible[l.value] = (e.target as HTMLInputElement).checked; viewer.invalidate(); } });
      legendBody.append(h("tr", { "data-label": l.value }, h("td", {}, vis), h("td", {}, h("span", { class: "swatch", style: `background:${l.color}` })),
        h("td", {}, `${l.value} ${l.name}`), h("td", { class: "num vol", "data-vol": l.value }, "")));
    }
    viewer.rebuildLuts(); updateLegend();
  }
  labels.listeners.push(() => { updateLegend(); });
  viewer.onHover.push(() => {
    const v = viewer.hover;
    if (!v) { cursorInfo.textContent = ""; return; }
    const i = ct.index(v[0], v[1], v[2]);
    cursorInfo.textContent = `x ${v[0]} y ${v[1]} z ${v[2]} (slice ${viewer.sliceNumber("axial", v[2])}/${g.nz}) · ${ct.hu[i]} HU · label ${labels.data[i]}`;
  });
  return { el, outline, overlay, diffInfo, versionList, applySchema, updateLegend };
}
