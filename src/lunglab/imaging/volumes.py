"""Volumes in mL and lung involvement from a label map."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lunglab.domain.labels import Label


def summarize(label_map: np.ndarray, spacing: Sequence[float]) -> dict[str, float]:
    """Lung, GGO and consolidation volumes and the share of lung involved.

    Args:
        label_map: uint8 label map ``[z, y, x]`` (0 background, 1 lung, 2 GGO, 3 consolidation).
        spacing: voxel size ``(x, y, z)`` in mm.

    Returns:
        ``lung_ml`` (labels 1..3), ``ggo_ml``, ``consolidation_ml``, ``involvement_pct``
        (labels 2..3 over labels 1..3, 0 when there is no lung).

    Example:
        >>> lm = np.zeros((1, 10, 10), np.uint8); lm[0, :5] = 1; lm[0, 5:] = 2
        >>> summarize(lm, (1.0, 1.0, 10.0))["involvement_pct"]
        50.0
    """
    voxel_ml = float(np.prod([float(s) for s in spacing])) / 1000.0
    counts = np.bincount(np.asarray(label_map, dtype=np.uint8).ravel(), minlength=4)
    lung = int(counts[1:4].sum())
    ggo, cons = int(counts[Label.GGO]), int(counts[Label.CONSOLIDATION])
    return {
        "lung_ml": lung * voxel_ml,
        "ggo_ml": ggo * voxel_ml,
        "consolidation_ml": cons * voxel_ml,
        "involvement_pct": 100.0 * (ggo + cons) / lung if lung else 0.0,
    }
