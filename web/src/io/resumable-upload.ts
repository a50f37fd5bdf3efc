/** Chunked, resumable upload through /api/projects/{pid}/uploads, then commit for import results. */
import { ApiError, request, sendJson, type ImportResult } from "../core/api";
import type { PathedFile } from "./collect-files";

interface UploadState { upload_id: string; files: { index: number; name: string; size: number; received: number }[] }

export const CHUNK_BYTES = 4 * 1024 * 1024;

export interface UploadProgress { sent: number; total: number; retrying: boolean }

function sleep(ms: number) { return new Promise((r) => setTimeout(r, ms)); }

/** Uploads all files (4 at a time, chunked), retrying dropped connections from the server's offset. */
export async function uploadResumable(pid: number, files: PathedFile[], onProgress: (p: UploadProgress) => void,
  opts: { maxRetries?: number } = {}): Promise<ImportResult[]> {
  const total = files.reduce((s, f) => s + f.file.size, 0);
  const state = await sendJson<UploadState>("POST", `/api/projects/${pid}/uploads`,
    { files: files.map((f) => ({ name: f.path, size: f.file.size })) });
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
        const res = await request("PUT", `/api/uploads/${state.upload_id}/files/${i}?offset=${off}`, chunk);
        received[i] = (await res.json()).received; failures = 0; report();
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
          const st = await sendJson<UploadState>("GET", `/api/uploads/${state.upload_id}`);
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
      return (await sendJson<{ results: ImportResult[] }>("POST", `/api/uploads/${state.upload_id}/commit`)).results;
    } catch (e) {
      if (attempt >= 3 || (e instanceof ApiError && e.status < 500)) throw e;
      await sleep(1000);
    }
  }
}

/** Fallback: one multipart POST (used when the server has no uploads endpoint). */
export function uploadMultipart(pid: number, files: PathedFile[], onProgress: (p: UploadProgress) => void): Promise<ImportResult[]> {
  return new Promise((resolve, reject) => {
    const fd = new FormData();
    for (const f of files) fd.append("files", f.file, f.path);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/projects/${pid}/import`);
    const m = document.cookie.match(/(?:^|;\s*)lunglab_csrf=([^;]*)/);
    xhr.setRequestHeader("X-CSRF-Token", m ? decodeURIComponent(m[1]) : "");
    xhr.upload.onprogress = (e) => onProgress({ sent: e.loaded, total: e.total, retrying: false });
    xhr.onload = () => {
      let body: { results?: ImportResult[]; detail?: unknown } = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300 && body.results) resolve(body.results);
      else reject(new ApiError(xhr.status, body.detail ?? xhr.statusText));
    };
    xhr.onerror = () => reject(new Error("Network error during upload"));
    xhr.send(fd);
  });
}
