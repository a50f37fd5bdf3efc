/** Thin client for the LungLab HTTP API (docs/api-contract.md). */

export interface UserPublic { id: number; username: string; is_admin: boolean }
export interface LabelSpec { value: number; name: string; color: string }
export interface ProjectPublic {
  id: number; name: string; description: string; label_schema: LabelSpec[];
  my_role: string | null; settings: Record<string, unknown>;
}
export interface StudyPublic {
  id: number; project_id: number; name: string; shape: [number, number, number];
  spacing: [number, number, number]; origin: number[]; direction: number[]; slice_count: number;
  modality: string; series_description: string | null; created_at: string; updated_at: string;
  ai_status: "none" | "queued" | "running" | "done" | "failed"; latest_version_id: number | null;
  version_count: number; warnings: string[]; ai_summary: Record<string, unknown> | null;
  state?: string; assigned_to?: string[] | string | null;
}
export interface VersionPublic {
  id: number; study_id: number; kind: "ai" | "human" | "consensus" | "imported";
  author: string | null; model_name: string | null; parent_id: number | null; created_at: string;
  checksum: string; voxel_counts: Record<string, number>; volumes_ml: Record<string, number>;
  message: string | null;
}
export interface ImportResult {
  name: string; status: "imported" | "duplicate" | "refused"; study_id: number | null;
  reason: string | null; warnings: string[];
}
export interface List<T> { data: T[]; count: number }

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

export async function request(method: string, path: string, body?: unknown,
  opts: { raw?: boolean; signal?: AbortSignal } = {}): Promise<Response> {
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
  if (path === "/api/auth/login" && res.ok) lastLogin = Date.now();
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

export const api = {
  login: (username: string, password: string) => sendJson<UserPublic>("POST", "/api/auth/login", { username, password }),
  logout: () => request("POST", "/api/auth/logout"),
  me: () => getJson<UserPublic>("/api/auth/me"),
  projects: () => getJson<List<ProjectPublic>>("/api/projects"),
  project: (pid: number) => getJson<ProjectPublic>(`/api/projects/${pid}`),
  studies: (pid: number, q = "", ai = "", offset = 0, limit = 200) =>
    getJson<List<StudyPublic>>(`/api/projects/${pid}/studies?offset=${offset}&limit=${limit}&q=${encodeURIComponent(q)}&ai_status=${encodeURIComponent(ai)}`),
  study: (sid: number) => getJson<StudyPublic>(`/api/studies/${sid}`),
  versions: (sid: number) => getJson<List<VersionPublic>>(`/api/studies/${sid}/versions`),
};
