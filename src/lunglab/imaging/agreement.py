"""Array maths of multi-reader agreement: Dice, 95% Hausdorff, volume difference, STAPLE,
majority vote and the disagreement map. Label maps are uint8 ``[z, y, x]``; spacing is
``(x, y, z)`` in mm like ``Study.spacing``. No database, no files.

Example:
    >>> a = np.zeros((4, 8, 8), np.uint8); a[1:3, 2:6, 2:6] = 2
    >>> b = a.copy(); b[1, 2, 2] = 0
    >>> round(pair_metrics(a == 2, b == 2, (1.0, 1.0, 1.0))["dice"], 3)
    0.984
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from lunglab.imaging import metrics

LESION = "2+3"  # GGO and consolidation together ("infection")


def label_mask(labels: np.ndarray, label: str) -> np.ndarray:
    """Binary mask of ``label`` ("1", "2", "3" or "2+3")."""
    if label == LESION:
        return labels >= 2
    return labels == int(label)


def _bbox(mask: np.ndarray, margin: int = 1) -> tuple[slice, ...] | None:
    """The bounding box of ``mask`` grown by ``margin`` voxels, or None when it is empty."""
    if not mask.any():
        return None
    out = []
    for axis in range(mask.ndim):
        other = tuple(i for i in range(mask.ndim) if i != axis)
        idx = np.flatnonzero(mask.any(axis=other))
        out.append(slice(max(0, idx[0] - margin), min(mask.shape[axis], idx[-1] + 1 + margin)))
    return tuple(out)


dice = functools.partial(metrics.dice, empty=None)
"""Dice of two binary masks, None when both are empty (:func:`lunglab.imaging.metrics.dice`)."""


@dataclass(frozen=True)
class Surface:
    """The surface of a binary mask as MONAI's ``get_mask_edges`` marks it (the voxels of the
    mask with a 6-neighbour outside it; outside the volume counts as outside the mask).

    Attributes:
        voxels: ``[n, ndim]`` int64 indices of the surface voxels in the volume, in C order.
        lo: first index of the mask's bounding box along each axis.
        hi: one past the last index.
    """

    voxels: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def surfaces(masks: Sequence[np.ndarray]) -> list[Surface | None]:
    """Each mask's surface (None when the mask is empty), found once whatever the number of
    pairs it takes part in.

    MONAI's ``get_mask_edges`` finds two masks' surfaces per call; it gets them cropped to their
    joint bounding box grown by one voxel, as MONAI crops them itself, so the surfaces are those
    it finds in the whole volume.
    """
    from monai.metrics.utils import get_mask_edges

    out: list[Surface | None] = [None] * len(masks)
    todo = [i for i, m in enumerate(masks) if m.any()]
    for k in range(0, len(todo), 2):
        pair = todo[k:k + 2]
        box = _bbox(masks[pair[0]] | masks[pair[-1]])
        assert box is not None
        crops = [np.ascontiguousarray(masks[i][box]) for i in pair]
        # an odd one out goes with an empty mask (it erodes faster than a copy of itself)
        edges = get_mask_edges(crops[0], crops[-1] if len(pair) == 2 else np.zeros_like(crops[0]),
                               crop=False)
        start = np.array([s.start for s in box], np.int64)
        for i, e in zip(pair, edges, strict=False):
            v = np.argwhere(np.asarray(e)) + start
            out[i] = Surface(v, v.min(axis=0), v.max(axis=0) + 1)
    return out


def surface_hausdorff95(a: Surface | None, b: Surface | None,
                        spacing_xyz: Sequence[float]) -> float | None:
    """Symmetric 95th-percentile Hausdorff distance in mm between two surfaces, as MONAI's
    ``compute_hausdorff_distance(percentile=95)`` gives it for the two masks.

    The steps are MONAI's: ``get_surface_distance`` each way, in MONAI's own frame (the masks'
    joint bounding box grown by one voxel, so the voxel coordinates are bit for bit those MONAI
    uses), the 95th percentile of each direction (``torch.quantile``) and the larger of the two.
    Only the surfaces come precomputed, once per mask instead of once per pair. The unit tests
    hold the result to ``compute_hausdorff_distance`` on whole volumes.

    Returns:
        The distance (not rounded), or None when either mask is empty (it is undefined).
    """
    import torch
    from monai.metrics.utils import get_surface_distance

    if a is None or b is None:
        return None
    lo = np.minimum(a.lo, b.lo) - 1
    shape = tuple(int(n) for n in np.maximum(a.hi, b.hi) + 1 - lo)
    edges = []
    for s in (a, b):
        e = np.zeros(shape, bool)
        e[tuple((s.voxels - lo).T)] = True
        edges.append(e)
    sx, sy, sz = (float(v) for v in spacing_xyz)
    spacing = [sz, sy, sx]  # the arrays are [z, y, x]
    per_direction = [
        torch.quantile(torch.as_tensor(get_surface_distance(p, q, "euclidean", spacing)), 0.95)
        for p, q in ((edges[0], edges[1]), (edges[1], edges[0]))]
    out = float(torch.max(torch.stack(per_direction)))
    return None if math.isnan(out) or math.isinf(out) else out


def _mm(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def hausdorff95(a: np.ndarray, b: np.ndarray, spacing_xyz: Sequence[float]) -> float | None:
    """Symmetric 95th-percentile Hausdorff distance in mm of two binary masks (MONAI), rounded
    to the micrometre.

    Returns:
        The distance, or None when either mask is empty (the distance is undefined).
    """
    sa, sb = surfaces([a, b])
    return _mm(surface_hausdorff95(sa, sb, spacing_xyz))


def voxel_ml(spacing_xyz: Sequence[float]) -> float:
    sx, sy, sz = (float(v) for v in spacing_xyz)
    return sx * sy * sz / 1000.0


def pairwise_metrics(masks: Sequence[np.ndarray],
                     spacing_xyz: Sequence[float]) -> dict[tuple[int, int], dict[str, Any]]:
    """``pair_metrics`` of every pair ``(i, j)``, ``i < j``, of the readers' masks of one label;
    each mask's surface and volume are computed once."""
    per = voxel_ml(spacing_xyz)
    surf = surfaces(masks)
    counts = [int(np.count_nonzero(m)) for m in masks]
    out = {}
    for i, j in combinations(range(len(masks)), 2):
        d = dice(masks[i], masks[j])
        out[(i, j)] = {
            "dice": None if d is None else round(d, 4),
            "hd95_mm": _mm(surface_hausdorff95(surf[i], surf[j], spacing_xyz)),
            "volume_a_ml": round(counts[i] * per, 3),
            "volume_b_ml": round(counts[j] * per, 3),
            "volume_diff_ml": round((counts[i] - counts[j]) * per, 3),
        }
    return out


