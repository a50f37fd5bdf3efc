/**
 * The 2D radiograph viewer: one image (Int16Array, brighter = denser) and its label map
 * (Uint8Array, same `[y, x]` order as the server's one-slice `[z, y, x]`), on a canvas with
 * pan, zoom and window, a brush / eraser that paints labels, undo, and hole filling.
 *
 * Mouse: left = the tool (brush, eraser or pan); middle or Shift+left = pan; right-drag =
 * window (horizontal width, vertical level); wheel = zoom around the pointer.
 */
const COLORS: Record<number, [number, number, number]> = { 1: [60, 141, 222], 2: [242, 193, 46], 3: [224, 64, 58] };
const ALPHA = 0.4;
const UNDO_DEPTH = 12;

export type Tool = "brush" | "eraser" | "pan";

export class RadiographViewer {
  readonly canvas: HTMLCanvasElement;
  private readonly off: HTMLCanvasElement;
  private readonly offCtx: CanvasRenderingContext2D;
  private readonly pixels: ImageData;
  private lut = new Uint8Array(65536);
  private undoStack: Uint8Array[] = [];
  private redoStack: Uint8Array[] = [];
  zoom = 1; panX = 0; panY = 0;
  tool: Tool = "brush"; label = 1; radius = 20; showLabels = true;
  textRegions: [number, number, number, number][] = [];
  showTextRegions = true;
  revision = 0;
  onChange: () => void = () => {};
  onInfo: (text: string) => void = () => {};

