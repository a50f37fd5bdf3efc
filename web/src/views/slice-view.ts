/** One 2D view (axial, coronal or sagittal) drawn on a canvas: CT window, label overlay, crosshair. */
import { makePlane, strides, type Orientation, type Plane, type Vec3 } from "../core/plane";
import type { ViewerState } from "./viewer-state";

export class SliceView {
  readonly canvas: HTMLCanvasElement;
  readonly info: HTMLDivElement;
  plane: Plane;
  zoom = 1;
  pan: [number, number] = [0, 0];
  private off: HTMLCanvasElement;
  private img: ImageData;
  private px: Uint32Array;
  dirty = true;
  /** Last pointer position in CSS px, for the brush outline. */
  pointer: [number, number] | null = null;
  box: [number, number, number, number] | null = null;
  private imageKey = "";

  constructor(public root: HTMLElement, public orientation: Orientation, private viewer: ViewerState) {
    this.plane = makePlane(orientation, viewer.ct.g, viewer.zUpIsSuperior);
    this.canvas = document.createElement("canvas");
    this.canvas.className = "slice-canvas";
    this.canvas.dataset.view = orientation;
    this.canvas.tabIndex = -1;
    this.info = document.createElement("div");
    this.info.className = "view-info";
    root.append(this.canvas, this.info);
    this.off = document.createElement("canvas");
    this.off.width = this.plane.w; this.off.height = this.plane.h;
    this.img = new ImageData(this.plane.w, this.plane.h);
    this.px = new Uint32Array(this.img.data.buffer);
  }

  get slice(): number { return this.viewer.cursor[this.plane.normal]; }

  /** Scale (CSS px per mm) and image origin in CSS px. */
  layout(): { s: number; ox: number; oy: number; cw: number; ch: number } {
    const cw = this.canvas.clientWidth || 1, ch = this.canvas.clientHeight || 1;
    const p = this.plane;
    const fit = Math.min(cw / (p.w * p.sc), ch / (p.h * p.sr));
    const s = fit * this.zoom;
    const ox = (cw - p.w * p.sc * s) / 2 + this.pan[0], oy = (ch - p.h * p.sr * s) / 2 + this.pan[1];
    return { s, ox, oy, cw, ch };
  }

  /** Continuous (col, row) for a point in CSS px relative to the canvas. */
  toPlane(cx: number, cy: number): [number, number] {
    const { s, ox, oy } = this.layout();
    return [(cx - ox) / (this.plane.sc * s), (cy - oy) / (this.plane.sr * s)];
  }

  /** Voxel under a canvas point, or null outside the image. */
  voxelAt(cx: number, cy: number): Vec3 | null {
    const [c, r] = this.toPlane(cx, cy);
    const col = Math.floor(c), row = Math.floor(r);
    if (col < 0 || row < 0 || col >= this.plane.w || row >= this.plane.h) return null;
    return this.plane.toVoxel(col, row, this.slice);
  }

  /** Centre of a voxel in client (page viewport) coordinates; for tests and the benchmark. */
  voxelToClient(v: Vec3): [number, number] {
    const [c, r] = this.plane.fromVoxel(v);
    const { s, ox, oy } = this.layout();
    const rect = this.canvas.getBoundingClientRect();
    return [rect.left + ox + (c + 0.5) * this.plane.sc * s, rect.top + oy + (r + 0.5) * this.plane.sr * s];
  }

  resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr)), h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) { this.canvas.width = w; this.canvas.height = h; }
    this.dirty = true;
  }

  /** Fills the slice image: windowed CT blended with label colours (fill or outline), diff in magenta. */
  private fillImage(): void {
    const v = this.viewer, p = this.plane, hu = v.ct.hu, lab = v.labels.data;
    const { base, dc, dr } = strides(p, v.ct.g, this.slice);
    const lut = v.grayLut, blend = v.blendLut, vis = v.labelVisible, outline = v.outline, px = this.px;
    const showLabels = v.overlayOn, diff = v.diffRef;
    const w = p.w, h = p.h;
    for (let r = 0; r < h; r++) {
      let i = base + r * dr;
      let o = r * w;
      for (let c = 0; c < w; c++, i += dc, o++) {
        const g = lut[hu[i] + 32768];
        const l = lab[i];
        if (diff !== null && diff[i] !== l) { px[o] = 0xffff00ff; continue; }
        if (l !== 0 && showLabels && vis[l]) {
          if (outline) {
            const edge = (c > 0 && lab[i - dc] !== l) || (c < w - 1 && lab[i + dc] !== l)
              || (r > 0 && lab[i - dr] !== l) || (r < h - 1 && lab[i + dr] !== l);
            px[o] = edge ? blend[(l << 8) | 255] : g;
          } else px[o] = blend[(l << 8) | (g & 255)];
        } else px[o] = g;
      }
    }
  }

  render(): void {
    this.dirty = false;
    const ctx = this.canvas.getContext("2d")!;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const v = this.viewer;
    // while a stroke is drawn only the view under the pen is refilled; the others follow on release
    const rev = v.paintingView === this ? `p${v.labels.revision}` : `s${v.labels.stable}`;
    const key = `${this.slice}|${rev}|${v.lutEpoch}|${v.overlayOn}|${v.labelVisible.join()}|${v.diffEpoch}`;
    if (key !== this.imageKey) { // the slice image changed (not just the crosshair or the pointer)
      this.fillImage();
      this.off.getContext("2d")!.putImageData(this.img, 0, 0);
      this.imageKey = key;
    }
    const { s, ox, oy } = this.layout();
    const p = this.plane;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.off, ox, oy, p.w * p.sc * s, p.h * p.sr * s);
    // crosshair
    const cur = p.fromVoxel(this.viewer.cursor);
    if (this.viewer.crosshair) {
      ctx.strokeStyle = "rgba(80,255,80,0.55)"; ctx.lineWidth = 1;
      const x = ox + (cur[0] + 0.5) * p.sc * s, y = oy + (cur[1] + 0.5) * p.sr * s;
      ctx.beginPath(); ctx.moveTo(x, oy); ctx.lineTo(x, oy + p.h * p.sr * s);
      ctx.moveTo(ox, y); ctx.lineTo(ox + p.w * p.sc * s, y); ctx.stroke();
    }
    const tool = this.viewer.tool;
    if (this.pointer && (tool === "brush" || tool === "eraser" || tool === "threshold")) {
      ctx.strokeStyle = tool === "eraser" ? "#fff" : this.viewer.labelColor(this.viewer.activeLabel);
      ctx.setLineDash(tool === "threshold" ? [4, 3] : []);
      ctx.beginPath();
      ctx.ellipse(this.pointer[0], this.pointer[1], this.viewer.brushRadiusMm * s, this.viewer.brushRadiusMm * s, 0, 0, Math.PI * 2);
      ctx.stroke(); ctx.setLineDash([]);
    }
    if (this.box) {
      ctx.strokeStyle = "#ff0"; ctx.setLineDash([5, 3]);
      const [c0, r0, c1, r1] = this.box;
      ctx.strokeRect(ox + Math.min(c0, c1) * p.sc * s, oy + Math.min(r0, r1) * p.sr * s,
        (Math.abs(c1 - c0) + 1) * p.sc * s, (Math.abs(r1 - r0) + 1) * p.sr * s);
      ctx.setLineDash([]);
    }
    const names: Record<Orientation, string> = { axial: "Axial", coronal: "Coronal", sagittal: "Sagittal" };
    this.info.textContent = `${names[this.orientation]}  ${this.viewer.sliceNumber(this.orientation, this.slice)}/${p.depth}`;
    this.viewer.frames++;
  }
}
