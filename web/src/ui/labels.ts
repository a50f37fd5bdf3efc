/** How labels and readers are named and coloured on screen. */
import type { LabelSpec } from "../core/types";

/** The label schema used when a project has none. */
export const DEFAULT_LABEL_SCHEMA: LabelSpec[] = [
  { value: 1, name: "lung without lesion", color: "#3c8dde" }, { value: 2, name: "ground-glass opacity", color: "#f2c12e" },
  { value: 3, name: "consolidation", color: "#e0403a" },
];
/** Label keys as the agreement API names them ("2+3" is GGO and consolidation together). */
export const LABEL_NAMES: Record<string, string> = { "1": "lung without lesion", "2": "GGO", "3": "consolidation", "2+3": "infection (GGO+consolidation)" };
export const READER_COLORS = ["#39b36b", "#e08a3a", "#4fd1d9", "#d94f9b", "#b46be0"];

export const fmtDice = (d: number | null | undefined) => (d === null || d === undefined ? "n/a" : d.toFixed(3));
export const fmtSeconds = (s: number) => (s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);
