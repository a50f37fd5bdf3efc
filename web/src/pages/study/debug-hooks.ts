/** `window.__lunglab`: what the browser tests and bench/viewer.py read from the open study. */
import type { Orientation, Vec3 } from "../../core/plane";
import { isDirty, type StudyContext } from "./context";

/** A fresh hook object, published on `window` before anything loads. */
export function newDebugHooks(): Record<string, unknown> {
  const dbg: Record<string, unknown> = { ready: false, timings: {} };
  (window as unknown as { __lunglab: unknown }).__lunglab = dbg;
  return dbg;
}

export function exposeStudy(ctx: StudyContext): void {
  const { dbg, viewer, labels, g, edit } = ctx;
  dbg.viewer = viewer; dbg.study = ctx.study;
  Object.defineProperty(dbg, "baseVersionId", { get: () => edit.baseVersionId });
  Object.defineProperty(dbg, "dirty", { get: () => isDirty(ctx) });
  dbg.voxelToClient = (o: Orientation, v: Vec3) => viewer.view(o)!.voxelToClient(v);
  dbg.labelAt = (v: Vec3) => labels.data[(v[2] * g.ny + v[1]) * g.nx + v[0]];
  dbg.counts = () => Array.from(labels.counts.slice(0, 4));
  dbg.sliceCount = (label: number, z: number) => { let n = 0; const o = z * g.nx * g.ny; for (let i = 0; i < g.nx * g.ny; i++) if (labels.data[o + i] === label) n++; return n; };
}
