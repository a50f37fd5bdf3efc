/** Shapes of the LungLab HTTP API's requests and responses (docs/api-contract.md). No I/O here. */

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
  comment: string | null; reviewer: string; created_at: string; same_person?: boolean;
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
/** Per-label summary of one model on the validation set: size errors in mL (CT) or cm² (radiographs). */
export interface ComparisonSummary {
  dice: Record<string, number | null>; abs_volume_error_ml?: Record<string, number | null>;
  abs_area_error_cm2?: Record<string, number | null>; cases: number;
}
export interface Comparison {
  new: ComparisonSummary;
  active: ComparisonSummary | null;
  active_model: string | null;
  per_case: { study_id: number; new: { mean_dice: number | null }; active: { mean_dice: number | null } | null; delta_mean_dice: number | null; change: string }[];
  improved: number[]; worsened: number[]; gate: { passed: boolean; reasons: string[]; tolerance: number };
}
export interface ModelVersionPublic {
  id: number; project_id: number; number: number; name: string; state: "candidate" | "active" | "retired"; modality: "ct" | "xr";
  base_version_id: number | null; base_model: string | null; lineage: { id: number | null; name: string; base_model: string | null }[];
  arch: string; config: Record<string, unknown>; seed: number; data_snapshot: { study_id: number; version_id: number }[];
  val_study_ids: number[]; metrics: { final_val_dice?: Record<string, number | null>; epochs?: number; train_seconds?: number } | null;
  comparison: Comparison | null; run_id: number | null; created_by: string | null; created_at: string;
  promoted_at: string | null; promotion_reason: string | null;
}

/** The signed-in user, as the pages see it. */
export interface Session { user: UserPublic }

// ---------- shapes used by one endpoint each ----------
export interface ShippedModel { id: 0; number: 0; name: string; state: "active" | "retired"; arch: string; card: string }
export interface ModelList extends List<ModelVersionPublic> { active_id: number | null; shipped?: ShippedModel | null; active_name?: string | null; active_radiograph_id?: number | null }
export interface TrainingData { approved: { study_id: number; version_id: number }[]; count: number }
export interface TrainingStarted { run: RunView; job: JobPublic }
export interface AutoAssignResult { created: AssignmentOut[]; unfilled: { study_id: number; missing: number }[] }
export interface AnnotateNextItem {
  rank: number; study_id: number; name: string; score: number | null; method: string; model: string | null; computed_at: string | null;
}
export type Effort = { added: Record<string, number>; removed: Record<string, number>; changed_voxels: number } | null;
export interface HistoryOut {
  ai_version_id: number | null; final_version_id: number | null;
  versions: { id: number; kind: string; author: string | null; model_name: string | null; step: string; parent_id: number | null; inputs: number[] | null; created_at: string }[];
  readers: { reader: string; state: string; start_from: string | null; active_seconds: number; chain: number[]; effort: { vs_start: Effort; vs_ai: Effort } | null }[];
}
export interface QueueJob {
  id: number | null; kind: string; queue: string; position?: number; project_id?: number; study_id?: number; progress?: number;
  message?: string; worker?: string; requested_by?: string; created_at?: string;
}
export interface QueueOut { queues: Record<string, QueueJob[]>; running: QueueJob[] }
export interface UploadState { upload_id: string; files: { index: number; name: string; size: number; received: number }[] }
/** `GET /studies/{sid}/quantification` (only what the client reads). */
export interface Quantification {
  study_id: number; version: { version_id?: number; id?: number; kind?: string } | null;
  related_studies: { id: number; name: string; created_at: string }[];
  [k: string]: unknown;
}
export type ModelExportFormat = "bundle" | "torchscript" | "onnx";

// ---------- chest radiographs (docs/radiographs.md) ----------
export type RsnaCategory = "normal" | "typical" | "indeterminate" | "atypical";
export interface FindingsIn { category: RsnaCategory; brixia: number[] | null; rale: number[] | null; note: string }
export interface ReadingOut {
  study_id: number; reader: string; category: RsnaCategory; brixia: number[] | null; brixia_total: number | null;
  rale: number[] | null; rale_total: number | null; note: string; updated_at: string | null;
}
export interface RadiographOut {
  study_id: number; modality: string; source_kind: string; window: [number, number]; text_regions: [number, number, number, number][];
  text_blacked_out: boolean; my_reading: ReadingOut | null; readings: ReadingOut[]; can_edit: boolean; ai: { available: boolean; message: string; model?: string | null };
}
export interface ScoreAgreement { icc: number | null; icc_consistency: number | null; studies: number; readers: string[]; mean_by_reader: Record<string, number | null> }
export interface RadiographAgreementOut {
  project_id: number; studies_read: number; studies_compared: number;
  category: { fleiss_kappa: number | null; pairs: { reader_a: string; reader_b: string; studies: number; cohen_kappa: number | null; weighted_kappa: number | null; agreement: number }[]; counts: Record<string, number> };
  brixia: ScoreAgreement; rale: ScoreAgreement;
  per_study: { study_id: number; study_name: string; readers: Record<string, { category: string; brixia: number | null; rale: number | null }> }[];
}
