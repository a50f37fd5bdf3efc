/** 3D view of the label map over the CT, rendered by NiiVue (WebGL2). Loaded only when shown. */
import { Niivue, NVImage, SLICE_TYPE } from "@niivue/niivue";
import { writeNifti } from "../core/nifti";
import { SHORT_NAMES } from "../core/labels";
import type { StudyViewer } from "./study-viewer";

/** Downsamples by an integer factor in x and y (and z when thick) so large studies stay light. */
function downsample<T extends Int16Array | Uint8Array>(src: T, nx: number, ny: number, nz: number, f: number, fz: number,
  make: (n: number) => T, max: boolean): { data: T; dims: [number, number, number] } {
  const mx = Math.floor(nx / f), my = Math.floor(ny / f), mz = Math.floor(nz / fz);
  const out = make(mx * my * mz);
  for (let z = 0; z < mz; z++) for (let y = 0; y < my; y++) for (let x = 0; x < mx; x++) {
    let v = max ? 0 : src[((z * fz) * ny + y * f) * nx + x * f];
    if (max) for (let dz = 0; dz < fz; dz++) for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) {
      const s = src[((z * fz + dz) * ny + y * f + dy) * nx + x * f + dx]; if (s > v) v = s;
    }
    out[(z * my + y) * mx + x] = v;
  }
  return { data: out, dims: [mx, my, mz] };
}

export class Render3D {
  nv: Niivue | null = null;
  private labelRevision = -1;
  private busy = false;
  error: string | null = null;
  private f: number;
  private fz: number;

  constructor(public root: HTMLElement, private viewer: StudyViewer) {
    const g = viewer.ct.g;
    // about 128 voxels across, near-isotropic: light enough for software WebGL
    this.f = Math.max(1, Math.ceil(Math.max(g.nx, g.ny) / 160));
    this.fz = Math.max(1, Math.round((this.f * g.sx) / g.sz));
  }

  async init(): Promise<void> {
    if (this.nv || this.error) return;
    const canvas = document.createElement("canvas");
    canvas.className = "render-canvas";
    canvas.dataset.view = "3d";
    this.root.append(canvas);
    try {
      const gl = canvas.getContext("webgl2");
      if (!gl) throw new Error("WebGL2 is not available in this browser");
      const nv = new Niivue({ backColor: [0, 0, 0, 1], show3Dcrosshair: false, isColorbar: false, loadingText: "" });
      await nv.attachToCanvas(canvas);
      nv.setSliceType(SLICE_TYPE.RENDER);
      const g = this.viewer.ct.g;
      const ct = downsample(this.viewer.ct.hu, g.nx, g.ny, g.nz, this.f, this.fz, (n) => new Int16Array(n), false);
      const buf = writeNifti(ct.dims, [g.sx * this.f, g.sy * this.f, g.sz * this.fz], ct.data);
      const img = await NVImage.new(buf, "ct.nii", "gray", 0.25, null, -300, 400, true,
        0.02, false, false, "", 0, 0 as never, NaN, NaN, false, null, 0, null);
      nv.addVolume(img);
      this.nv = nv;
      await this.refreshLabels(true);
      nv.setRenderAzimuthElevation(110, 15);
    } catch (e) {
      this.error = (e as Error).message;
      const msg = document.createElement("div"); msg.className = "view-info"; msg.textContent = `3D unavailable: ${this.error}`;
      this.root.append(msg);
    }
  }

  /** Replaces the label layer when the labels changed since the last refresh. */
  async refreshLabels(force = false): Promise<void> {
    const nv = this.nv; if (!nv || this.busy) return;
    const lm = this.viewer.labels;
    if (!force && lm.revision === this.labelRevision) return;
    this.busy = true;
    try {
      this.labelRevision = lm.revision;
      const g = lm.g;
      const lab = downsample(lm.data, g.nx, g.ny, g.nz, this.f, this.fz, (n) => new Uint8Array(n), true);
      const vis = this.viewer.labelVisible;
      for (let i = 0; i < lab.data.length; i++) if (!vis[lab.data[i]]) lab.data[i] = 0;
      const buf = writeNifti(lab.dims, [g.sx * this.f, g.sy * this.f, g.sz * this.fz], lab.data);
      const img = await NVImage.new(buf, "labels.nii", "gray", 1, null, 0, 3, true,
        0.02, false, false, "", 0, 0 as never, NaN, NaN, false, null, 0, null);
      const cols = this.viewer.labelColors.map((h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16)));
      img.setColormapLabel({ R: cols.map((c) => c[0]), G: cols.map((c) => c[1]), B: cols.map((c) => c[2]),
        A: [0, 70, 255, 255], I: [0, 1, 2, 3], labels: SHORT_NAMES } as never);
      while (nv.volumes.length > 1) nv.removeVolume(nv.volumes[1]);
      nv.addVolume(img);
      nv.updateGLVolume();
    } finally { this.busy = false; }
  }

  dispose(): void { this.nv = null; this.root.innerHTML = ""; }
}
