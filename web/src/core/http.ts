/**
 * The one place that talks HTTP: `request` (CSRF header, JSON bodies, errors as `ApiError`) and
 * `uploadWithProgress` (XHR, for upload progress). Endpoints and their URLs live in `api.ts`.
 */

export class ApiError extends Error {
  constructor(public status: number, public detail: unknown) {
    super(ApiError.describe(status, detail));
  }
  static describe(status: number, detail: unknown): string {
    if (typeof detail === "string") return detail;
    if (detail && typeof detail === "object" && "message" in detail) return String((detail as { message: unknown }).message);
    if (Array.isArray(detail)) return detail.map((d) => (d && d.msg) || JSON.stringify(d)).join("; ");
    return `HTTP ${status}`;
  }
}

function csrfToken(): string {
  const m = document.cookie.match(/(?:^|;\s*)lunglab_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

let lastLogin = 0;
/** Called after a successful log-in: a 401 in the next 3 s is retried once (see `request`). */
export function noteLogin(): void { lastLogin = Date.now(); }

export interface RequestOptions { signal?: AbortSignal }

export async function request(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  let payload: BodyInit | undefined;
  if (body instanceof FormData || body instanceof Blob || body instanceof ArrayBuffer) payload = body as BodyInit;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  let res = await fetch(path, { method, headers, body: payload, credentials: "same-origin", signal: opts.signal });
  if (res.status === 401 && Date.now() - lastLogin < 3000 && !(payload instanceof FormData) && !(payload instanceof Blob)) {
    // a session created a moment ago may not be committed yet on the server; try once more
    await new Promise((r) => setTimeout(r, 500));
    res = await fetch(path, { method, headers, body: payload, credentials: "same-origin", signal: opts.signal });
  }
  if (!res.ok) {
    let detail: unknown = res.statusText;
    try { detail = (await res.json()).detail; } catch { /* not JSON */ }
    if (res.status === 401 && !path.endsWith("/auth/login") && !path.endsWith("/auth/me")) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    }
    throw new ApiError(res.status, detail);
  }
  return res;
}

export async function getJson<T>(path: string): Promise<T> { return (await request("GET", path)).json(); }
export async function sendJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await request(method, path, body)).json();
}

export interface TransferProgress { loaded: number; total: number }

/** POSTs a form with XHR so the caller sees upload progress; resolves with the parsed JSON body. */
export function uploadWithProgress<T>(path: string, form: FormData, onProgress: (p: TransferProgress) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.total });
    xhr.onload = () => {
      let body: unknown = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else reject(new ApiError(xhr.status, (body as { detail?: unknown }).detail ?? xhr.statusText));
    };
    xhr.onerror = () => reject(new Error("Network error during upload"));
    xhr.send(form);
  });
}
