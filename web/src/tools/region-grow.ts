/** Click-to-fill: grows a connected region of voxels within an HU range from a seed. */
import type { CtVolume, LabelMap } from "../core/volume";
import type { Vec3 } from "../core/plane";

/**
 * Sets `value` on every voxel connected to `seed` (6-connected in 3D, 4-connected on the view
 * plane in 2D) whose HU lies in [lo, hi]. Returns the number of voxels in the region.
 */
export function regionGrow(lm: LabelMap, ct: CtVolume, seed: Vec3, lo: number, hi: number,
  value: number, planeNormal: 0 | 1 | 2 | null, maxVoxels = Infinity): number {
  const g = lm.g, hu = ct.hu;
  const si = (seed[2] * g.ny + seed[1]) * g.nx + seed[0];
  if (hu[si] < lo || hu[si] > hi) return 0;
  const visited = new Uint8Array(g.nx * g.ny * g.nz);
  let stack = new Int32Array(1 << 16);
  let top = 0;
  stack[top++] = si; visited[si] = 1;
  let count = 0;
  const sxy = g.nx * g.ny;
  const push = (j: number) => {
    if (visited[j]) return;
    const h = hu[j]; if (h < lo || h > hi) return;
    visited[j] = 1;
    if (top === stack.length) { const s = new Int32Array(stack.length * 2); s.set(stack); stack = s; }
    stack[top++] = j;
  };
  while (top > 0 && count < maxVoxels) {
    const i = stack[--top];
    lm.set(i, value); count++;
    const z = Math.floor(i / sxy), rem = i - z * sxy, y = Math.floor(rem / g.nx), x = rem - y * g.nx;
    if (planeNormal !== 0) { if (x > 0) push(i - 1); if (x < g.nx - 1) push(i + 1); }
    if (planeNormal !== 1) { if (y > 0) push(i - g.nx); if (y < g.ny - 1) push(i + g.nx); }
    if (planeNormal !== 2) { if (z > 0) push(i - sxy); if (z < g.nz - 1) push(i + sxy); }
  }
  return count;
}
