/** Chunked, resumable upload (the API's uploads resource), then commit for import results. */
import * as api from "../core/api";
import { ApiError, type ImportResult } from "../core/api";
import type { PathedFile } from "./collect-files";

export const CHUNK_BYTES = 4 * 1024 * 1024;

export interface UploadProgress { sent: number; total: number; retrying: boolean }

function sleep(ms: number) { return new Promise((r) => setTimeout(r, ms)); }

/** Uploads all files (4 at a time, chunked), retrying dropped connections from the server's offset. */
export async function uploadResumable(pid: number, files: PathedFile[], onProgress: (p: UploadProgress) => void,
  opts: { maxRetries?: number } = {}): Promise<ImportResult[]> {
  const total = files.reduce((s, f) => s + f.file.size, 0);
  const state = await api.createUpload(pid, files.map((f) => ({ name: f.path, size: f.file.size })));
  const received = state.files.map((f) => f.received);
  const report = (retrying = false) => onProgress({ sent: received.reduce((a, b) => a + b, 0), total, retrying });
  report();
  const maxRetries = opts.maxRetries ?? 8;
  const sendFile = async (i: number) => {
    const f = files[i].file;
    let failures = 0;
    while (received[i] < f.size) {
      const off = received[i];
      const chunk = f.slice(off, Math.min(f.size, off + CHUNK_BYTES));
      try {
        received[i] = (await api.uploadChunk(state.upload_id, i, off, chunk)).received; failures = 0; report();
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          const d = e.detail as { received?: number };
          if (typeof d?.received === "number") { received[i] = d.received; continue; }
        }
        if (e instanceof ApiError && e.status < 500 && e.status !== 409 && e.status !== 408) throw e;
        if (++failures > maxRetries) throw e;
        report(true);
        await sleep(Math.min(8000, 250 * 2 ** failures));
        try { // ask the server where it stands, then resume from there
          const st = await api.uploadStatus(state.upload_id);
          received[i] = st.files[i].received;
        } catch { /* still offline: retry later */ }
      }
    }
  };
  let next = 0;
  const workers = Array.from({ length: Math.min(4, files.length) }, async () => {
    while (next < files.length) { const i = next++; await sendFile(i); }
  });
  await Promise.all(workers);
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.commitUpload(state.upload_id);
    } catch (e) {
      if (attempt >= 3 || (e instanceof ApiError && e.status < 500)) throw e;
      await sleep(1000);
    }
  }
}

/** Fallback: one multipart POST (used when the server has no uploads endpoint). */
export function uploadMultipart(pid: number, files: PathedFile[], onProgress: (p: UploadProgress) => void): Promise<ImportResult[]> {
  const fd = new FormData();
  for (const f of files) fd.append("files", f.file, f.path);
  return api.importMultipart(pid, fd, (p) => onProgress({ sent: p.loaded, total: p.total, retrying: false }));
}
