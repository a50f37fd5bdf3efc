/** Shared state of an open study: volume, labels, cursor, window, tools; owns the 2D views. */
import type { CtVolume, LabelMap } from "../core/volume";
import { SliceView } from "./slice-view";
import type { Orientation, Vec3 } from "../core/plane";
import { HU_PRESETS, WINDOW_PRESETS, type Tool, type ViewerState } from "./viewer-state";
import { strokeTo, type BrushParams } from "../tools/brush";
import { regionGrow } from "../tools/region-grow";
import { eraseInBox } from "../tools/cleanup";
import { loadSettings } from "../core/user-settings";
import { DEFAULT_LABEL_COLORS } from "../core/labels";

export { HU_PRESETS, WINDOW_PRESETS, type Tool } from "./viewer-state";

function hexToRgb(hex: string): [number, number, number] {
  const m = hex.replace("#", "");
  return [parseInt(m.slice(0, 2), 16), parseInt(m.slice(2, 4), 16), parseInt(m.slice(4, 6), 16)];
}

export class StudyViewer implements ViewerState {
  views: SliceView[] = [];
  cursor: Vec3;
  windowWidth = 1500;
  windowLevel = -600;
  presetIndex = 0;
  grayLut = new Uint32Array(65536);
  blendLut = new Uint32Array(256 * 256);
  labelColors: string[] = [...DEFAULT_LABEL_COLORS];
  labelVisible = [false, true, true, true];
  opacity = 0.45;
  outline = false;
  overlayOn = true;
  crosshair = true;
  private diff: Uint8Array | null = null;
  diffEpoch = 0;
  lutEpoch = 0;
  get diffRef(): Uint8Array | null { return this.diff; }
  set diffRef(d: Uint8Array | null) { this.diff = d; this.diffEpoch++; this.invalidate(); }
  tool: Tool = "navigate";
  activeLabel = 2;
  brushRadiusMm = 5;
  sphere = false;
  huRange: [number, number] = [...HU_PRESETS.GGO];
  frames = 0;
  hover: Vec3 | null = null;
  zUpIsSuperior: boolean;
  activeView: SliceView | null = null;
  paintingView: SliceView | null = null;
  onChange: Array<() => void> = [];
  onHover: Array<() => void> = [];
  /** Smart click tool: a left click (positive) or right / Shift click (negative) on an axial voxel. */
  onSmartClick: Array<(vox: Vec3, positive: boolean) => void> = [];
  private raf = 0;

  constructor(public ct: CtVolume, public labels: LabelMap, zUpIsSuperior: boolean) {
    this.zUpIsSuperior = zUpIsSuperior;
    const g = ct.g;
    this.cursor = [Math.floor(g.nx / 2), Math.floor(g.ny / 2), Math.floor(g.nz / 2)];
    this.rebuildLuts();
    labels.listeners.push(() => this.invalidate());
  }

  addView(root: HTMLElement, o: Orientation): SliceView {
    const v = new SliceView(root, o, this);
    this.views.push(v);
    this.attach(v);
    if (!this.activeView) this.activeView = v;
    return v;
  }

  view(o: Orientation): SliceView | undefined { return this.views.find((v) => v.orientation === o); }

  labelColor(l: number): string { return this.labelColors[l] || "#ff00ff"; }

  rebuildLuts(): void {
    const lo = this.windowLevel - this.windowWidth / 2, w = Math.max(1, this.windowWidth);
    for (let k = 0; k < 65536; k++) {
      const hu = k - 32768;
      let g = Math.round(((hu - lo) / w) * 255);
      g = g < 0 ? 0 : g > 255 ? 255 : g;
      this.grayLut[k] = 0xff000000 | (g << 16) | (g << 8) | g;
    }
    const a = this.opacity;
    for (let l = 0; l < 256; l++) {
      const [r, gg, b] = hexToRgb(this.labelColor(l));
      for (let g = 0; g < 256; g++) {
        const mix = (c: number) => Math.round(g * (1 - a) + c * a);
        this.blendLut[(l << 8) | g] = g === 255 && this.outline
          ? 0xff000000 | (b << 16) | (gg << 8) | r
          : 0xff000000 | (mix(b) << 16) | (mix(gg) << 8) | mix(r);
      }
    }
    this.lutEpoch++;
    this.invalidate();
  }

