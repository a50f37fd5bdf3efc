/** How labels and readers are named and coloured on screen (the label table itself: core/labels.ts). */
import { LABELS } from "../core/labels";

export { DEFAULT_LABEL_SCHEMA, DEFAULT_LABEL_COLORS, KEY_COLORS, LABEL_KEYS, LABELS, SHORT_NAMES } from "../core/labels";

/** Label keys as the agreement API names them ("2+3" is GGO and consolidation together). */
export const LABEL_NAMES: Record<string, string> = {
  ...Object.fromEntries(LABELS.map((l) => [String(l.value), l.short])),
  "2+3": `infection (${LABELS.filter((l) => l.value >= 2).map((l) => l.short).join("+")})`,
};
export const READER_COLORS = ["#39b36b", "#e08a3a", "#4fd1d9", "#d94f9b", "#b46be0"];

export const fmtDice = (d: number | null | undefined) => (d === null || d === undefined ? "n/a" : d.toFixed(3));
export const fmtSeconds = (s: number) => (s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);
