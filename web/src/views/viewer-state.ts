/**
 * What a 2D view reads from the study's shared viewer state. `StudyViewer` implements it; the
 * `SliceView` depends on this interface only, so neither module imports the other in a circle.
 */
import type { CtVolume, LabelMap } from "../core/volume";
import type { Vec3 } from "../core/plane";

export type Tool = "navigate" | "brush" | "eraser" | "threshold" | "grow" | "box" | "smart";

export const WINDOW_PRESETS = [
  { name: "Lung", width: 1500, level: -600 },
  { name: "Mediastinum", width: 350, level: 50 },
];
export const HU_PRESETS: Record<string, [number, number]> = {
  GGO: [-750, -300],
  Consolidation: [-300, 100],
};

export interface ViewerState {
  readonly ct: CtVolume;
  readonly labels: LabelMap;
  cursor: Vec3;
  zUpIsSuperior: boolean;
  grayLut: Uint32Array;
  blendLut: Uint32Array;
  labelVisible: boolean[];
  outline: boolean;
  overlayOn: boolean;
  crosshair: boolean;
  readonly diffRef: Uint8Array | null;
  diffEpoch: number;
  lutEpoch: number;
  tool: Tool;
  activeLabel: number;
  brushRadiusMm: number;
  /** The view under the pen while a stroke is drawn (only it is refilled until release). */
  paintingView: object | null;
  frames: number;
  labelColor(l: number): string;
  /** The slice number shown for `index` (axial: 1 is the most cranial slice). */
  sliceNumber(o: "axial" | "coronal" | "sagittal", index: number): number;
}
