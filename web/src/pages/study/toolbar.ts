/** The study toolbar: layout, window presets, tools, label / radius / 2D-3D, HU range, label operations, undo / redo. */
import { h } from "../../ui/dom";
import { HU_PRESETS, WINDOW_PRESETS, type Tool } from "../../views/study-viewer";
import type { StudyContext } from "./context";
import { LAYOUTS, PANES, type Pane, type PaneLayout } from "./pane-layout";

/** What the toolbar's buttons do (label-ops.ts, the shortcut sheet). */
export interface ToolbarActions {
  setTool(t: Tool): void;
  undo(): void; redo(): void;
  fill(): void; removeIslands(): void; smooth(): void;
  toggleShortcuts(): void;
}

export interface Toolbar {
  el: HTMLElement;
  labelSel: HTMLSelectElement;
  /** Smallest island kept, in mm³. */
  islandMinMm3(): number;
  sync(): void;
}

export const TOOL_DEFS: [Tool, string, string][] = [["navigate", "Navigate", "N"], ["brush", "Brush", "B"], ["eraser", "Eraser", "E"],
  ["threshold", "Threshold brush", "T"], ["grow", "Region grow", "G"], ["box", "Erase in box", "X"],
  ["smart", "Smart click", "S"]];

export const button = (label: string, title: string, on: () => void, id?: string) => h("button", { type: "button", title, onclick: on, id }, label);

export function studyToolbar(ctx: StudyContext, panes: PaneLayout, act: ToolbarActions): Toolbar {
  const { viewer, labels } = ctx;
  const btn = button;
  const singleSel = h("select", { id: "single-pane", "aria-label": "View shown in 1x1", onchange: (e: Event) => { panes.single = (e.target as HTMLSelectElement).value as Pane; panes.set("1x1"); } },
    ...PANES.map((p) => h("option", { value: p }, p === "3d" ? "3D" : p)));
  const layoutBar = h("div", { class: "group", role: "group", "aria-label": "Layout" },
    ...LAYOUTS.map((l) => btn(l, `Layout ${l} (L cycles)`, () => panes.set(l), `layout-${l}`)), singleSel);
  panes.onChange.push(() => {
    singleSel.value = panes.single;
    for (const b of layoutBar.querySelectorAll("button")) b.classList.toggle("on", b.id === `layout-${panes.layout}`);
  });
  const wlText = h("span", { class: "wl", id: "wl-text" });
  const windowBar = h("div", { class: "group", role: "group", "aria-label": "Window" },
    ...WINDOW_PRESETS.map((p, i) => btn(p.name, `W${p.width}/L${p.level} (W cycles)`, () => { viewer.presetIndex = i; viewer.setWindow(p.width, p.level); }, `preset-${p.name.toLowerCase()}`)), wlText);
  const toolBtns = TOOL_DEFS.map(([t, name, key]) => btn(`${name} (${key})`, `${name} [${key}]`, () => act.setTool(t), `tool-${t}`));
  const labelSel = h("select", { id: "active-label", "aria-label": "Active label", onchange: (e: Event) => { viewer.activeLabel = Number((e.target as HTMLSelectElement).value); ctx.sync(); } });
  const radius = h("input", { type: "number", id: "brush-radius", min: 0.5, max: 50, step: 0.5, value: String(viewer.brushRadiusMm), "aria-label": "Brush radius in mm",
    onchange: (e: Event) => { viewer.brushRadiusMm = Math.max(0.5, Number((e.target as HTMLInputElement).value) || 5); ctx.sync(); } });
  const sphere = h("select", { id: "brush-mode", "aria-label": "2D or 3D", onchange: (e: Event) => { viewer.sphere = (e.target as HTMLSelectElement).value === "3d"; ctx.sync(); } },
    h("option", { value: "2d" }, "2D"), h("option", { value: "3d" }, "3D"));
  const huLo = h("input", { type: "number", id: "hu-lo", step: 10, "aria-label": "HU range low", onchange: () => { viewer.huRange = [Number(huLo.value), Number(huHi.value)]; } });
  const huHi = h("input", { type: "number", id: "hu-hi", step: 10, "aria-label": "HU range high", onchange: () => { viewer.huRange = [Number(huLo.value), Number(huHi.value)]; } });
  const huPresetBtns = Object.entries(HU_PRESETS).map(([name, r]) => btn(name, `HU ${r[0]}..${r[1]}`, () => { viewer.huRange = [...r]; ctx.sync(); }, `hu-${name.toLowerCase()}`));
  const undoBtn = btn("Undo", "Undo (Ctrl+Z)", () => act.undo(), "undo");
  const redoBtn = btn("Redo", "Redo (Ctrl+Y)", () => act.redo(), "redo");
  const islandMin = h("input", { type: "number", id: "island-min", min: 1, value: "100", step: 10, "aria-label": "Smallest island kept (mm³)" });
  const el = h("div", { class: "toolbar" }, layoutBar, windowBar,
    h("div", { class: "group", role: "group", "aria-label": "Tools" }, ...toolBtns),
    h("div", { class: "group" }, h("label", {}, "Label ", labelSel), h("label", {}, "Radius mm ", radius), sphere),
    h("div", { class: "group", role: "group", "aria-label": "HU range" }, h("label", {}, "HU ", huLo, "..", huHi), ...huPresetBtns),
    h("div", { class: "group", role: "group", "aria-label": "Label operations" },
      btn("Fill between slices (F)", "Interpolate the active label across skipped slices along the active view", () => act.fill(), "fill-between"),
      btn("Remove islands", "Remove islands of the active label smaller than the given size", () => act.removeIslands(), "remove-islands"),
      h("label", {}, "< ", islandMin, " mm³"),
      btn("Smooth", "3x3x3 majority smoothing of the active label", () => act.smooth(), "smooth"), undoBtn, redoBtn),
    btn("?", "Keyboard shortcuts (?)", () => act.toggleShortcuts(), "shortcuts-btn"));

  return {
    el, labelSel,
    islandMinMm3: () => Number(islandMin.value),
    sync: () => {
      for (const [i, [t]] of TOOL_DEFS.entries()) toolBtns[i].classList.toggle("on", viewer.tool === t);
      labelSel.value = String(viewer.activeLabel);
      radius.value = String(viewer.brushRadiusMm);
      sphere.value = viewer.sphere ? "3d" : "2d";
      huLo.value = String(viewer.huRange[0]); huHi.value = String(viewer.huRange[1]);
      wlText.textContent = `W ${viewer.windowWidth} / L ${viewer.windowLevel}`;
      undoBtn.disabled = !labels.canUndo; redoBtn.disabled = !labels.canRedo;
    },
  };
}