def pair_metrics(a: np.ndarray, b: np.ndarray, spacing_xyz: Sequence[float]) -> dict[str, Any]:
    """Dice, HD95 (mm) and volume difference a - b (mL) of two binary masks."""
    return pairwise_metrics([a, b], spacing_xyz)[(0, 1)]


def foreground_box(arrays: Sequence[np.ndarray]) -> tuple[slice, ...]:
    """The bounding box of every nonzero voxel of ``arrays`` grown by one voxel (the whole
    volume when all are empty). Every metric here gives the same value on arrays cropped to it:
    outside it every mask is empty, and surfaces keep their neighbours."""
    labelled = np.zeros(arrays[0].shape, bool)
    for a in arrays:
        labelled |= a != 0
    box = _bbox(labelled)
    return box if box is not None else tuple(slice(0, n) for n in arrays[0].shape)


def majority_vote(stack: Sequence[np.ndarray], max_label: int = 3) -> np.ndarray:
    """Per-voxel most frequent label; ties go to the lower label value (the milder finding)."""
    shape = stack[0].shape
    vote = np.zeros(shape, np.uint8)
    best = np.zeros(shape, np.uint8)  # readers behind ``vote``
    for value in range(max_label + 1):
        count = np.zeros(shape, np.uint8)
        for labels in stack:
            count += labels == value
        vote[count > best] = value  # strictly more: a tie keeps the lower label
        np.maximum(best, count, out=best)
    return vote


