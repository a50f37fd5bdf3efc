/** The view grid: 1x1 / 1x3 / 2x2 layouts of the axial, coronal, sagittal and 3D panes; NiiVue loaded on demand. */
import type { Orientation } from "../../core/plane";
import { h } from "../../ui/dom";
import type { Render3D } from "../../views/render-3d";
import type { StudyViewer } from "../../views/study-viewer";

export type Layout = "1x1" | "1x3" | "2x2";
export type Pane = Orientation | "3d";
export const LAYOUTS: Layout[] = ["1x1", "1x3", "2x2"];
export const PANES: Pane[] = ["axial", "coronal", "sagittal", "3d"];

export class PaneLayout {
  readonly grid = h("div", { class: "view-grid", id: "view-grid" });
  layout: Layout = "2x2";
  /** The pane shown in 1x1. */
  single: Pane = "axial";
  r3d: Render3D | null = null;
  /** Called after every layout change (the toolbar marks the current one). */
  onChange: Array<() => void> = [];
  private panes: Record<Pane, HTMLDivElement>;

  constructor(private viewer: StudyViewer) {
    this.panes = {
      axial: h("div", { class: "pane", "data-pane": "axial" }), coronal: h("div", { class: "pane", "data-pane": "coronal" }),
      sagittal: h("div", { class: "pane", "data-pane": "sagittal" }), "3d": h("div", { class: "pane", "data-pane": "3d" }),
    };
    for (const o of ["axial", "coronal", "sagittal"] as Orientation[]) viewer.addView(this.panes[o], o);
  }

  /** NiiVue (WebGL2, ~1 MB) is loaded only when a 3D pane is first shown. */
  private async show3d(): Promise<void> {
    if (!this.r3d) { const m = await import("../../views/render-3d"); this.r3d = this.r3d ?? new m.Render3D(this.panes["3d"], this.viewer); }
    await this.r3d.init(); await this.r3d.refreshLabels();
  }

  get shows3d(): boolean { return this.layout === "2x2" || (this.layout === "1x1" && this.single === "3d"); }

  set(l: Layout): void {
    this.layout = l;
    const grid = this.grid, viewer = this.viewer;
    grid.className = `view-grid layout-${l}`;
    grid.innerHTML = "";
    const shown: Pane[] = l === "1x1" ? [this.single] : l === "1x3" ? ["axial", "coronal", "sagittal"] : ["axial", "coronal", "sagittal", "3d"];
    for (const p of shown) grid.append(this.panes[p]);
    for (const f of this.onChange) f();
    for (const v of viewer.views) v.resize();
    if (shown.includes("3d")) void this.show3d();
    if (l === "1x1" && this.single !== "3d") viewer.activeView = viewer.view(this.single as Orientation) ?? viewer.activeView;
    viewer.invalidate();
  }

  cycle(): void { this.set(this.layout === "1x1" ? "1x3" : this.layout === "1x3" ? "2x2" : "1x1"); }

  dispose(): void { this.r3d?.dispose(); }
}
