/**
 * The LungLab HTTP API as typed functions: one per endpoint (docs/api-contract.md,
 * docs/collaboration-api.md, docs/training-api.md). Every URL under /api/ is spelled here and
 * nowhere else in the client (`scripts/check-structure.mjs` fails the build otherwise).
 * A new endpoint: add its response type to `types.ts` and one function to the fitting section.
 */
import { getJson, noteLogin, request, sendJson, uploadWithProgress, ApiError, type TransferProgress } from "./http";
import { downloadNifti, type Nifti } from "./nifti-download";
import { maybeGunzip, parseNifti } from "./nifti";
import type {
  AgreementOut, AnnotateNextItem, AssignmentDetail, AssignmentOut, AutoAssignResult, DashboardOut, HistoryOut, ImportResult,
  JobPublic, List, MemberPublic, Quantification, ModelExportFormat, ModelList, ModelVersionPublic, ProjectPublic, QueueOut, ReviewOut, RunView,
  FindingsIn, RadiographAgreementOut, RadiographOut, ReadingOut, StudyPublic, TrainingData, TrainingStarted, UploadState, UserPublic, VersionPublic,
} from "./types";

export { ApiError } from "./http";
export type { TransferProgress } from "./http";
export type { Nifti } from "./nifti-download";
export type * from "./types";

const q = encodeURIComponent;

// ---------- auth ----------
export async function login(username: string, password: string): Promise<UserPublic> {
  const u = await sendJson<UserPublic>("POST", "/api/auth/login", { username, password });
  noteLogin();
  return u;
}
export const logout = () => request("POST", "/api/auth/logout");
export const me = () => getJson<UserPublic>("/api/auth/me");
/** Link target (admins): the audit log as CSV. */
export const auditExportUrl = () => "/api/audit/export.csv";

// ---------- projects ----------
export const projects = () => getJson<List<ProjectPublic>>("/api/projects");
export const project = (pid: number) => getJson<ProjectPublic>(`/api/projects/${pid}`);
export const updateProjectSettings = (pid: number, settings: Record<string, unknown>) =>
  sendJson<ProjectPublic>("PATCH", `/api/projects/${pid}`, { settings });
export const members = (pid: number) => getJson<List<MemberPublic>>(`/api/projects/${pid}/members`);
export const studies = (pid: number, text = "", ai = "", offset = 0, limit = 200) =>
  getJson<List<StudyPublic>>(`/api/projects/${pid}/studies?offset=${offset}&limit=${limit}&q=${q(text)}&ai_status=${q(ai)}`);

// ---------- import (chunked resumable upload, or one multipart POST) ----------
export const createUpload = (pid: number, files: { name: string; size: number }[]) =>
  sendJson<UploadState>("POST", `/api/projects/${pid}/uploads`, { files });
export const uploadStatus = (uploadId: string) => sendJson<UploadState>("GET", `/api/uploads/${uploadId}`);
export const uploadChunk = async (uploadId: string, index: number, offset: number, chunk: Blob) =>
  (await request("PUT", `/api/uploads/${uploadId}/files/${index}?offset=${offset}`, chunk)).json() as Promise<{ received: number }>;
export const commitUpload = async (uploadId: string) =>
  (await sendJson<{ results: ImportResult[] }>("POST", `/api/uploads/${uploadId}/commit`)).results;
export async function importMultipart(pid: number, form: FormData, onProgress: (p: TransferProgress) => void): Promise<ImportResult[]> {
  const body = await uploadWithProgress<{ results?: ImportResult[]; detail?: unknown }>(`/api/projects/${pid}/import`, form, onProgress);
  if (!body.results) throw new ApiError(200, body.detail ?? "OK");
  return body.results;
}

// ---------- studies, volumes, label-map versions ----------
export const study = (sid: number) => getJson<StudyPublic>(`/api/studies/${sid}`);
export const studyVolume = (sid: number, onBytes?: (n: number) => void, t?: Record<string, number>): Promise<Nifti> =>
  downloadNifti(`/api/studies/${sid}/volume.nii.gz`, onBytes, t);