  constructor(readonly image: Int16Array, public labels: Uint8Array, readonly nx: number, readonly ny: number,
    public window: [number, number]) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "slice-canvas radiograph-canvas";
    this.canvas.id = "radiograph-canvas";
    this.off = document.createElement("canvas");
    this.off.width = nx; this.off.height = ny;
    this.offCtx = this.off.getContext("2d")!;
    this.pixels = this.offCtx.createImageData(nx, ny);
    this.radius = Math.max(3, Math.round(Math.max(nx, ny) / 100));
    this.setWindow(window[0], window[1]);
    this.bindMouse();
  }

  /** Sets the window (centre, width) and redraws everything. */
  setWindow(center: number, width: number): void {
    this.window = [center, Math.max(1, width)];
    const lo = center - width / 2;
    for (let v = -32768; v < 32768; v++) this.lut[v + 32768] = Math.max(0, Math.min(255, Math.round(((v - lo) / this.window[1]) * 255)));
    this.refresh(0, 0, this.nx, this.ny);
  }

  /** Fits the image into the canvas. */
  resetView(): void {
    const r = this.canvas.getBoundingClientRect();
    this.zoom = Math.min((r.width || 800) / this.nx, (r.height || 600) / this.ny);
    this.panX = ((r.width || 800) - this.nx * this.zoom) / 2;
    this.panY = ((r.height || 600) - this.ny * this.zoom) / 2;
    this.draw();
  }

  /** Recomposes image + labels for a rectangle of the offscreen bitmap. */
  refresh(x0: number, y0: number, x1: number, y1: number): void {
    x0 = Math.max(0, Math.floor(x0)); y0 = Math.max(0, Math.floor(y0));
    x1 = Math.min(this.nx, Math.ceil(x1)); y1 = Math.min(this.ny, Math.ceil(y1));
    const d = this.pixels.data;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = y * this.nx + x, o = i * 4;
        const g = this.lut[this.image[i] + 32768];
        const l = this.showLabels ? this.labels[i] : 0;
        if (l) {
          const c = COLORS[l] ?? [255, 0, 255];
          d[o] = g + (c[0] - g) * ALPHA; d[o + 1] = g + (c[1] - g) * ALPHA; d[o + 2] = g + (c[2] - g) * ALPHA;
        } else { d[o] = d[o + 1] = d[o + 2] = g; }
        d[o + 3] = 255;
      }
    }
    if (x1 > x0 && y1 > y0) this.offCtx.putImageData(this.pixels, 0, 0, x0, y0, x1 - x0, y1 - y0);
    this.draw();
  }

  /** Paints the offscreen bitmap onto the visible canvas with the current pan and zoom. */
  draw(): void {
    const r = this.canvas.getBoundingClientRect();
    const w = Math.max(1, Math.round(r.width)), hh = Math.max(1, Math.round(r.height));
    if (this.canvas.width !== w || this.canvas.height !== hh) { this.canvas.width = w; this.canvas.height = hh; }
    const ctx = this.canvas.getContext("2d")!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, w, hh);
    ctx.imageSmoothingEnabled = this.zoom < 1;
    ctx.setTransform(this.zoom, 0, 0, this.zoom, this.panX, this.panY);
    ctx.drawImage(this.off, 0, 0);
    if (this.showTextRegions && this.textRegions.length) {
      ctx.strokeStyle = "#ff4fd8"; ctx.lineWidth = 2 / this.zoom; ctx.setLineDash([6 / this.zoom, 4 / this.zoom]);
      for (const [y0, x0, y1, x1] of this.textRegions) ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
      ctx.setLineDash([]);
    }
  }

  /** Image coordinates of a mouse event. */
  toImage(e: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [(e.clientX - r.left - this.panX) / this.zoom, (e.clientY - r.top - this.panY) / this.zoom];
  }

  /** Paints a disk of `value` (0 erases) centred at image coordinates. */
  paintDisk(cx: number, cy: number, radius: number, value: number): void {
    const r2 = radius * radius;
    const x0 = Math.max(0, Math.floor(cx - radius)), x1 = Math.min(this.nx - 1, Math.ceil(cx + radius));
    const y0 = Math.max(0, Math.floor(cy - radius)), y1 = Math.min(this.ny - 1, Math.ceil(cy + radius));
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r2) this.labels[y * this.nx + x] = value;
    }
    this.refresh(x0, y0, x1 + 1, y1 + 1);
  }

  /** Remembers the label map before an edit (undo). */
  checkpoint(): void {
    this.undoStack.push(this.labels.slice());
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
    this.redoStack = [];
  }
  undo(): void { this.swap(this.undoStack, this.redoStack); }
  redo(): void { this.swap(this.redoStack, this.undoStack); }
  private swap(from: Uint8Array[], to: Uint8Array[]): void {
    const prev = from.pop();
    if (!prev) return;
    to.push(this.labels.slice());
    this.labels.set(prev);
    this.changed(); this.refresh(0, 0, this.nx, this.ny);
  }

  /** Replaces the label map (a loaded version). */
  replace(labels: Uint8Array): void {
    this.labels.set(labels); this.undoStack = []; this.redoStack = [];
    this.refresh(0, 0, this.nx, this.ny);
  }

  /** Fills background enclosed by labels (an outlined lung field) with the active label. */
  fillHoles(value: number): number {
    const { nx, ny } = this, lab = this.labels, outside = new Uint8Array(nx * ny), queue = new Int32Array(nx * ny);
    let head = 0, tail = 0;
    const push = (i: number) => { if (!outside[i] && lab[i] === 0) { outside[i] = 1; queue[tail++] = i; } };
    for (let x = 0; x < nx; x++) { push(x); push((ny - 1) * nx + x); }
    for (let y = 0; y < ny; y++) { push(y * nx); push(y * nx + nx - 1); }
    while (head < tail) {
      const i = queue[head++], x = i % nx;
      if (x > 0) push(i - 1); if (x < nx - 1) push(i + 1);
      if (i >= nx) push(i - nx); if (i < nx * (ny - 1)) push(i + nx);
    }
    this.checkpoint();
    let n = 0;
    for (let i = 0; i < lab.length; i++) if (lab[i] === 0 && !outside[i]) { lab[i] = value; n++; }
    if (n) { this.changed(); this.refresh(0, 0, nx, ny); }
    return n;
  }

  /** Pixels per label 0..3. */
  counts(): number[] {
    const c = [0, 0, 0, 0];
    for (let i = 0; i < this.labels.length; i++) c[this.labels[i]]++;
    return c;
  }

  private changed(): void { this.revision++; this.onChange(); }

  private bindMouse(): void {
    const c = this.canvas;
    let mode: "paint" | "pan" | "window" | null = null;
    let last: [number, number] = [0, 0];
    let startWindow: [number, number] = [0, 0];
    c.addEventListener("contextmenu", (e) => e.preventDefault());
    c.addEventListener("pointerdown", (e) => {
      c.setPointerCapture(e.pointerId);
      last = [e.clientX, e.clientY];
      if (e.button === 2) { mode = "window"; startWindow = [...this.window] as [number, number]; return; }
      if (e.button === 1 || e.shiftKey || this.tool === "pan") { mode = "pan"; return; }
      if (e.button !== 0) return;
      mode = "paint"; this.checkpoint();
      const [x, y] = this.toImage(e);
      this.paintDisk(x, y, this.radius, this.tool === "eraser" ? 0 : this.label);
    });
    c.addEventListener("pointermove", (e) => {
      const [ix, iy] = this.toImage(e);
      if (ix >= 0 && iy >= 0 && ix < this.nx && iy < this.ny) {
        const i = Math.floor(iy) * this.nx + Math.floor(ix);
        this.onInfo(`x ${Math.floor(ix)} y ${Math.floor(iy)} · value ${this.image[i]} · label ${this.labels[i]} · W ${Math.round(this.window[1])} L ${Math.round(this.window[0])} · zoom ${this.zoom.toFixed(2)}`);
      }
      if (!mode) return;
      const dx = e.clientX - last[0], dy = e.clientY - last[1];
      if (mode === "pan") { this.panX += dx; this.panY += dy; last = [e.clientX, e.clientY]; this.draw(); return; }
      if (mode === "window") {
        const scale = Math.max(1, startWindow[1]) / 300;
        this.setWindow(startWindow[0] + (e.clientY - last[1]) * scale, startWindow[1] + (e.clientX - last[0]) * scale);
        return;
      }
      // paint along the segment so fast strokes leave no gaps
      const [px, py] = (() => { const r = this.canvas.getBoundingClientRect(); return [(last[0] - r.left - this.panX) / this.zoom, (last[1] - r.top - this.panY) / this.zoom]; })();
      const steps = Math.max(1, Math.ceil(Math.hypot(ix - px, iy - py) / Math.max(1, this.radius / 2)));
      for (let s = 1; s <= steps; s++) this.paintDisk(px + ((ix - px) * s) / steps, py + ((iy - py) * s) / steps, this.radius, this.tool === "eraser" ? 0 : this.label);
      last = [e.clientX, e.clientY];
    });
    const end = () => { if (mode === "paint") this.changed(); mode = null; };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = c.getBoundingClientRect();
      const mx = e.clientX - r.left, my = e.clientY - r.top;
      const f = Math.exp(-e.deltaY * 0.0015);
      const z = Math.min(40, Math.max(0.05, this.zoom * f));
      this.panX = mx - ((mx - this.panX) * z) / this.zoom; this.panY = my - ((my - this.panY) * z) / this.zoom;
      this.zoom = z; this.draw();
    }, { passive: false });
  }
}
