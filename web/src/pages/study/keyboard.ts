/** Keyboard shortcuts of the study view (the sheet in shortcut-sheet.ts lists them). */
import type { Tool } from "../../views/study-viewer";
import type { StudyContext } from "./context";
import type { PaneLayout } from "./pane-layout";
import type { SidePanel } from "./side-panel";

export interface KeyActions {
  setTool(t: Tool): void;
  undo(): void; redo(): void; save(): void; fill(): void;
  toggleShortcuts(): void; closeShortcuts(): void;
}

/** Listens on the document; returns the function that stops listening. */
export function bindKeys(ctx: StudyContext, panes: PaneLayout, side: SidePanel, act: KeyActions): () => void {
  const viewer = ctx.viewer;
  const onKey = (e: KeyboardEvent) => {
    const t = e.target as HTMLElement;
    if (document.querySelector("dialog[open]") && e.key !== "Escape") return;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA") && e.key !== "Escape") return;
    const k = e.key, ctrl = e.ctrlKey || e.metaKey;
    const av = viewer.activeView ?? viewer.views[0];
    let handled = true;
    if (ctrl && (k === "z" || k === "Z") && !e.shiftKey) act.undo();
    else if (ctrl && (k === "y" || k === "Y" || ((k === "z" || k === "Z") && e.shiftKey))) act.redo();
    else if (ctrl && (k === "s" || k === "S")) act.save();
    else if (ctrl) handled = false;
    else if (k === "1" || k === "2" || k === "3") { viewer.activeLabel = Number(k); ctx.sync(); }
    else if (k === "b" || k === "B") act.setTool("brush");
    else if (k === "e" || k === "E") act.setTool("eraser");
    else if (k === "t" || k === "T") act.setTool("threshold");
    else if (k === "g" || k === "G") act.setTool("grow");
    else if (k === "x" || k === "X") act.setTool("box");
    else if (k === "s" || k === "S") act.setTool("smart");
    else if (k === "n" || k === "N" || k === "Escape") { act.setTool("navigate"); act.closeShortcuts(); }
    else if (k === "w" || k === "W") viewer.cyclePreset();
    else if (k === "[") { viewer.brushRadiusMm = Math.max(0.5, viewer.brushRadiusMm - 1); ctx.sync(); }
    else if (k === "]") { viewer.brushRadiusMm = Math.min(50, viewer.brushRadiusMm + 1); ctx.sync(); }
    else if (k === "?") act.toggleShortcuts();
    // up / PageUp / Home go toward the head (slice 1), down / PageDown / End toward the feet
    else if (k === "ArrowUp" || k === "ArrowRight") viewer.scrollTowardHead(av, 1);
    else if (k === "ArrowDown" || k === "ArrowLeft") viewer.scrollTowardHead(av, -1);
    else if (k === "PageUp") viewer.scrollTowardHead(av, 5);
    else if (k === "PageDown") viewer.scrollTowardHead(av, -5);
    else if (k === "Home") viewer.scrollTowardHead(av, 1e6);
    else if (k === "End") viewer.scrollTowardHead(av, -1e6);
    else if (k === "f" || k === "F") act.fill();
    else if (k === "o" || k === "O") { viewer.outline = !viewer.outline; side.outline.checked = viewer.outline; viewer.rebuildLuts(); }
    else if (k === "v" || k === "V") { viewer.overlayOn = !viewer.overlayOn; side.overlay.checked = viewer.overlayOn; viewer.invalidate(); }
    else if (k === "l" || k === "L") panes.cycle();
    else if (k === "+" || k === "=") { av.zoom *= 1.25; viewer.invalidate(); av.dirty = true; }
    else if (k === "-") { av.zoom /= 1.25; av.dirty = true; viewer.invalidate(); }
    else if (k === "r" || k === "R") { av.zoom = 1; av.pan = [0, 0]; av.dirty = true; viewer.invalidate(); }
    else handled = false;
    if (handled) e.preventDefault();
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
