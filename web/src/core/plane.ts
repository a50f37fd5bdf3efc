/** How a 2D view's columns, rows and slices map to voxel [x, y, z] for each orientation. */
import type { Geometry } from "./volume";

export type Orientation = "axial" | "coronal" | "sagittal";
export type Vec3 = [number, number, number];

export interface Plane {
  orientation: Orientation;
  /** Columns and rows of the 2D image, slices along the normal. */
  w: number; h: number; depth: number;
  /** mm per column / row. */
  sc: number; sr: number;
  /** Voxel axis (0 = x, 1 = y, 2 = z) along the normal. */
  normal: 0 | 1 | 2;
  toVoxel(col: number, row: number, slice: number): Vec3;
  fromVoxel(v: Vec3): Vec3; // [col, row, slice]
}

/**
 * Axial: columns = x (patient right on screen left), rows = y (anterior up).
 * Coronal and sagittal: rows = z with superior up when `zUpIsSuperior`.
 */
export function makePlane(o: Orientation, g: Geometry, zUpIsSuperior: boolean): Plane {
  const fz = (r: number) => (zUpIsSuperior ? g.nz - 1 - r : r);
  if (o === "axial") {
    return { orientation: o, w: g.nx, h: g.ny, depth: g.nz, sc: g.sx, sr: g.sy, normal: 2,
      toVoxel: (c, r, s) => [c, r, s], fromVoxel: (v) => [v[0], v[1], v[2]] };
  }
  if (o === "coronal") {
    return { orientation: o, w: g.nx, h: g.nz, depth: g.ny, sc: g.sx, sr: g.sz, normal: 1,
      toVoxel: (c, r, s) => [c, s, fz(r)], fromVoxel: (v) => [v[0], fz(v[2]), v[1]] };
  }
  return { orientation: o, w: g.ny, h: g.nz, depth: g.nx, sc: g.sy, sr: g.sz, normal: 0,
    toVoxel: (c, r, s) => [s, c, fz(r)], fromVoxel: (v) => [v[1], fz(v[2]), v[0]] };
}

/** Voxel index of (col, row) on `slice` is base + col*dc + row*dr. */
export function strides(p: Plane, g: Geometry, slice: number): { base: number; dc: number; dr: number } {
  const idx = (v: Vec3) => (v[2] * g.ny + v[1]) * g.nx + v[0];
  const base = idx(p.toVoxel(0, 0, slice));
  return { base, dc: idx(p.toVoxel(1, 0, slice)) - base, dr: idx(p.toVoxel(0, 1, slice)) - base };
}