export const versions = (sid: number) => getJson<List<VersionPublic>>(`/api/studies/${sid}/versions`);
export const versionLabels = (vid: number): Promise<Nifti> => downloadNifti(`/api/versions/${vid}/labels.nii.gz`);
/** Saves a new version (form fields: file, format, slices, base_version_id, message). 409 on a newer version. */
export const saveVersion = async (sid: number, form: FormData) =>
  (await request("POST", `/api/studies/${sid}/versions`, form)).json() as Promise<VersionPublic>;
/** A reviewer's edited copy of a reading (form as `saveVersion`, plus approve). */
export const saveReviewCopy = async (sid: number, form: FormData) =>
  (await request("POST", `/api/studies/${sid}/review-copies`, form)).json() as Promise<VersionPublic>;
/** Smart click (form: file = current label slices, slices, clicks JSON, three_d): the slices the
 * interactive model changed, raw uint8 [k, y, x], and their z. Nothing is saved. */
/** Loads the Smart click model and the study's CT on the server before the first click. */
export const smartClickWarm = (sid: number) => sendJson<{ model: string; ms: number }>("POST", `/api/studies/${sid}/smart-click/warm`, {});
export async function smartClick(sid: number, form: FormData): Promise<{ z: number[]; data: Uint8Array }> {
  const res = await request("POST", `/api/studies/${sid}/smart-click`, form);
  const z = (res.headers.get("X-Slices") ?? "").split(",").filter((t) => t !== "").map(Number);
  return { z, data: new Uint8Array(await maybeGunzip(await res.arrayBuffer())) };
}

// ---------- assignments (readers) ----------
export const myAssignments = () => getJson<List<AssignmentOut>>("/api/me/assignments");
export const projectAssignments = (pid: number, username?: string) =>
  getJson<List<AssignmentOut>>(`/api/projects/${pid}/assignments${username === undefined ? "" : `?username=${q(username)}`}`);
export const assignment = (aid: number) => getJson<AssignmentDetail>(`/api/assignments/${aid}`);
export const startAssignment = (aid: number) => sendJson<AssignmentOut>("POST", `/api/assignments/${aid}/start`, {});
export const submitAssignment = (aid: number) => sendJson<AssignmentOut>("POST", `/api/assignments/${aid}/submit`, {});
/** A project admin or reviewer who works alone submits their own reading of the study (issue 16). */
export const submitOwnReading = (sid: number) => sendJson<AssignmentOut>("POST", `/api/studies/${sid}/submit`, {});
export const heartbeat = (aid: number, seconds: number) =>
  sendJson<{ active_seconds: number }>("POST", `/api/assignments/${aid}/heartbeat`, { seconds });
export const deleteAssignment = (aid: number) => request("DELETE", `/api/assignments/${aid}`);
export const assignBulk = (pid: number, studyIds: number[], usernames: string[]) =>
  sendJson<List<AssignmentOut>>("POST", `/api/projects/${pid}/assignments/bulk`, { study_ids: studyIds, usernames });
export const assignAuto = (pid: number, body: Record<string, unknown>) =>
  sendJson<AutoAssignResult>("POST", `/api/projects/${pid}/assignments/auto`, body);
export const addComment = (sid: number, text: string, assignmentId: number) =>
  sendJson("POST", `/api/studies/${sid}/comments`, { text, assignment_id: assignmentId });

// ---------- review, agreement, consensus ----------
export const review = (sid: number) => getJson<ReviewOut>(`/api/studies/${sid}/review`);
export const history = (sid: number) => getJson<HistoryOut>(`/api/studies/${sid}/history?effort=true`);
export const agreement = (sid: number) => getJson<AgreementOut>(`/api/studies/${sid}/agreement`);
/** The disagreement map and its voxel count (header X-Disagreement-Voxels). */
export async function disagreement(sid: number): Promise<{ voxels: number; data: Uint8Array }> {
  const res = await request("GET", `/api/studies/${sid}/disagreement.nii.gz`);
  const voxels = Number(res.headers.get("X-Disagreement-Voxels") ?? "0");
  return { voxels, data: parseNifti(await maybeGunzip(await res.arrayBuffer())).data as Uint8Array };
}
export const approve = (sid: number, versionId: number, comment = "") =>
  sendJson("POST", `/api/studies/${sid}/approve`, comment ? { version_id: versionId, comment } : { version_id: versionId });
