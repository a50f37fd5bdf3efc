"""Connected lesions and HU statistics per class (array maths only, no I/O)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import ndimage as ndi

PERCENTILES = (5, 25, 50, 75, 95)
"""HU percentiles reported for each class."""
MAX_LISTED_LESIONS = 50
"""At most this many lesions are listed one by one (largest first); all are counted."""


def hu_stats(hu: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """Mean, standard deviation and percentiles of the HU values under ``mask``.

    Args:
        hu: HU volume ``[z, y, x]``.
        mask: boolean mask of the same shape.

    Returns:
        ``{"voxels", "mean_hu", "std_hu", "p5_hu", "p25_hu", "p50_hu", "p75_hu", "p95_hu"}``;
        the HU values are ``None`` when the mask is empty.
    """
    values = np.asarray(hu)[mask].astype(np.float64)
    out: dict[str, Any] = {"voxels": int(values.size)}
    if values.size == 0:
        out.update({"mean_hu": None, "std_hu": None})
        out.update({f"p{p}_hu": None for p in PERCENTILES})
        return out
    out["mean_hu"] = round(float(values.mean()), 1)
    out["std_hu"] = round(float(values.std()), 1)
    for p, v in zip(PERCENTILES, np.percentile(values, PERCENTILES), strict=True):
        out[f"p{p}_hu"] = round(float(v), 1)
    return out


def connected_lesions(label_map: np.ndarray, spacing: Sequence[float],
                      sides: np.ndarray | None = None) -> dict[str, Any]:
    """Count and size the connected lesions (labels 2 and 3 together, 26-connectivity).

    A GGO region touching a consolidation is one lesion: the two classes are one process.

    Args:
        label_map: uint8 label map ``[z, y, x]``.
        spacing: voxel size ``(x, y, z)`` mm.
        sides: optional output of :func:`lunglab.imaging.zones.split_lungs` to give each
            lesion the lung side holding most of its voxels.

    Returns:
        ``{"count", "total_ml", "largest_ml", "median_ml", "lesions": [{"id", "volume_ml",
        "ggo_ml", "consolidation_ml", "side", "centroid_zyx"}]}``, lesions largest first,
        at most :data:`MAX_LISTED_LESIONS` listed.
    """
    voxel_ml = float(np.prod([float(s) for s in spacing])) / 1000.0
    lesion = label_map >= 2
    lab, n = ndi.label(lesion, structure=np.ones((3, 3, 3), bool))
    if n == 0:
        return {"count": 0, "total_ml": 0.0, "largest_ml": 0.0, "median_ml": 0.0, "lesions": []}
    coords = np.nonzero(lesion)
    ids = lab[coords]  # component id of every lesion voxel: all sums below are over these only

    def per_lesion(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(ids, weights=weights, minlength=n + 1)[1:]

    sizes = per_lesion()
    cons = per_lesion((label_map[coords] == 3).astype(np.float64))
    order = np.argsort(sizes)[::-1]
    listed = order[:MAX_LISTED_LESIONS]
    centroids = np.stack([per_lesion(c.astype(np.float64)) for c in coords], axis=1)
    centroids = centroids[listed] / sizes[listed, None]
    side_of: list[str | None] = [None] * len(listed)
    if sides is not None:
        from lunglab.imaging.zones import SIDE_NAMES

        side_vals = sides[coords]
        right = per_lesion((side_vals == 1).astype(np.float64))
        left = per_lesion((side_vals == 2).astype(np.float64))
        side_of = [SIDE_NAMES[2] if left[i] > right[i] else SIDE_NAMES[1] for i in listed]
    lesions = []
    for rank, i in enumerate(listed):
        lesions.append({
            "id": rank + 1,
            "volume_ml": round(float(sizes[i]) * voxel_ml, 4),
            "ggo_ml": round(float(sizes[i] - cons[i]) * voxel_ml, 4),
            "consolidation_ml": round(float(cons[i]) * voxel_ml, 4),
            "side": side_of[rank],
            "centroid_zyx": [round(float(c), 1) for c in centroids[rank]],
        })
    return {
        "count": int(n),
        "total_ml": round(float(sizes.sum()) * voxel_ml, 3),
        "largest_ml": round(float(sizes.max()) * voxel_ml, 3),
        "median_ml": round(float(np.median(sizes)) * voxel_ml, 3),
        "lesions": lesions,
    }
