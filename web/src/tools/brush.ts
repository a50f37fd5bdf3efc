/** Brush, eraser and threshold brush: disks (2D, on the view plane) or spheres, sized in mm. */
import type { CtVolume, LabelMap } from "../core/volume";
import type { Vec3 } from "../core/plane";

export interface BrushParams {
  radiusMm: number;
  sphere: boolean;
  /** Voxel axis normal to the view (used by the 2D disk). */
  normal: 0 | 1 | 2;
  /** Value written: a label, or 0 for the eraser. */
  value: number;
  /** Threshold brush: only voxels with lo <= HU <= hi are painted. */
  huRange?: [number, number] | null;
}

/** Paints one stamp centred on voxel `c` into the open edit of `lm`. */
export function stamp(lm: LabelMap, ct: CtVolume, c: Vec3, p: BrushParams): void {
  const g = lm.g;
  const sp = [g.sx, g.sy, g.sz];
  const r2 = p.radiusMm * p.radiusMm;
  const ext = [0, 1, 2].map((a) => (!p.sphere && a === p.normal ? 0 : Math.floor(p.radiusMm / sp[a])));
  const lo = p.huRange ? p.huRange[0] : -Infinity, hi = p.huRange ? p.huRange[1] : Infinity;
  const hu = ct.hu;
  for (let dz = -ext[2]; dz <= ext[2]; dz++) {
    const z = c[2] + dz; if (z < 0 || z >= g.nz) continue;
    const ez = dz * g.sz;
    for (let dy = -ext[1]; dy <= ext[1]; dy++) {
      const y = c[1] + dy; if (y < 0 || y >= g.ny) continue;
      const ey = dy * g.sy;
      const rest = r2 - ez * ez - ey * ey; if (rest < 0) continue;
      const rowBase = (z * g.ny + y) * g.nx;
      for (let dx = -ext[0]; dx <= ext[0]; dx++) {
        const x = c[0] + dx; if (x < 0 || x >= g.nx) continue;
        const ex = dx * g.sx;
        if (ex * ex > rest) continue;
        const i = rowBase + x;
        const h = hu[i];
        if (h < lo || h > hi) continue;
        lm.set(i, p.value);
      }
    }
  }
}

/** Voxels on the discrete line from a to b (inclusive), stepping one voxel along the longest axis. */
export function voxelLine(a: Vec3, b: Vec3): Vec3[] {
  const d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const n = Math.max(Math.abs(d[0]), Math.abs(d[1]), Math.abs(d[2]));
  if (n === 0) return [a];
  const out: Vec3[] = [];
  for (let k = 0; k <= n; k++) {
    const t = k / n;
    out.push([Math.round(a[0] + d[0] * t), Math.round(a[1] + d[1] * t), Math.round(a[2] + d[2] * t)]);
  }
  return out;
}

/** Paints stamps along the segment from the previous stamp centre to `c`. */
export function strokeTo(lm: LabelMap, ct: CtVolume, prev: Vec3 | null, c: Vec3, p: BrushParams): void {
  const pts = prev ? voxelLine(prev, c).slice(1) : [c];
  for (const q of pts) stamp(lm, ct, q, p);
}
