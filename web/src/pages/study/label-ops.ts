/** Tool wiring: undo / redo and the whole-label operations (fill between slices, islands, smoothing). */
import { fillBetweenSlices } from "../../tools/interpolate";
import { removeSmallIslands, smoothLabel } from "../../tools/cleanup";
import type { StudyContext } from "./context";

export function labelOps(ctx: StudyContext, islandMinMm3: () => number) {
  const { labels, viewer, g, say } = ctx;
  const activePlane = () => (viewer.activeView ?? viewer.views[0]).plane;
  return {
    undo(): void { if (labels.undo()) say("Undone."); ctx.sync(); },
    redo(): void { if (labels.redo()) say("Redone."); ctx.sync(); },
    fill(): void {
      labels.begin("fill between slices");
      const n = fillBetweenSlices(labels, activePlane(), viewer.activeLabel);
      const changed = labels.commit(); say(`Filled ${n} slice(s), ${changed} voxels.`); ctx.sync();
    },
    removeIslands(): void {
      const minVox = Math.max(1, Math.round(islandMinMm3() / (g.sx * g.sy * g.sz)));
      labels.begin("remove islands");
      const n = removeSmallIslands(labels, viewer.activeLabel, minVox);
      labels.commit(); say(`Removed ${n} island(s).`); ctx.sync();
    },
    smooth(): void { labels.begin("smooth"); smoothLabel(labels, viewer.activeLabel); const n = labels.commit(); say(`Smoothed: ${n} voxels changed.`); ctx.sync(); },
  };
}
