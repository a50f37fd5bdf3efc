/** Exact squared Euclidean distance transform (Felzenszwalb & Huttenlocher), anisotropic. */

function edt1d(f: Float64Array, n: number, w2: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0; v[0] = 0; z[0] = -Infinity; z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let p = v[k];
    let s = ((f[q] + w2 * q * q) - (f[p] + w2 * p * p)) / (2 * w2 * (q - p));
    while (s <= z[k]) {
      k--; p = v[k];
      s = ((f[q] + w2 * q * q) - (f[p] + w2 * p * p)) / (2 * w2 * (q - p));
    }
    k++; v[k] = q; z[k] = s; z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const dq = q - v[k];
    d[q] = w2 * dq * dq + f[v[k]];
  }
}

/** Squared distance (mm^2) from each pixel to the nearest pixel where mask is 1. */
export function edt2d(mask: Uint8Array, w: number, h: number, sc: number, sr: number): Float64Array {
  const INF = 1e20;
  const out = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) out[i] = mask[i] ? 0 : INF;
  const n = Math.max(w, h);
  const f = new Float64Array(n), d = new Float64Array(n), v = new Int32Array(n), z = new Float64Array(n + 1);
  for (let c = 0; c < w; c++) {
    for (let r = 0; r < h; r++) f[r] = out[r * w + c];
    edt1d(f, h, sr * sr, d, v, z);
    for (let r = 0; r < h; r++) out[r * w + c] = d[r];
  }
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) f[c] = out[r * w + c];
    edt1d(f, w, sc * sc, d, v, z);
    for (let c = 0; c < w; c++) out[r * w + c] = d[c];
  }
  return out;
}

/** Signed distance in mm: negative inside the mask, positive outside. */
export function signedDistance(mask: Uint8Array, w: number, h: number, sc: number, sr: number): Float32Array {
  const outside = edt2d(mask, w, h, sc, sr);
  const inv = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) inv[i] = mask[i] ? 0 : 1;
  const inside = edt2d(inv, w, h, sc, sr);
  const s = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) s[i] = mask[i] ? -Math.sqrt(inside[i]) + 0.5 * Math.min(sc, sr) : Math.sqrt(outside[i]) - 0.5 * Math.min(sc, sr);
  return s;
}
