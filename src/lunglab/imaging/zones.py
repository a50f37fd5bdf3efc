"""Left/right lung split and craniocaudal zones (upper, middle, lower thirds of each lung).

Zones are geometric thirds, not anatomical lobes: LungLab has no fissure segmentation. The
split works on the lung mask alone (labels 1..3), in three steps, the first that succeeds wins:

1. 3-D connected components: the two largest, when the smaller holds at least
   :data:`MIN_SECOND_FRACTION` of the larger, are the two lungs.
2. Touching lungs (one component): erode in-plane step by step (up to :data:`MAX_ERODE_MM`)
   until two large components appear; every lung voxel then goes to the nearest seed.
3. Per-slice valley: in each axial slice, cut at the column with the fewest lung voxels
   between the 35th and 65th percentile of the lung's columns (the mediastinum), smoothed
   over neighbouring slices.

Which part is *left* comes from the patient coordinates (LPS: +x is the patient's left), so
flipped or rotated direction matrices are handled.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

RIGHT = 1
LEFT = 2
SIDE_NAMES = {RIGHT: "right", LEFT: "left"}
ZONE_NAMES = ("upper", "middle", "lower")
MIN_SECOND_FRACTION = 0.10
"""The second-largest component must hold at least this share of the largest to be a lung."""
MAX_ERODE_MM = 12.0
"""Largest in-plane erosion tried to separate touching lungs."""


def _axis_world(direction: Sequence[float], axis_xyz: int) -> np.ndarray:
    """World (LPS) direction of index axis ``axis_xyz`` (0: columns, 1: rows, 2: slices)."""
    d = np.asarray(direction, float).reshape(3, 3)
    return d[:, axis_xyz]


def _world_x_of_columns(shape: tuple[int, int, int], spacing: Sequence[float],
                        direction: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contributions of (z, y, x) indices to the patient's left-right coordinate (LPS x)."""
    z, y, x = shape
    cx = _axis_world(direction, 0)[0] * float(spacing[0])
    cy = _axis_world(direction, 1)[0] * float(spacing[1])
    cz = _axis_world(direction, 2)[0] * float(spacing[2])
    return np.arange(z) * cz, np.arange(y) * cy, np.arange(x) * cx


def _mean_world_x(mask: np.ndarray, spacing: Sequence[float], direction: Sequence[float]) -> float:
    idx = np.nonzero(mask)
    wz, wy, wx = _world_x_of_columns(mask.shape, spacing, direction)  # type: ignore[arg-type]
    return float(wz[idx[0]].mean() + wy[idx[1]].mean() + wx[idx[2]].mean())