export const buildConsensus = (sid: number, method: "staple" | "majority", message: string) =>
  sendJson<{ version: VersionPublic }>("POST", `/api/studies/${sid}/consensus`, { method, message });
export const returnAssignment = (aid: number, comment: string, anchors: { text: string; slice_index: number; position: [number, number] }[]) =>
  sendJson("POST", `/api/assignments/${aid}/return`, { comment, anchors });
export const projectAgreement = (pid: number, threshold: string) =>
  getJson<DashboardOut>(`/api/projects/${pid}/agreement?threshold=${q(threshold)}`);

// ---------- training, models, active learning ----------
export const trainingData = (pid: number, modality: "ct" | "xr" = "ct") => getJson<TrainingData>(`/api/projects/${pid}/training/data?modality=${modality}`);
export const startTraining = (pid: number, body: Record<string, unknown>) =>
  sendJson<TrainingStarted>("POST", `/api/projects/${pid}/training`, body);
export const trainingJob = (jobId: number) => getJson<RunView>(`/api/training/jobs/${jobId}`);
export const trainingRun = (runId: number) => getJson<RunView>(`/api/training/runs/${runId}`);
export const trainingRuns = (pid: number) => getJson<List<RunView>>(`/api/projects/${pid}/training/runs`);
export const resumeTraining = (runId: number) => sendJson<JobPublic>("POST", `/api/training/runs/${runId}/resume`, {});
export const models = (pid: number) => getJson<ModelList>(`/api/projects/${pid}/models`);
export const model = (mid: number) => getJson<ModelVersionPublic>(`/api/models/${mid}`);
export const promoteModel = (mid: number, override: boolean, reason: string | null) =>
  sendJson("POST", `/api/models/${mid}/promote`, { override, reason });
export const rollbackTo = (mid: number) => sendJson("POST", `/api/models/${mid}/rollback`, {});
export const rollbackPrevious = (pid: number) => sendJson("POST", `/api/projects/${pid}/models/rollback`, {});
export const useShippedModel = (pid: number) => request("POST", `/api/projects/${pid}/models/rollback`, { version_id: 0 });
/** Stops using any radiograph model (none is shipped): radiographs get no AI proposal. */
export const noRadiographModel = (pid: number) => request("POST", `/api/projects/${pid}/models/rollback`, { version_id: 0, modality: "xr" });
/** Link target: a model version exported as a MONAI bundle, TorchScript or ONNX. */
export const modelExportUrl = (mid: number, format: ModelExportFormat) => `/api/models/${mid}/export?format=${format}`;
export const annotateNext = (pid: number, limit: number) => getJson<List<AnnotateNextItem>>(`/api/projects/${pid}/annotate-next?limit=${limit}`);
export const rescoreAnnotateNext = (pid: number) => sendJson<JobPublic>("POST", `/api/projects/${pid}/annotate-next/refresh`, {});

// ---------- jobs and queue ----------
export const job = (jid: number) => getJson<JobPublic>(`/api/jobs/${jid}`);
export const jobLog = async (jid: number) => (await request("GET", `/api/jobs/${jid}/log`)).text();
export const cancelJob = (jid: number) => sendJson("POST", `/api/jobs/${jid}/cancel`, {});
export const queue = () => getJson<QueueOut>("/api/queue");
/** Queues a job (``ai-segment`` for one study: the AI proposal; 201 with the job). */
export const submitJob = (kind: string, target: { study_id?: number; project_id?: number }, params: Record<string, unknown> = {}) =>
  sendJson<JobPublic>("POST", "/api/jobs", { kind, ...target, params });
