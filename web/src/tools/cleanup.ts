/** Label clean-up: remove small islands, smooth, erase in a box. */
import type { LabelMap } from "../core/volume";
import { strides, type Plane } from "../core/plane";

/** The value a removed voxel of `label` falls back to: lesions fall back to lung, lung to background. */
export function fallbackValue(label: number): number { return label >= 2 ? 1 : 0; }

/** Removes 6-connected components of `label` smaller than `minVoxels`. Returns components removed. */
export function removeSmallIslands(lm: LabelMap, label: number, minVoxels: number): number {
  const g = lm.g, d = lm.data, n = d.length, sxy = g.nx * g.ny;
  const seen = new Uint8Array(n);
  let stack = new Int32Array(1 << 16);
  let comp = new Int32Array(1 << 16);
  let removed = 0;
  const back = fallbackValue(label);
  for (let s = 0; s < n; s++) {
    if (d[s] !== label || seen[s]) continue;
    let top = 0, size = 0;
    stack[top++] = s; seen[s] = 1;
    while (top > 0) {
      const i = stack[--top];
      if (size === comp.length) { const c = new Int32Array(comp.length * 2); c.set(comp); comp = c; }
      comp[size++] = i;
      const z = Math.floor(i / sxy), rem = i - z * sxy, y = Math.floor(rem / g.nx), x = rem - y * g.nx;
      const nb = [x > 0 ? i - 1 : -1, x < g.nx - 1 ? i + 1 : -1, y > 0 ? i - g.nx : -1,
        y < g.ny - 1 ? i + g.nx : -1, z > 0 ? i - sxy : -1, z < g.nz - 1 ? i + sxy : -1];
      for (const j of nb) {
        if (j < 0 || seen[j] || d[j] !== label) continue;
        seen[j] = 1;
        if (top === stack.length) { const t = new Int32Array(stack.length * 2); t.set(stack); stack = t; }
        stack[top++] = j;
      }
    }
    if (size < minVoxels) { for (let k = 0; k < size; k++) lm.set(comp[k], back); removed++; }
  }
  return removed;
}

/** 3x3x3 majority filter of one label's mask (within its bounding box plus a margin). */
export function smoothLabel(lm: LabelMap, label: number): number {
  const g = lm.g, d = lm.data;
  let x0 = g.nx, y0 = g.ny, z0 = g.nz, x1 = -1, y1 = -1, z1 = -1;
  for (let z = 0, i = 0; z < g.nz; z++) for (let y = 0; y < g.ny; y++) for (let x = 0; x < g.nx; x++, i++) {
    if (d[i] !== label) continue;
    if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; if (z < z0) z0 = z; if (z > z1) z1 = z;
  }
  if (x1 < 0) return 0;
  x0 = Math.max(0, x0 - 1); y0 = Math.max(0, y0 - 1); z0 = Math.max(0, z0 - 1);
  x1 = Math.min(g.nx - 1, x1 + 1); y1 = Math.min(g.ny - 1, y1 + 1); z1 = Math.min(g.nz - 1, z1 + 1);
  const bx = x1 - x0 + 1, by = y1 - y0 + 1, bz = z1 - z0 + 1;
  let a = new Uint8Array(bx * by * bz), b = new Uint8Array(a.length);
  for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++) {
    a[(z * by + y) * bx + x] = d[((z + z0) * g.ny + y + y0) * g.nx + x + x0] === label ? 1 : 0;
  }
  const orig = a.slice();
  // separable 3-box sums along x, y, z (values up to 27)
  const strideOf = [1, bx, bx * by], lenOf = [bx, by, bz];
  for (let ax = 0; ax < 3; ax++) {
    const st = strideOf[ax], len = lenOf[ax];
    for (let i = 0; i < a.length; i++) {
      const pos = Math.floor(i / st) % len;
      b[i] = a[i] + (pos > 0 ? a[i - st] : 0) + (pos < len - 1 ? a[i + st] : 0);
    }
    [a, b] = [b, a];
  }
  let changed = 0;
  const back = fallbackValue(label);
  for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) for (let x = 0; x < bx; x++) {
    const k = (z * by + y) * bx + x;
    const inside = a[k] >= 14;
    if (inside === (orig[k] === 1)) continue;
    const i = ((z + z0) * g.ny + y + y0) * g.nx + x + x0;
    if (inside && (label === 1 || d[i] !== 0)) { lm.set(i, label); changed++; } // lesions grow only inside lung
    else if (!inside) { lm.set(i, back); changed++; }
  }
  return changed;
}

/** Erases `label` in the rectangle [c0..c1] x [r0..r1] of the view plane on slices [s0..s1]. */
export function eraseInBox(lm: LabelMap, p: Plane, label: number, c0: number, r0: number, c1: number, r1: number,
  s0: number, s1: number): void {
  const back = fallbackValue(label);
  [c0, c1] = [Math.max(0, Math.min(c0, c1)), Math.min(p.w - 1, Math.max(c0, c1))];
  [r0, r1] = [Math.max(0, Math.min(r0, r1)), Math.min(p.h - 1, Math.max(r0, r1))];
  for (let s = Math.max(0, s0); s <= Math.min(p.depth - 1, s1); s++) {
    const { base, dc, dr } = strides(p, lm.g, s);
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) {
      const i = base + c * dc + r * dr;
      if (lm.data[i] === label) lm.set(i, back);
    }
  }
}