def _two_largest(lab: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    if n < 2:
        return None
    sizes = np.bincount(lab.ravel())[1:]
    order = np.argsort(sizes)[::-1]
    if sizes[order[1]] < MIN_SECOND_FRACTION * sizes[order[0]]:
        return None
    return lab == order[0] + 1, lab == order[1] + 1


def _assign_nearest(lung: np.ndarray, a: np.ndarray, b: np.ndarray,
                    sampling: tuple[float, float, float]) -> np.ndarray:
    """Label every lung voxel 1 (nearer ``a``) or 2 (nearer ``b``)."""
    seeds = np.zeros(lung.shape, np.uint8)
    seeds[a] = 1
    seeds[b] = 2
    if not (lung & (seeds == 0)).any():
        return seeds
    _, idx = ndi.distance_transform_edt(seeds == 0, sampling=sampling, return_indices=True)
    nearest = seeds[tuple(idx)]
    return np.where(lung, nearest, 0).astype(np.uint8)


def _split_by_erosion(lung: np.ndarray, sampling: tuple[float, float, float]
                      ) -> tuple[np.ndarray, np.ndarray] | None:
    inplane = np.zeros((3, 3, 3), bool)
    inplane[1] = ndi.generate_binary_structure(2, 1)
    dist = ndi.distance_transform_edt(lung, sampling=(1e6, sampling[1], sampling[2]))
    step = max(min(sampling[1], sampling[2]), 0.5)
    radius = step
    while radius <= MAX_ERODE_MM:
        core = dist > radius
        lab, n = ndi.label(core)
        pair = _two_largest(lab, n)
        if pair is not None:
            return pair
        radius += step
    return None


def _split_by_valley(lung: np.ndarray) -> np.ndarray:
    """Per-slice cut at the emptiest column near the middle of the lungs; 1 left of it, 2 right."""
    out = np.zeros(lung.shape, np.uint8)
    cols = lung.sum(axis=1)  # [z, x]
    all_x = np.nonzero(lung.any(axis=(0, 1)))[0]
    lo, hi = np.percentile(all_x, [35, 65]).astype(int)
    cuts = np.full(lung.shape[0], (lo + hi) // 2, float)
    for k in range(lung.shape[0]):
        if cols[k].any():
            window = cols[k, lo:hi + 1]
            minima = np.nonzero(window == window.min())[0]
            cuts[k] = lo + minima[len(minima) // 2]
    cuts = ndi.median_filter(cuts, size=5, mode="nearest")
    xs = np.arange(lung.shape[2])
    for k in range(lung.shape[0]):
        left_of_cut = xs[None, :] < cuts[k]
        out[k] = np.where(lung[k], np.where(left_of_cut, 1, 2), 0)
    return out


def split_lungs(lung: np.ndarray, spacing: Sequence[float],
                direction: Sequence[float] = (1, 0, 0, 0, 1, 0, 0, 0, 1)
                ) -> tuple[np.ndarray, str]:
    """Label each lung voxel as right (1) or left (2) lung.

    Args:
        lung: boolean lung mask ``[z, y, x]`` (labels 1..3 of a label map).
        spacing: voxel size ``(x, y, z)`` in mm.
        direction: 3x3 direction cosines, row-major (LPS).

    Returns:
        ``(sides, method)``: uint8 ``[z, y, x]`` with 0 outside the lung, :data:`RIGHT` or
        :data:`LEFT`; ``method`` is ``"components"``, ``"erosion"``, ``"valley"`` or
        ``"single"`` (one lung only, e.g. a single slice of one side, all labelled by side).

    Example:
        >>> m = np.zeros((2, 4, 10), bool); m[:, :, 1:4] = True; m[:, :, 6:9] = True
        >>> sides, how = split_lungs(m, (1, 1, 1))
        >>> int(sides[0, 0, 2]), int(sides[0, 0, 7]), how
        (1, 2, 'components')
    """
    full = np.asarray(lung, bool)
    sides_full = np.zeros(full.shape, np.uint8)
    if not full.any():
        return sides_full, "empty"
    box = ndi.find_objects(full.astype(np.uint8))[0]
    parts = np.zeros(full.shape, np.uint8)
    parts[box], method = _split_box(full[box], spacing)
    if method == "valley" and _one_sided(full):
        parts[parts > 0] = 1  # no gap and all on one side of the image: a single lung
    xs = {p: _mean_world_x(parts == p, spacing, direction) for p in (1, 2) if (parts == p).any()}
    if len(xs) == 1:
        only = next(iter(xs))
        # one lung: its side follows from where it lies relative to the image centre
        centre = _mean_world_x(np.ones(full.shape, bool), spacing, direction)
        sides_full[parts == only] = LEFT if xs[only] > centre else RIGHT
        return sides_full, "single"
    left_part = 1 if xs[1] > xs[2] else 2  # LPS: larger x is the patient's left
    sides_full[parts == left_part] = LEFT
    sides_full[(parts > 0) & (parts != left_part)] = RIGHT
    return sides_full, method


def _one_sided(lung: np.ndarray, minority: float = 0.1) -> bool:
    """Whether (nearly) all the lung lies on one side of the image's middle column."""
    cols = lung.sum(axis=(0, 1))
    half = lung.shape[2] // 2
    low, high = float(cols[:half].sum()), float(cols[half:].sum())
    return min(low, high) < minority * (low + high)


def lung_pair(lung: np.ndarray, sampling: tuple[float, float, float]) -> list[np.ndarray]:
    """The two lungs as separate masks by steps 1-2 of the module docstring (components, else
    in-plane erosion; every voxel to the nearer seed), or ``[lung]`` when neither parts it
    (no valley cut: a single lung stays whole). Used by the 3D lung mask's per-lung steps.

    Args:
        lung: boolean mask ``[z, y, x]``.
        sampling: voxel size ``(z, y, x)`` in mm.
    """
    lab, n = ndi.label(lung, structure=ndi.generate_binary_structure(3, 1))
    if n == 0:
        return []
    pair = _two_largest(lab, n) or _split_by_erosion(lung, sampling)
    if pair is None:
        return [lung]
    parts = _assign_nearest(lung, pair[0], pair[1], sampling)
    return [parts == 1, parts == 2]


def _split_box(lung: np.ndarray, spacing: Sequence[float]) -> tuple[np.ndarray, str]:
    """Split a lung mask cropped to its box into parts 1 and 2 (sides decided by the caller)."""
    sampling = (float(spacing[2]), float(spacing[1]), float(spacing[0]))
    lab, n = ndi.label(lung, structure=ndi.generate_binary_structure(3, 1))
    pair = _two_largest(lab, n)
    if pair is not None:
        return _assign_nearest(lung, pair[0], pair[1], sampling), "components"
    pair = _split_by_erosion(lung, sampling)
    if pair is not None:
        return _assign_nearest(lung, pair[0], pair[1], sampling), "erosion"
    return _split_by_valley(lung), "valley"


def cranial_is_low_index(direction: Sequence[float]) -> bool:
    """Whether slice index 0 is the most cranial slice (LPS: +z is superior)."""
    return bool(_axis_world(direction, 2)[2] < 0)


def zone_of_slices(side_mask: np.ndarray, direction: Sequence[float]) -> np.ndarray:
    """Zone index per slice for one lung: 0 upper, 1 middle, 2 lower, -1 outside the lung.

    The lung's craniocaudal extent (first to last slice holding it) is cut into three equal
    heights; a slice belongs to the third its centre falls into.

    Args:
        side_mask: boolean mask of one lung ``[z, y, x]``.
        direction: direction cosines (decides which end is cranial).
    """
    zs = np.nonzero(side_mask.any(axis=(1, 2)))[0]
    zone = np.full(side_mask.shape[0], -1, np.int8)
    if zs.size == 0:
        return zone
    first, last = int(zs.min()), int(zs.max())
    height = last - first + 1
    k = np.arange(first, last + 1)
    frac = (k - first + 0.5) / height  # 0 at the low-index end, 1 at the high-index end
    if not cranial_is_low_index(direction):
        frac = 1.0 - frac  # low index is caudal: measure from the high-index (cranial) end
    zone[first:last + 1] = np.minimum((frac * 3).astype(int), 2)
    return zone