  setWindow(width: number, level: number): void {
    this.windowWidth = Math.max(1, Math.round(width)); this.windowLevel = Math.round(level);
    this.rebuildLuts(); this.emit();
  }

  cyclePreset(): void {
    this.presetIndex = (this.presetIndex + 1) % WINDOW_PRESETS.length;
    const p = WINDOW_PRESETS[this.presetIndex];
    this.setWindow(p.width, p.level);
  }

  invalidate(): void {
    for (const v of this.views) v.dirty = true;
    if (!this.raf) this.raf = requestAnimationFrame(() => this.renderNow());
  }

  renderNow(): void {
    this.raf = 0;
    for (const v of this.views) if (v.dirty && v.canvas.isConnected && v.canvas.clientWidth > 0) v.render();
  }

  emit(): void { for (const f of this.onChange) f(); }

  scroll(v: SliceView, delta: number): void {
    const n = v.plane.normal;
    const max = v.plane.depth - 1;
    this.cursor[n] = Math.max(0, Math.min(max, this.cursor[n] + delta));
    this.invalidate(); this.emit();
  }

  /**
   * Scrolls `steps` slices toward the head (negative: toward the feet) on the axial view; on
   * coronal and sagittal views, `steps` slices up the index.
   */
  scrollTowardHead(v: SliceView, steps: number): void {
    this.scroll(v, v.plane.normal === 2 && !this.zUpIsSuperior ? -steps : steps);
  }

  /**
   * The slice number shown for `index` of a view: axial slices count from 1 at the most cranial
   * slice (the PACS convention), whatever the order of z in the volume.
   */
  sliceNumber(o: Orientation, index: number): number {
    const v = this.view(o);
    const depth = v ? v.plane.depth : this.ct.g.nz;
    return o === "axial" && this.zUpIsSuperior ? depth - index : index + 1;
  }

  setSlice(o: Orientation, index: number): void {
    const v = this.view(o); if (!v) return;
    this.cursor[v.plane.normal] = Math.max(0, Math.min(v.plane.depth - 1, index));
    this.invalidate(); this.emit();
  }

  brushParams(v: SliceView): BrushParams {
    return {
      radiusMm: this.brushRadiusMm, sphere: this.sphere, normal: v.plane.normal,
      value: this.tool === "eraser" ? 0 : this.activeLabel,
      huRange: this.tool === "threshold" ? this.huRange : null,
    };
  }

