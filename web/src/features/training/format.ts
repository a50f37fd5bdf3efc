/** Names and number formats shared by the training screens. */
import { KEY_COLORS, LABEL_KEYS } from "../../ui/labels";

/** Label keys of training metrics ("lung" is label 1 alone, the lung without lesion). */
export const TRAINING_LABELS = LABEL_KEYS;
export const TRAINING_LABEL_COLORS: Record<string, string> = KEY_COLORS;
export const f3 = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : v.toFixed(3));
export const f1 = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : v.toFixed(1));
export const eta = (s: number | null) => (s === null ? "—" : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);
