/** Names and number formats shared by the training screens. */

/** Label keys of training metrics. */
export const TRAINING_LABELS = ["lung", "ggo", "consolidation"];
export const TRAINING_LABEL_COLORS: Record<string, string> = { lung: "#3c8dde", ggo: "#f2c12e", consolidation: "#e0403a" };
export const f3 = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : v.toFixed(3));
export const f1 = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : v.toFixed(1));
export const eta = (s: number | null) => (s === null ? "—" : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);