  private attach(v: SliceView): void {
    const c = v.canvas;
    let drag: null | { kind: string; x: number; y: number; ww: number; wl: number; pan: [number, number]; last: Vec3 | null; moved: boolean; start?: [number, number] } = null;
    c.addEventListener("contextmenu", (e) => e.preventDefault());
    c.addEventListener("pointerdown", (e) => {
      c.setPointerCapture(e.pointerId);
      this.activeView = v;
      const vox = v.voxelAt(e.offsetX, e.offsetY);
      const base = { x: e.clientX, y: e.clientY, ww: this.windowWidth, wl: this.windowLevel, pan: [...v.pan] as [number, number], last: null, moved: false };
      if (this.tool === "smart" && vox && v.plane.normal === 2 && (e.button === 0 || e.button === 2)) {
        for (const f of this.onSmartClick) f(vox, e.button === 0 && !e.shiftKey);
        return;
      }
      if (e.button === 1 || (e.button === 0 && e.shiftKey)) { drag = { kind: "pan", ...base }; return; }
      if (e.button === 2) { drag = { kind: "wl", ...base }; return; }
      if (e.button !== 0) return;
      const t = this.tool;
      if ((t === "brush" || t === "eraser" || t === "threshold")) {
        this.labels.begin(t);
        this.paintingView = v;
        drag = { kind: "paint", ...base };
        if (vox) { strokeTo(this.labels, this.ct, null, vox, this.brushParams(v)); drag.last = vox; this.labels.changed(); }
      } else if (t === "grow") {
        if (vox) {
          this.labels.begin("region grow");
          regionGrow(this.labels, this.ct, vox, this.huRange[0], this.huRange[1], this.activeLabel,
            this.sphere ? null : v.plane.normal, 20_000_000);
          this.labels.commit(); this.emit();
        }
      } else if (t === "box") {
        const [cc, rr] = v.toPlane(e.offsetX, e.offsetY);
        drag = { kind: "box", ...base, start: [Math.floor(cc), Math.floor(rr)] };
      } else {
        drag = { kind: "wl", ...base };
        if (vox) { this.cursor = vox; this.invalidate(); this.emit(); }
      }
    });
    c.addEventListener("pointermove", (e) => {
      v.pointer = [e.offsetX, e.offsetY];
      const vox = v.voxelAt(e.offsetX, e.offsetY);
      this.hover = vox; for (const f of this.onHover) f();
      if (this.tool !== "navigate") v.dirty = true;
      if (drag) {
        const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
        if (drag.kind === "pan") { v.pan = [drag.pan[0] + dx, drag.pan[1] + dy]; v.dirty = true; }
        else if (drag.kind === "wl" && drag.moved) this.setWindow(drag.ww + dx * 4, drag.wl + dy * 2);
        else if (drag.kind === "paint" && vox) {
          strokeTo(this.labels, this.ct, drag.last, vox, this.brushParams(v)); drag.last = vox; this.labels.changed();
        } else if (drag.kind === "box" && drag.start) {
          const [cc, rr] = v.toPlane(e.offsetX, e.offsetY);
          v.box = [drag.start[0], drag.start[1], Math.floor(cc), Math.floor(rr)]; v.dirty = true;
        }
      }
      this.invalidate();
    });
    const end = () => {
      if (!drag) return;
      if (drag.kind === "paint") { this.labels.commit(); this.paintingView = null; this.labels.stable++; this.emit(); }
      if (drag.kind === "box" && v.box) {
        const [c0, r0, c1, r1] = v.box;
        this.labels.begin("erase in box");
        const s0 = this.sphere ? 0 : v.slice, s1 = this.sphere ? v.plane.depth - 1 : v.slice;
        eraseInBox(this.labels, v.plane, this.activeLabel, c0, r0, c1, r1, s0, s1);
        this.labels.commit(); v.box = null; this.emit();
      }
      drag = null; this.invalidate();
    };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    c.addEventListener("pointerleave", () => { v.pointer = null; v.dirty = true; this.invalidate(); });
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.activeView = v;
      if (e.ctrlKey || e.metaKey) {
        const f = Math.exp(-e.deltaY * 0.0015);
        const { cw, ch } = v.layout();
        // zoom about the pointer
        const px = e.offsetX - cw / 2 - v.pan[0], py = e.offsetY - ch / 2 - v.pan[1];
        v.zoom = Math.max(0.25, Math.min(20, v.zoom * f));
        v.pan = [v.pan[0] - px * (f - 1), v.pan[1] - py * (f - 1)];
        v.dirty = true; this.invalidate();
      } else if (e.deltaY !== 0) {
        // wheel down moves toward the feet (PACS) unless the user chose the reverse
        const towardFeet = (e.deltaY > 0) === (loadSettings().wheelDown === "feet");
        this.scrollTowardHead(v, towardFeet ? -1 : 1);
      }
    }, { passive: false });
  }
}
