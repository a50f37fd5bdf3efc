/** Fill between slices: shape-based interpolation of one label across skipped slices. */
import type { LabelMap } from "../core/volume";
import { strides, type Plane } from "../core/plane";
import { signedDistance } from "./distance";

function sliceMask(lm: LabelMap, p: Plane, s: number, label: number): { mask: Uint8Array; any: boolean } {
  const { base, dc, dr } = strides(p, lm.g, s);
  const mask = new Uint8Array(p.w * p.h);
  let any = false;
  for (let r = 0; r < p.h; r++) for (let c = 0; c < p.w; c++) {
    if (lm.data[base + c * dc + r * dr] === label) { mask[r * p.w + c] = 1; any = true; }
  }
  return { mask, any };
}

/**
 * For each run of slices without `label` between two slices with it (along the view normal),
 * interpolates the signed distance maps of the two bounding slices and paints where it is < 0.
 * Returns the number of slices filled.
 */
export function fillBetweenSlices(lm: LabelMap, p: Plane, label: number): number {
  const annotated: number[] = [];
  for (let s = 0; s < p.depth; s++) if (sliceMask(lm, p, s, label).any) annotated.push(s);
  let filled = 0;
  for (let k = 0; k + 1 < annotated.length; k++) {
    const a = annotated[k], b = annotated[k + 1];
    if (b - a < 2) continue;
    const da = signedDistance(sliceMask(lm, p, a, label).mask, p.w, p.h, p.sc, p.sr);
    const db = signedDistance(sliceMask(lm, p, b, label).mask, p.w, p.h, p.sc, p.sr);
    for (let s = a + 1; s < b; s++) {
      const t = (s - a) / (b - a);
      const { base, dc, dr } = strides(p, lm.g, s);
      for (let r = 0; r < p.h; r++) for (let c = 0; c < p.w; c++) {
        const j = r * p.w + c;
        if ((1 - t) * da[j] + t * db[j] < 0) lm.set(base + c * dc + r * dr, label);
      }
      filled++;
    }
  }
  return filled;
}
