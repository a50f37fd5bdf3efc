"""Segmentation metrics on label maps: per-class Dice (MONAI) and lesion coverage by the lung."""
from __future__ import annotations

import numpy as np
import torch


def dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """Dice of two binary masks (MONAI ``DiceMetric``); NaN when both are empty.

    Args:
        pred: predicted mask, any shape.
        truth: reference mask, same shape.

    Returns:
        Dice in ``[0, 1]``, or NaN when neither mask has a voxel.
    """
    from monai.metrics import DiceMetric  # imported here: monai costs seconds at start-up

    if pred.shape != truth.shape:
        raise ValueError(f"shape mismatch: {pred.shape} vs {truth.shape}")
    p = torch.from_numpy(np.ascontiguousarray(pred, dtype=bool)).reshape(1, 1, -1).float()
    t = torch.from_numpy(np.ascontiguousarray(truth, dtype=bool)).reshape(1, 1, -1).float()
    metric = DiceMetric(include_background=True, reduction="none", ignore_empty=True)
    value = float(metric(p, t)[0, 0])
    if not p.any() and not t.any():
        return float("nan")
    return 0.0 if np.isnan(value) else value


def lesion_inside_lung(label_map: np.ndarray, truth_lesion: np.ndarray) -> tuple[int, int]:
    """Count reference lesion pixels that the predicted lung (labels 1..3) covers.

    Returns:
        ``(covered, total)`` pixel counts.
    """
    lesion = np.asarray(truth_lesion, dtype=bool)
    return int((lesion & (label_map > 0)).sum()), int(lesion.sum())


def slice_scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Blind-test metrics of one slice or volume.

    Args:
        pred: predicted label map (0..3).
        truth: reference lesion map in LungLab labels (0 background/lung, 2 GGO, 3 consolidation).

    Returns:
        ``infection``, ``ggo``, ``consolidation`` Dice (NaN where the reference and prediction
        are both empty) and ``covered``/``lesion_pixels`` counts.
    """
    covered, total = lesion_inside_lung(pred, truth >= 2)
    return {
        "infection": dice(pred >= 2, truth >= 2),
        "ggo": dice(pred == 2, truth == 2),
        "consolidation": dice(pred == 3, truth == 3),
        "covered": float(covered),
        "lesion_pixels": float(total),
    }
