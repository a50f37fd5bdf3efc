/**
 * Smart click (issue 18): the interactive model redraws the lesions around a click on an axial
 * slice. Left click adds (positive), right or Shift click removes (negative); with the 2D/3D
 * switch on 3D the change follows the lesion to the neighbouring slices. Each answer is one
 * undo step; the clicks on a slice are sent together until the slice changes or another edit
 * (or an undo) intervenes.
 */
import * as api from "../../core/api";
import { gzipBytes } from "../../core/nifti";
import type { Vec3 } from "../../core/plane";
import { copySlices, type LabelMap } from "../../core/volume";
import type { StudyContext } from "./context";

/** How far (mm) a 3D smart click may carry its change from the clicked slice. */
const REACH_MM = 30;

interface ClickIn { x: number; y: number; z: number; positive: boolean }

export function smartClickTool(ctx: StudyContext): void {
  const { viewer, labels, g, sid } = ctx;
  let clicks: ClickIn[] = [];
  let busy = false;
  let stableAfter = -1;

  async function click(vox: Vec3, positive: boolean): Promise<void> {
    if (busy) return;
    busy = true;
    const [x, y, z] = vox;
    if (labels.stable !== stableAfter || (clicks.length > 0 && clicks[0].z !== z)) clicks = [];
    clicks.push({ x, y, z, positive });
    const reach = viewer.sphere ? Math.max(1, Math.round(REACH_MM / g.sz)) : 0;
    const zs: number[] = [];
    for (let k = Math.max(0, z - reach); k <= Math.min(g.nz - 1, z + reach); k++) zs.push(k);
    const t0 = performance.now();
    try {
      const fd = new FormData();
      fd.append("file", new File([await gzipBytes(copySlices(g, labels.data, zs))], "slices.raw.gz", { type: "application/gzip" }));
      fd.append("slices", zs.join(","));
      fd.append("clicks", JSON.stringify(clicks));
      fd.append("three_d", viewer.sphere ? "true" : "false");
      const r = await api.smartClick(sid, fd);
      const plane = g.nx * g.ny;
      labels.begin("smart click");
      r.z.forEach((zz, k) => {
        const off = zz * plane, src = r.data.subarray(k * plane, (k + 1) * plane);
        for (let i = 0; i < plane; i++) if (labels.data[off + i] !== src[i]) labels.set(off + i, src[i]);
      });
      const n = labels.commit();
      if (n === 0) labels.tally["smart click"] = (labels.tally["smart click"] ?? 0) + 1; // a click all the same
      stableAfter = labels.stable;
      const ms = Math.round(performance.now() - t0);
      ctx.dbg.smartClick = { ms, slices: r.z, voxels: n, clicks: clicks.length };
      ctx.say(n ? `Smart click: ${n} voxels on ${r.z.length} slice(s) in ${ms} ms (Ctrl+Z undoes it).` : "Smart click: no change.");
      viewer.emit();
    } catch (e) {
      clicks.pop();
      ctx.say(`Smart click failed: ${(e as Error).message}`);
    } finally { busy = false; }
  }

  viewer.onSmartClick.push((vox, positive) => void click(vox, positive));
  // the pointer's first move with the tool picked loads the network and the CT on the server
  let warmed = false;
  const warm = () => {
    if (warmed || viewer.tool !== "smart") return;
    warmed = true;
    api.smartClickWarm(sid).then((w) => { ctx.dbg.smartClickWarm = w; }).catch(() => { warmed = false; });
  };
  viewer.onChange.push(warm);
  viewer.onHover.push(warm);
}

/** The save form's `edit_counts`: the edits since the last save by kind (then cleared). */
export function takeEditCounts(labels: LabelMap): string {
  const t = labels.tally, out: Record<string, number> = {};
  const add = (k: string, n: number | undefined) => { if (n) out[k] = (out[k] ?? 0) + n; };
  for (const [name, n] of Object.entries(t)) {
    if (name === "smart click") add("smart_clicks", n);
    else if (name === "brush" || name === "eraser" || name === "threshold") add("brush_strokes", n);
    else if (name === "region grow") add("region_grows", n);
    else add("other_edits", n);
  }
  labels.tally = {};
  return JSON.stringify(out);
}
