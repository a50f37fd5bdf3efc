/** CT volume and editable label map, both indexed like the server's C-order [z, y, x] array. */

export interface Geometry { nx: number; ny: number; nz: number; sx: number; sy: number; sz: number }

export class CtVolume {
  constructor(public g: Geometry, public hu: Int16Array) {}
  index(x: number, y: number, z: number): number { return (z * this.g.ny + y) * this.g.nx + x; }
  inside(x: number, y: number, z: number): boolean {
    return x >= 0 && y >= 0 && z >= 0 && x < this.g.nx && y < this.g.ny && z < this.g.nz;
  }
}

/** One undoable edit: voxel indices with their old and new values, in the order they changed. */
export class Edit {
  idx: Int32Array = new Int32Array(1024);
  old: Uint8Array = new Uint8Array(1024);
  neu: Uint8Array = new Uint8Array(1024);
  n = 0;
  constructor(public name: string) {}
  push(i: number, o: number, v: number): void {
    if (this.n === this.idx.length) {
      const cap = this.n * 2;
      const a = new Int32Array(cap); a.set(this.idx); this.idx = a;
      const b = new Uint8Array(cap); b.set(this.old); this.old = b;
      const c = new Uint8Array(cap); c.set(this.neu); this.neu = c;
    }
    this.idx[this.n] = i; this.old[this.n] = o; this.neu[this.n] = v; this.n++;
  }
  get bytes(): number { return this.idx.length * 6; }
}

export const MAX_LABEL = 3;

export class LabelMap {
  counts = new Float64Array(256);
  private undoStack: Edit[] = [];
  private redoStack: Edit[] = [];
  private current: Edit | null = null;
  /** Incremented on every change; views and autosave compare it. */
  revision = 0;
  /** Incremented when an edit is committed, undone, redone or the map replaced (not per stroke move). */
  stable = 0;
  /** Undo memory budget in bytes (oldest steps are dropped beyond it). */
  undoBudget = 400e6;
  listeners: Array<() => void> = [];
  /** Committed edits by name since the last save (brush, region grow, smart click...): provenance. */
  tally: Record<string, number> = {};

  constructor(public g: Geometry, public data: Uint8Array) { this.recount(); }

  recount(): void {
    this.counts.fill(0);
    const d = this.data;
    // skip all-zero 4-byte words (most of a label map is background)
    const words = d.byteOffset % 4 === 0 ? Math.floor(d.length / 4) : 0;
    const w32 = new Uint32Array(d.buffer, d.byteOffset, words);
    let covered = 0;
    for (let k = 0; k < words; k++) {
      if (w32[k] === 0) continue;
      for (let i = 4 * k; i < 4 * k + 4; i++) this.counts[d[i]]++;
      covered += 4;
    }
    for (let i = 4 * words; i < d.length; i++) { this.counts[d[i]]++; covered++; }
    this.counts[0] += d.length - covered;
  }

  replace(data: Uint8Array): void {
    this.data = data; this.undoStack = []; this.redoStack = []; this.recount(); this.stable++; this.changed();
  }

  begin(name: string): Edit { this.current = new Edit(name); return this.current; }

  /** Sets one voxel inside the current edit. */
  set(i: number, v: number): void {
    const o = this.data[i];
    if (o === v) return;
    this.data[i] = v; this.counts[o]--; this.counts[v]++;
    this.current!.push(i, o, v);
  }

  /** Closes the current edit; empty edits leave no undo step. Returns the voxel change count. */
  commit(): number {
    const e = this.current; this.current = null;
    if (!e || e.n === 0) return 0;
    this.undoStack.push(e); this.redoStack = [];
    this.tally[e.name] = (this.tally[e.name] ?? 0) + 1;
    let total = this.undoStack.reduce((s, x) => s + x.bytes, 0);
    while (total > this.undoBudget && this.undoStack.length > 1) total -= this.undoStack.shift()!.bytes;
    this.stable++; this.changed();
    return e.n;
  }

  get canUndo(): boolean { return this.undoStack.length > 0; }
  get canRedo(): boolean { return this.redoStack.length > 0; }
  get undoDepth(): number { return this.undoStack.length; }

  undo(): boolean {
    const e = this.undoStack.pop(); if (!e) return false;
    for (let k = e.n - 1; k >= 0; k--) {
      const i = e.idx[k]; this.counts[this.data[i]]--; this.data[i] = e.old[k]; this.counts[e.old[k]]++;
    }
    this.redoStack.push(e); this.stable++; this.changed(); return true;
  }

  redo(): boolean {
    const e = this.redoStack.pop(); if (!e) return false;
    for (let k = 0; k < e.n; k++) {
      const i = e.idx[k]; this.counts[this.data[i]]--; this.data[i] = e.neu[k]; this.counts[e.neu[k]]++;
    }
    this.undoStack.push(e); this.stable++; this.changed(); return true;
  }

  changed(): void { this.revision++; for (const f of this.listeners) f(); }

  volumeMl(label: number): number { return (this.counts[label] * this.g.sx * this.g.sy * this.g.sz) / 1000; }
}

/**
 * Axial slices (z) where `current` differs from `base`; both are [z, y, x] label maps of
 * the same geometry. Compares 4 bytes at a time where the layout allows.
 */
export function changedSlices(g: Geometry, base: Uint8Array, current: Uint8Array): number[] {
  const plane = g.nx * g.ny;
  const out: number[] = [];
  const wide = plane % 4 === 0 && base.byteOffset % 4 === 0 && current.byteOffset % 4 === 0;
  const b32 = wide ? new Uint32Array(base.buffer, base.byteOffset, base.length / 4) : null;
  const c32 = wide ? new Uint32Array(current.buffer, current.byteOffset, current.length / 4) : null;
  for (let z = 0; z < g.nz; z++) {
    let differs = false;
    if (b32 && c32) {
      const o = (z * plane) / 4, end = o + plane / 4;
      for (let i = o; i < end; i++) if (b32[i] !== c32[i]) { differs = true; break; }
    } else {
      const o = z * plane, end = o + plane;
      for (let i = o; i < end; i++) if (base[i] !== current[i]) { differs = true; break; }
    }
    if (differs) out.push(z);
  }
  return out;
}

/** The slices `zs` of a [z, y, x] label map, copied one after the other. */
export function copySlices(g: Geometry, data: Uint8Array, zs: number[]): Uint8Array {
  const plane = g.nx * g.ny;
  const out = new Uint8Array(zs.length * plane);
  zs.forEach((z, k) => out.set(data.subarray(z * plane, (z + 1) * plane), k * plane));
  return out;
}