def multilabel_staple(stack: Sequence[np.ndarray], max_label: int = 3) -> np.ndarray:
    """SimpleITK's multi-label STAPLE, computed in the readers' joint bounding box.

    Voxels STAPLE leaves undecided get the majority vote.
    """
    import SimpleITK as sitk

    out = np.zeros(stack[0].shape, np.uint8)
    box = _bbox(np.logical_or.reduce([s > 0 for s in stack]))
    if box is None:
        return out
    undecided = 255
    f = sitk.MultiLabelSTAPLEImageFilter()
    f.SetLabelForUndecidedPixels(undecided)
    imgs = [sitk.GetImageFromArray(np.ascontiguousarray(s[box])) for s in stack]
    est = sitk.GetArrayFromImage(f.Execute(imgs)).astype(np.uint8)
    hole = (est == undecided) | (est > max_label)
    if hole.any():
        est[hole] = majority_vote([s[box] for s in stack], max_label)[hole]
    out[box] = est
    return out


def staple_rater_stats(masks: Sequence[np.ndarray],
                       region: np.ndarray | None = None) -> list[dict[str, float | None]]:
    """Per-reader sensitivity and specificity from binary STAPLE.

    The EM iterations are those of SimpleITK's ``STAPLEImageFilter`` (global prior, start at
    0.99999), run on the histogram of reader patterns (2**R bins) instead of every voxel, which
    gives the same estimates (the tests compare with SimpleITK) in milliseconds instead of
    minutes on a 512x512x141 series.

    Args:
        masks: one binary mask per reader.
        region: where specificity is measured (e.g. the union of the readers' lung fields);
            the whole volume when None. Outside it every reader says "no" anyway.
    """
    n = len(masks)
    if n < 2 or not any(m.any() for m in masks):
        return [{"sensitivity": None, "specificity": None} for _ in masks]
    box = _bbox(region if region is not None else np.logical_or.reduce(masks))
    assert box is not None
    code = np.zeros(masks[0][box].shape, np.uint8)
    for j, m in enumerate(masks):
        code |= np.asarray(m[box], np.uint8) << j
    p, q = staple_em(np.bincount(code.ravel(), minlength=2 ** n).astype(float), n)

    def clean(v: float) -> float | None:
        return None if math.isnan(v) else round(float(v), 4)

    return [{"sensitivity": clean(p[i]), "specificity": clean(q[i])} for i in range(n)]


def staple_em(counts: np.ndarray, n: int, max_iter: int = 1000,
              tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Binary STAPLE on pattern counts: ``counts[k]`` voxels where reader j said yes iff bit j
    of k is set. Returns (sensitivity, specificity) per reader."""
    patterns = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(float)
    prior = float((patterns * counts[:, None]).sum() / (counts.sum() * n))
    p = np.full(n, 0.99999)
    q = np.full(n, 0.99999)
    for _ in range(max_iter):
        a = prior * np.prod(np.where(patterns == 1, p, 1 - p), axis=1)
        b = (1 - prior) * np.prod(np.where(patterns == 1, 1 - q, q), axis=1)
        w = np.divide(a, a + b, out=np.zeros_like(a), where=(a + b) > 0)
        yes, no = float((counts * w).sum()), float((counts * (1 - w)).sum())
        p_new = (counts * w) @ patterns / yes if yes > 0 else p
        q_new = (counts * (1 - w)) @ (1 - patterns) / no if no > 0 else q
        done = max(np.abs(p_new - p).max(), np.abs(q_new - q).max()) < tol
        p, q = p_new, q_new
        if done:
            break
    return p, q


def disagreement_map(stack: Sequence[np.ndarray], max_label: int = 3) -> np.ndarray:
    """Per voxel: how many readers differ from the voxel's majority label (0 = all agree)."""
    vote = majority_vote(stack, max_label)
    out = np.zeros(vote.shape, np.uint8)
    for labels in stack:
        out += labels != vote
    return out


def effort(ai: np.ndarray | None, final: np.ndarray, max_label: int = 3) -> dict[str, Any]:
    """Voxels added and removed per label going from the AI proposal (None: empty) to ``final``."""
    base = np.zeros_like(final) if ai is None else ai
    added, removed = {}, {}
    for value in range(1, max_label + 1):
        a, f = base == value, final == value
        added[str(value)] = int((f & ~a).sum())
        removed[str(value)] = int((a & ~f).sum())
    return {"added": added, "removed": removed,
            "changed_voxels": int((base != final).sum())}
