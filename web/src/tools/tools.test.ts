import { describe, expect, it } from "vitest";
import { CtVolume, LabelMap, type Geometry } from "../core/volume";
import { stamp, strokeTo } from "./brush";
import { regionGrow } from "./region-grow";
import { fillBetweenSlices } from "./interpolate";
import { removeSmallIslands, eraseInBox } from "./cleanup";
import { makePlane } from "../core/plane";
import { parseNifti, writeNifti } from "../core/nifti";

const g: Geometry = { nx: 20, ny: 16, nz: 10, sx: 1, sy: 1, sz: 2 };
const n = g.nx * g.ny * g.nz;
const idx = (x: number, y: number, z: number) => (z * g.ny + y) * g.nx + x;
const make = (hu = -800) => ({ ct: new CtVolume(g, new Int16Array(n).fill(hu)), lm: new LabelMap(g, new Uint8Array(n)) });

describe("brush", () => {
  it("paints a 2D disk on the view plane only", () => {
    const { ct, lm } = make();
    lm.begin("t"); stamp(lm, ct, [10, 8, 5], { radiusMm: 2, sphere: false, normal: 2, value: 2 }); lm.commit();
    expect(lm.counts[2]).toBe(13); // radius 2 voxels: 13 in-plane voxels
    expect(lm.data[idx(10, 8, 4)]).toBe(0);
  });
  it("threshold brush skips voxels out of range", () => {
    const { ct, lm } = make();
    ct.hu[idx(10, 8, 5)] = 40;
    lm.begin("t"); stamp(lm, ct, [10, 8, 5], { radiusMm: 2, sphere: false, normal: 2, value: 2, huRange: [-750, -300] }); lm.commit();
    expect(lm.counts[2]).toBe(0);
    const { ct: ct2, lm: lm2 } = make();
    ct2.hu[idx(10, 8, 5)] = 40;
    lm2.begin("t"); stamp(lm2, ct2, [10, 8, 5], { radiusMm: 2, sphere: false, normal: 2, value: 2, huRange: [-900, -300] }); lm2.commit();
    expect(lm2.counts[2]).toBe(12);
    expect(lm2.data[idx(10, 8, 5)]).toBe(0);
  });
  it("undo and redo restore exactly", () => {
    const { ct, lm } = make();
    lm.begin("a"); strokeTo(lm, ct, null, [3, 3, 3], { radiusMm: 1, sphere: true, normal: 2, value: 1 }); strokeTo(lm, ct, [3, 3, 3], [9, 3, 3], { radiusMm: 1, sphere: true, normal: 2, value: 1 }); lm.commit();
    const after = lm.data.slice();
    lm.begin("b"); stamp(lm, ct, [5, 3, 3], { radiusMm: 3, sphere: false, normal: 2, value: 3 }); lm.commit();
    lm.undo(); expect(lm.data).toEqual(after);
    lm.undo(); expect(lm.counts[0]).toBe(n);
    lm.redo(); lm.redo(); expect(lm.counts[3]).toBeGreaterThan(0);
  });
});

describe("region grow and fill between slices", () => {
  it("grows only within the HU range", () => {
    const { ct, lm } = make(40);
    for (let y = 2; y < 6; y++) for (let x = 2; x < 8; x++) ct.hu[idx(x, y, 5)] = -800;
    lm.begin("g"); const c = regionGrow(lm, ct, [3, 3, 5], -1000, -400, 1, 2); lm.commit();
    expect(c).toBe(24);
  });
  it("interpolates a square between two slices", () => {
    const { lm } = make();
    lm.begin("p");
    for (const z of [2, 6]) for (let y = 4; y < 10; y++) for (let x = 4; x < 10; x++) lm.set(idx(x, y, z), 3);
    lm.commit();
    const p = makePlane("axial", g, true);
    lm.begin("f"); const filled = fillBetweenSlices(lm, p, 3); lm.commit();
    expect(filled).toBe(3);
    for (const z of [3, 4, 5]) expect(lm.data[idx(6, 6, z)]).toBe(3);
    expect(lm.data[idx(1, 1, 4)]).toBe(0);
  });
  it("removes small islands and erases in a box", () => {
    const { lm } = make();
    lm.begin("p"); lm.set(idx(1, 1, 1), 2); for (let x = 5; x < 15; x++) lm.set(idx(x, 5, 5), 2); lm.commit();
    lm.begin("i"); expect(removeSmallIslands(lm, 2, 3)).toBe(1); lm.commit();
    expect(lm.data[idx(1, 1, 1)]).toBe(1); // a lesion island falls back to lung
    lm.begin("b"); eraseInBox(lm, makePlane("axial", g, true), 2, 5, 5, 9, 5, 5, 5); lm.commit();
    expect(lm.counts[2]).toBe(5);
  });
});

describe("nifti", () => {
  it("round-trips int16 data in [z, y, x] order", () => {
    const data = new Int16Array(n).map((_, i) => i % 3000 - 1000);
    const v = parseNifti(writeNifti([g.nx, g.ny, g.nz], [g.sx, g.sy, g.sz], data));
    expect(v.dims).toEqual([20, 16, 10]);
    expect(Array.from(v.data.slice(0, 5))).toEqual([-1000, -999, -998, -997, -996]);
    expect(v.data[idx(3, 2, 1)]).toBe(idx(3, 2, 1) % 3000 - 1000);
  });
});
