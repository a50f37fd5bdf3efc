/**
 * The label table of a LungLab label map: the one place the web client spells the labels' names
 * and colours (the same table as src/lunglab/domain/labels.py). Every folder may import core/, so
 * the viewer, the tools and the pages all read it from here; ui/labels.ts adds the screen helpers.
 *
 * Lung is labels 1..3 together; label 1 alone is the lung without lesion.
 */
import type { LabelSpec } from "./types";

export interface LabelInfo {
  value: number;
  /** key of the label in per-label figures (training Dice, model metrics): one value each */
  key: string;
  /** compact on-screen name (legends, tables, shortcut sheet) */
  short: string;
  /** full name (the default project label schema) */
  name: string;
  color: string;
}

export const LABELS: readonly LabelInfo[] = [
  { value: 1, key: "lung", short: "lung without lesion", name: "lung without lesion", color: "#3c8dde" },
  { value: 2, key: "ggo", short: "GGO", name: "ground-glass opacity", color: "#f2c12e" },
  { value: 3, key: "consolidation", short: "consolidation", name: "consolidation", color: "#e0403a" },
];
export const BACKGROUND_COLOR = "#000000";

/** The label schema used when a project has none. */
export const DEFAULT_LABEL_SCHEMA: LabelSpec[] = LABELS.map(({ value, name, color }) => ({ value, name, color }));
/** Colour per voxel value, background first (index = value). */
export const DEFAULT_LABEL_COLORS: string[] = [BACKGROUND_COLOR, ...LABELS.map((l) => l.color)];
/** Short name per voxel value, "" for background (index = value). */
export const SHORT_NAMES: string[] = ["", ...LABELS.map((l) => l.short)];
/** Keys of per-label figures, in label order. */
export const LABEL_KEYS: string[] = LABELS.map((l) => l.key);
/** Colour per figure key. */
export const KEY_COLORS: Record<string, string> = Object.fromEntries(LABELS.map((l) => [l.key, l.color]));
