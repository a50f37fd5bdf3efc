/** The on-screen keyboard shortcut sheet (opens with ?). */
import { h } from "../../ui/dom";
import { LABELS } from "../../ui/labels";

export const SHORTCUTS: [string, string][] = [
  [LABELS.map((l) => l.value).join(" / "), `Select label: ${LABELS.map((l) => l.short).join(" / ")}`], ["B", "Brush"], ["E", "Eraser"],
  ["T", "Threshold brush (HU range)"], ["G", "Region grow (click, HU range; 2D or 3D)"], ["X", "Erase active label in a box"],
  ["S", "Smart click: AI redraws the lesion (click = add, right or Shift click = remove; 3D with the 2D/3D switch)"],
  ["N / Esc", "Navigate (drag = window/level, click = crosshair)"], ["[ / ]", "Brush radius −/+ 1 mm"],
  ["W", "Cycle window presets (lung W1500/L-600, mediastinum W350/L50)"], ["Right drag", "Free window/level"],
  ["Wheel, ↑/↓, PageUp/PageDown", "Scroll slices (1 / 5)"], ["Ctrl+wheel, + / −, R", "Zoom, reset view"],
  ["Middle or Shift+drag", "Pan"], ["F", "Fill between slices (active label)"], ["O / V", "Outline only / show labels"],
  ["L", "Cycle layout 1x1, 1x3, 2x2"], ["Ctrl+Z / Ctrl+Y", "Undo / redo"], ["Ctrl+S", "Save a new version"], ["?", "This sheet"],
];

export function shortcutSheet(parent: HTMLElement): { toggle(): void; close(): void } {
  const el = h("div", { class: "sheet", id: "shortcut-sheet", role: "dialog", "aria-label": "Keyboard shortcuts", hidden: true },
    h("h2", {}, "Keyboard shortcuts"),
    h("table", {}, ...SHORTCUTS.map(([k, d]) => h("tr", {}, h("td", {}, h("kbd", {}, k)), h("td", {}, d)))),
    h("p", { class: "muted" }, "Press ? or Esc to close."));
  parent.append(el);
  return { toggle: () => { el.hidden = !el.hidden; }, close: () => { el.hidden = true; } };
}
