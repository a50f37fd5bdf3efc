/** Minimal NIfTI-1 reader/writer for the volumes the LungLab API serves (int16 CT, uint8 labels). */

export interface NiftiVolume {
  /** Size as [nx, ny, nz]; voxel index = z*ny*nx + y*nx + x (== server's C-order [z, y, x]). */
  dims: [number, number, number];
  /** Voxel size in mm as [sx, sy, sz]. */
  spacing: [number, number, number];
  data: Int16Array | Uint8Array | Float32Array;
}

/** Gunzips when the bytes start with the gzip magic, using the browser's native stream. */
export async function maybeGunzip(buf: ArrayBuffer): Promise<ArrayBuffer> {
  const b = new Uint8Array(buf, 0, 2);
  if (b[0] !== 0x1f || b[1] !== 0x8b) return buf;
  const ds = new Blob([buf]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(ds).arrayBuffer();
}

export async function gzipBytes(data: Uint8Array): Promise<Blob> {
  const cs = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return await new Response(cs).blob();
}

/** Parses an uncompressed NIfTI-1 file. Integer data with a non-trivial scl_slope is rescaled. */
export function parseNifti(buf: ArrayBuffer): NiftiVolume {
  let dv = new DataView(buf);
  let le = true;
  if (dv.getInt32(0, true) !== 348) {
    if (dv.getInt32(0, false) !== 348) throw new Error("Not a NIfTI-1 file");
    le = false;
  }
  const dim = [0, 1, 2, 3].map((i) => dv.getInt16(40 + 2 * i, le));
  const nx = dim[1], ny = dim[2], nz = dim[0] >= 3 ? dim[3] : 1;
  const datatype = dv.getInt16(70, le);
  const pix = [1, 2, 3].map((i) => Math.abs(dv.getFloat32(76 + 4 * i, le)) || 1);
  const voxOffset = Math.round(dv.getFloat32(108, le));
  const slope = dv.getFloat32(112, le);
  const inter = dv.getFloat32(116, le);
  const n = nx * ny * nz;
  let data: Int16Array | Uint8Array | Float32Array;
  const copyIfNeeded = (bytes: number) => {
    // typed arrays need aligned offsets; copy the payload when it is not aligned
    if (voxOffset % bytes === 0 && le) return buf;
    return null;
  };
  switch (datatype) {
    case 2: data = new Uint8Array(buf, voxOffset, n); break;
    case 4: {
      const b = copyIfNeeded(2);
      if (b) data = new Int16Array(b, voxOffset, n);
      else {
        data = new Int16Array(n);
        for (let i = 0; i < n; i++) data[i] = dv.getInt16(voxOffset + 2 * i, le);
      }
      break;
    }
    case 512: { // uint16 -> int16 HU
      data = new Int16Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.min(32767, dv.getUint16(voxOffset + 2 * i, le));
      break;
    }
    case 16: {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getFloat32(voxOffset + 4 * i, le);
      break;
    }
    case 256: { // int8
      data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.max(0, dv.getInt8(voxOffset + i));
      break;
    }
    default: throw new Error(`Unsupported NIfTI datatype ${datatype}`);
  }
  if (data instanceof Int16Array && slope && (slope !== 1 || inter !== 0)) {
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.round(data[i] * slope + inter);
    data = out;
  }
  if (data instanceof Float32Array) {
    const s = slope || 1;
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(data[i] * s + inter)));
    data = out;
  }
  return { dims: [nx, ny, nz], spacing: [pix[0], pix[1], pix[2]], data };
}

/** Writes a NIfTI-1 file (RAS affine for an LPS-stored array) for the 3D renderer. */
export function writeNifti(dims: [number, number, number], spacing: [number, number, number],
  data: Int16Array | Uint8Array): ArrayBuffer {
  const bytesPer = data instanceof Int16Array ? 2 : 1;
  const buf = new ArrayBuffer(352 + data.length * bytesPer);
  const dv = new DataView(buf);
  dv.setInt32(0, 348, true);
  const dim = [3, dims[0], dims[1], dims[2], 1, 1, 1, 1];
  dim.forEach((d, i) => dv.setInt16(40 + 2 * i, d, true));
  dv.setInt16(70, bytesPer === 2 ? 4 : 2, true);
  dv.setInt16(72, bytesPer * 8, true);
  const pix = [1, spacing[0], spacing[1], spacing[2], 1, 1, 1, 1];
  pix.forEach((p, i) => dv.setFloat32(76 + 4 * i, p, true));
  dv.setFloat32(108, 352, true);
  dv.setFloat32(112, 1, true);
  dv.setInt16(254, 1, true); // sform_code
  // LPS array axes -> RAS: x and y flip
  const srow = [[-spacing[0], 0, 0, 0], [0, -spacing[1], 0, 0], [0, 0, spacing[2], 0]];
  srow.forEach((r, j) => r.forEach((v, i) => dv.setFloat32(280 + 16 * j + 4 * i, v, true)));
  new Uint8Array(buf, 344, 4).set([0x6e, 0x2b, 0x31, 0x00]); // "n+1\0"
  new Uint8Array(buf, 352).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return buf;
}
