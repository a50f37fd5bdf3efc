"""Simulated reader clicks (DeepGrow/DeepEdit): click at the centre of the largest error region."""
from __future__ import annotations

import numpy as np

from lunglab.ml.interactive import Click


def error_click(pred: np.ndarray, truth: np.ndarray, *, rank: int = 0) -> Click | None:
    """The click a careful reader makes next on one slice.

    The error regions are the connected components of false negatives (``truth & ~pred``) and
    false positives (``pred & ~truth``); the click lies where the largest one is thickest (the
    maximum of its distance transform), positive inside a false negative, negative inside a false
    positive.

    Args:
        pred: current lesion mask ``[y, x]``.
        truth: reference lesion mask ``[y, x]``.
        rank: 0 for the largest error region, 1 for the second largest, ... (training variety).

    Returns:
        The click, or None when the masks agree.
    """
    from scipy.ndimage import distance_transform_edt, label

    pred = pred.astype(bool)
    truth = truth.astype(bool)
    regions: list[tuple[int, bool, np.ndarray]] = []
    for positive, err in ((True, truth & ~pred), (False, pred & ~truth)):
        if not err.any():
            continue
        comp, _ = label(err)
        sizes = np.bincount(comp.ravel())[1:]
        for i in np.argsort(sizes)[::-1][:3]:
            regions.append((int(sizes[i]), positive, comp == i + 1))
    if not regions:
        return None
    regions.sort(key=lambda r: -r[0])
    _, positive, region = regions[min(rank, len(regions) - 1)]
    dist = distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return Click(int(y), int(x), positive)