export const runAi = (sid: number) => submitJob("ai-segment", { study_id: sid });
/** The newest jobs of one study that the user may see (newest first). */
export const studyJobs = (sid: number) => getJson<List<JobPublic>>(`/api/jobs?study_id=${sid}`);
/** The jobs of one project that the user may see (newest first). */
export const projectJobs = (pid: number) => getJson<List<JobPublic>>(`/api/jobs?project_id=${pid}`);

// ---------- reports, figures, exports (link targets; project admins for downloads) ----------
export const quantification = (sid: number) => getJson<Quantification>(`/api/studies/${sid}/quantification`);
export const quantificationUrl = (sid: number) => `/api/studies/${sid}/quantification`;
export const reportHtmlUrl = (sid: number, baseline?: number) =>
  `/api/studies/${sid}/report.html${baseline === undefined ? "" : `?baseline=${baseline}`}`;
export const reportPdfUrl = (sid: number) => `/api/studies/${sid}/report.pdf`;
export const changeUrl = (sid: number, baseline: number) => `/api/studies/${sid}/change?baseline=${baseline}`;
export const labelsNiftiExportUrl = (vid: number) => `/api/exports/versions/${vid}/labels.nii.gz`;
export const segExportUrl = (vid: number) => `/api/exports/versions/${vid}/seg.dcm`;
export const ctNiftiExportUrl = (sid: number) => `/api/exports/studies/${sid}/ct.nii.gz`;
export const ctDicomExportUrl = (sid: number, segVersionId?: number | null) =>
  `/api/exports/studies/${sid}/dicom.zip${segVersionId ? `?seg_version_id=${segVersionId}` : ""}`;
export const summaryCsvUrl = (pid: number) => `/api/projects/${pid}/summary.csv`;
export const summaryHtmlUrl = (pid: number) => `/api/projects/${pid}/summary.html`;
/** The project as an nnU-Net / Decathlon dataset zip; `onBytes` sees the download grow. */
export const datasetExport = (pid: number, onBytes: (received: number, total: number | null) => void) =>
  downloadBlob("POST", `/api/projects/${pid}/exports/dataset`, onBytes);
/** The project's summary CSV as a file, with download progress. */
export const summaryCsv = (pid: number, onBytes: (received: number, total: number | null) => void) =>
  downloadBlob("GET", summaryCsvUrl(pid), onBytes);

/** Fetches a download into a Blob, reporting bytes as they arrive; the file name from Content-Disposition. */
async function downloadBlob(method: string, path: string, onBytes: (received: number, total: number | null) => void): Promise<{ blob: Blob; filename: string | null }> {
  const res = await request(method, path);
  const total = Number(res.headers.get("Content-Length") ?? "") || null;
  const name = /filename="?([^";]+)"?/.exec(res.headers.get("Content-Disposition") ?? "")?.[1] ?? null;
  if (!res.body) { const blob = await res.blob(); onBytes(blob.size, total); return { blob, filename: name }; }
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value); received += value.length; onBytes(received, total);
  }
  return { blob: new Blob(parts as BlobPart[], { type: res.headers.get("Content-Type") ?? "application/octet-stream" }), filename: name };
}

// ---------- chest radiographs (one-slice studies; image and label maps use the study endpoints) ----------
export const radiograph = (sid: number) => getJson<RadiographOut>(`/api/studies/${sid}/radiograph`);
export const saveRadiographReading = (sid: number, body: FindingsIn) =>
  sendJson<ReadingOut>("PUT", `/api/studies/${sid}/radiograph/reading`, body);
export const radiographAgreement = (pid: number) => getJson<RadiographAgreementOut>(`/api/projects/${pid}/radiograph-agreement`);
/** Link targets (admins): findings CSV, a version's PNG mask, NIfTI mask and DICOM SEG (DICOM radiographs). */
export const radiographFindingsCsvUrl = (pid: number) => `/api/projects/${pid}/exports/radiograph-findings.csv`;
export const radiographMaskPngUrl = (vid: number) => `/api/exports/versions/${vid}/mask.png`;
export const radiographMaskNiftiUrl = (vid: number) => `/api/exports/versions/${vid}/labels.nii.gz`;
export const radiographSegUrl = (vid: number) => `/api/exports/versions/${vid}/radiograph-seg.dcm`;
