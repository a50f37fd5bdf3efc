"""Smart click in 3D: correct the clicked slice, then carry the change to the neighbouring slices.

After the clicked slice is redrawn, the region the click changed (the lesion component it added
or the part it removed) is followed slice by slice in both directions: on the next slice the
model gets one click of the same sign at the centre of the region's overlap (positive: the
centre of the previous slice's region), and the answer is kept where it stays connected to the
previous slice's region. The walk stops when the region vanishes, shrinks below a tenth of the
clicked slice's or of the previous slice's, grows more than threefold (a leak), is no denser than
aerated lung (mean below :data:`MIN_LESION_HU`), or after ``max_mm`` millimetres.
"""
from __future__ import annotations

import numpy as np

from lunglab.ml.interactive import Click, ClickModel

MIN_LESION_HU = -650.0
"""A region carried to a neighbouring slice must be denser than this on average (GGO is about
-700 to -300 HU; aerated lung -900 to -800)."""


def _centre(region: np.ndarray) -> tuple[int, int] | None:
    """The pixel deepest inside ``region`` (maximum of its distance transform)."""
    from scipy.ndimage import distance_transform_edt

    if not region.any():
        return None
    d = distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(d)), d.shape)
    return int(y), int(x)


def _touching(mask: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The connected components of ``mask`` that overlap ``ref``."""
    from scipy.ndimage import label

    comp, _ = label(mask)
    ids = np.unique(comp[ref & mask])
    return np.isin(comp, ids[ids > 0])


def correct_3d(model: ClickModel, hu: np.ndarray, lesion: np.ndarray, z0: int,
               spacing_zyx: tuple[float, float, float], clicks: list[Click],
               max_mm: float = 30.0) -> np.ndarray:
    """Redraw the lesion mask around the latest click on slice ``z0`` and its neighbours.

    Args:
        model: the loaded click model.
        hu: HU ``[z, y, x]`` (only the slices the caller wants considered).
        lesion: current lesion mask ``[z, y, x]`` (bool), same shape.
        z0: index of the clicked slice in these arrays.
        spacing_zyx: voxel size in mm.
        clicks: the clicks on slice ``z0``, the latest last.
        max_mm: how far the change may travel from the clicked slice.

    Returns:
        The new lesion mask (bool, same shape); slices the change did not reach are unchanged.
    """
    out = lesion.astype(bool).copy()
    if not clicks:
        return out
    yx = (spacing_zyx[1], spacing_zyx[2])
    out[z0] = model.correct(hu[z0], out[z0], yx, clicks)
    positive = clicks[-1].positive
    last = clicks[-1]
    if positive:
        seed = np.zeros(out.shape[1:], bool)
        seed[last.y, last.x] = True
        region = _touching(out[z0], seed)
    else:
        region = lesion[z0].astype(bool) & ~out[z0]
    steps = int(max_mm // max(spacing_zyx[0], 0.1))
    area0 = int(region.sum())
    for direction in (1, -1):
        prev = region
        for k in range(1, steps + 1):
            z = z0 + direction * k
            if not 0 <= z < out.shape[0] or not prev.any():
                break
            before = out[z]
            target = prev if positive else prev & before
            c = _centre(target)
            if c is None:
                break
            redrawn = model.correct(hu[z], before, yx, [Click(c[0], c[1], positive)])
            if positive:
                grown = _touching(redrawn, prev) & (redrawn | before)
                new_region = grown
                n = int(grown.sum())
                if (n < 0.1 * prev.sum() or n < 0.1 * area0 or n > 3 * prev.sum() + 50
                        or float(hu[z][grown].mean()) < MIN_LESION_HU):
                    break
                out[z] = before | grown
            else:
                removed = _touching(before & ~redrawn, prev)
                if not removed.any():
                    break
                out[z] = before & ~removed
                new_region = removed
            prev = new_region
    return out
