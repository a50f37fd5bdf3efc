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

// ---------- collaboration (docs/collaboration-api.md) ----------
export interface AssignmentOut {
  id: number; study_id: number; project_id: number; study_name: string; user_id: number; username: string;
  state: "assigned" | "in_progress" | "submitted" | "returned" | "approved"; created_at: string;
  start_from: "ai" | "empty" | "other" | null; start_version_id: number | null; submitted_version_id: number | null;
  active_seconds: number; started_at: string | null; submitted_at: string | null; decided_at: string | null;
}
export interface CommentOut {
  id: number; study_id: number; assignment_id: number | null; version_id: number | null; author: string; text: string;
  slice_index: number | null; position: [number, number] | null; created_at: string;
}
export interface DecisionOut {
  id: number; study_id: number; assignment_id: number | null; version_id: number; decision: "approve" | "return";
  comment: string | null; reviewer: string; created_at: string;
}
export interface AssignmentDetail extends AssignmentOut { comments: CommentOut[]; decisions: DecisionOut[] }
export interface ReviewReader {
  assignment_id: number; username: string; state: string; version: VersionPublic; active_seconds: number;
  submitted_at: string | null; start_from: string | null;
}
export interface ReviewOut {
  study_id: number; study_name: string; readers: ReviewReader[]; other_versions: VersionPublic[];
  comments: CommentOut[]; decisions: DecisionOut[]; final_version_id: number | null;
}
export interface PairOut { version_a: number; version_b: number; reader_a: string; reader_b: string; dice: number | null; hd95_mm: number | null; volume_a_ml: number; volume_b_ml: number; volume_diff_ml: number }
export interface AgreementOut {
  study_id: number; at: string; versions: { version_id: number; reader: string }[];
  consensus: { version_id: number | null; method: string } | null;
  labels: { label: string; mean_dice: number | null; min_dice: number | null; pairs: PairOut[] }[];
  readers: { version_id: number; reader: string; labels: Record<string, { dice_vs_consensus: number | null; sensitivity: number | null; specificity: number | null }> }[];
}
export interface DashboardOut {
  project_id: number; threshold: number; studies: number;
  points: { study_id: number; study_name: string; at: string; label: string; mean_dice: number | null; min_dice: number | null; readers: Record<string, number | null> }[];
  by_label: { label: string; mean_dice: number | null; studies: number }[];
  by_reader: { reader: string; label: string; studies: number; mean_dice_vs_consensus: number | null; mean_sensitivity: number | null; mean_specificity: number | null }[];
  flagged: { study_id: number; study_name: string; label: string; mean_dice: number | null }[];
}
export interface MemberPublic { user_id: number; username: string; role: string }

// ---------- training, models, queue (docs/training-api.md) ----------
export interface JobPublic { id: number; kind: string; state: string; progress: number; message: string; result?: Record<string, unknown> | null; [k: string]: unknown }
export interface RunView {
  id: number; project_id: number; state: string; phase: string; job_id: number; job_ids: number[]; progress: number;
  message: string; worker: string | null; epoch: number | null; epochs: number; eta_seconds: number | null;
  resumed_from_epoch: number | null;
  curves: { epoch: number[]; loss: (number | null)[]; val_dice: Record<string, (number | null)[]> };
  samples: { epoch: number; file: string; study_id: number; z: number; url: string }[];
  history: Record<string, unknown>[]; params: Record<string, unknown>; data_snapshot: { study_id: number; version_id: number }[];
  val_study_ids: number[]; model_version_id: number | null; comparison: Comparison | null; created_at: string;
}
export interface Comparison {
  new: { dice: Record<string, number | null>; abs_volume_error_ml: Record<string, number | null>; cases: number };
  active: { dice: Record<string, number | null>; abs_volume_error_ml: Record<string, number | null>; cases: number } | null;
  active_model: string | null;
  per_case: { study_id: number; new: { mean_dice: number | null }; active: { mean_dice: number | null } | null; delta_mean_dice: number | null; change: string }[];
  improved: number[]; worsened: number[]; gate: { passed: boolean; reasons: string[]; tolerance: number };
}
export interface ModelVersionPublic {
  id: number; project_id: number; number: number; name: string; state: "candidate" | "active" | "retired";
  base_version_id: number | null; base_model: string | null; lineage: { id: number | null; name: string; base_model: string | null }[];
  arch: string; config: Record<string, unknown>; seed: number; data_snapshot: { study_id: number; version_id: number }[];
  val_study_ids: number[]; metrics: { final_val_dice?: Record<string, number | null>; epochs?: number; train_seconds?: number } | null;
  comparison: Comparison | null; run_id: number | null; created_by: string | null; created_at: string;
  promoted_at: string | null; promotion_reason: string | null;
}
