"""Segmentation metrics on label maps: per-class Dice (MONAI) and lesion coverage by the lung."""
from __future__ import annotations

import math
from typing import overload

import numpy as np
import torch


@overload
def dice(pred: np.ndarray, truth: np.ndarray, *, empty: float = ...) -> float: ...


@overload
def dice(pred: np.ndarray, truth: np.ndarray, *, empty: None) -> float | None: ...


def dice(pred: np.ndarray, truth: np.ndarray, *, empty: float | None = math.nan
         ) -> float | None:
    """Dice of two binary masks (MONAI's ``compute_dice``); ``empty`` when both are empty.

    MONAI gets the voxels of ``pred | truth`` only: the others are in none of Dice's sums
    (``|p|``, ``|t|``, ``|p & t|``), so the value is the same as on the whole volume, in a
    fraction of the time (a lung pair of a 512x512x141 series has ~7 M such voxels, not 37 M).

    Args:
        pred: predicted mask, any shape.
        truth: reference mask, same shape.
        empty: the value when neither mask has a voxel (NaN; the agreement figures use None).

    Returns:
        Dice in ``[0, 1]`` (0 when exactly one mask is empty), or ``empty``.

    Raises:
        ValueError: the shapes differ.
    """
    from monai.metrics import compute_dice  # imported here: monai costs seconds at start-up

    if pred.shape != truth.shape:
        raise ValueError(f"shape mismatch: {pred.shape} vs {truth.shape}")
    p = np.asarray(pred, dtype=bool)
    t = np.asarray(truth, dtype=bool)
    has_p, has_t = bool(p.any()), bool(t.any())
    if not has_p and not has_t:
        return empty
    if not (has_p and has_t):
        return 0.0  # MONAI gives NaN when the reference is empty
    union = p | t
    value = float(compute_dice(torch.from_numpy(p[union])[None, None].float(),
                               torch.from_numpy(t[union])[None, None].float(),
                               include_background=True)[0, 0])
    return empty if math.isnan(value) else value


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
