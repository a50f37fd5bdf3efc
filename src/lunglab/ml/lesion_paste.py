"""Lesion copy-paste augmentation (CarveMix / copy-paste style) for the 2D lesion network.

With 40-50 expert slices the network sees each lesion in one place only. Here an expert lesion
(one connected GGO / consolidation component with the CT values under it) is cut from one
training slice and pasted, turned and flipped at random, into the lung of another, its edge
blended over its outer pixel (half the
receiving lung, half lesion); the pasted pixels take the lesion's own labels. A paste is tried
only where at least :data:`MIN_IN_LUNG` of the lesion lands on lung of the receiving slice, and
is clipped to that lung, so no lesion label lands outside it.

Example::

    bank = lesion_bank(pairs)                   # pairs: training_pair() dicts
    rng = np.random.default_rng(0)
    sample = paste_lesions(pairs[3], bank, rng)  # a new dict; pairs[3] is unchanged
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from lunglab.domain.labels import Label

MIN_PIXELS = 12
"""Lesion components smaller than this (network pixels) are not put in the bank."""
MIN_IN_LUNG = 0.9
"""Share of a pasted lesion that must land on the receiving slice's lung."""
EDGE_SIGMA_PX = 0.8
"""Blur of the paste's alpha mask (network pixels): a soft edge instead of a cut-out one."""


@dataclass(frozen=True)
class LesionPatch:
    """One expert lesion component: its box of CT values, labels and mask (network pixels)."""

    image: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    source: int


def lesion_bank(pairs: list[dict[str, np.ndarray]], min_pixels: int = MIN_PIXELS
                ) -> list[LesionPatch]:
    """Every lesion component (8-connected, labels GGO or consolidation) of ``pairs``.

    Args:
        pairs: ``{"image": [1, y, x], "label": [1, y, x]}`` training pairs.
        min_pixels: smallest component kept.
    """
    bank: list[LesionPatch] = []
    for i, pair in enumerate(pairs):
        lab = pair["label"][0]
        comp, _ = ndi.label(lab >= Label.GGO, structure=np.ones((3, 3), bool))
        for k, box in enumerate(ndi.find_objects(comp), start=1):
            if box is None:
                continue
            mask = comp[box] == k
            if mask.sum() < min_pixels:
                continue
            bank.append(LesionPatch(pair["image"][0][box].copy(),
                                    np.where(mask, lab[box], 0).astype(np.uint8), mask, i))
    return bank


def _turned(patch: LesionPatch, k: int, flip: bool) -> tuple[np.ndarray, ...]:
    arrs = [np.rot90(a, k) for a in (patch.image, patch.labels, patch.mask)]
    if flip:
        arrs = [a[:, ::-1] for a in arrs]
    return tuple(np.ascontiguousarray(a) for a in arrs)


def paste_lesions(pair: dict[str, np.ndarray], bank: list[LesionPatch],
                  rng: np.random.Generator, max_lesions: int = 2, tries: int = 8,
                  exclude_source: int | None = None) -> dict[str, np.ndarray]:
    """A copy of ``pair`` with 1..``max_lesions`` bank lesions pasted into its lung.

    Args:
        pair: the receiving training pair (not modified).
        bank: :func:`lesion_bank` of the training slices.
        rng: random generator (placement, choice, turn).
        max_lesions: most lesions pasted.
        tries: placements tried per lesion before giving it up.
        exclude_source: a bank source index not to draw from (the receiving slice itself).

    Returns:
        ``{"image", "label"}`` like ``pair``; unchanged copies when nothing fitted.
    """
    image = pair["image"].copy()
    label = pair["label"].copy()
    img, lab = image[0], label[0]
    candidates = [p for p in bank if p.source != exclude_source] or bank
    if not candidates:
        return {**pair, "image": image, "label": label}
    for _ in range(int(rng.integers(1, max_lesions + 1))):
        lung = lab >= Label.LUNG
        ys, xs = np.nonzero(lung)
        if ys.size == 0:
            break
        patch = candidates[int(rng.integers(len(candidates)))]
        p_img, p_lab, p_mask = _turned(patch, int(rng.integers(4)), bool(rng.integers(2)))
        h, w = p_mask.shape
        if h >= lab.shape[0] or w >= lab.shape[1]:
            continue
        for _ in range(tries):
            j = int(rng.integers(ys.size))
            y0 = int(np.clip(ys[j] - h // 2, 0, lab.shape[0] - h))
            x0 = int(np.clip(xs[j] - w // 2, 0, lab.shape[1] - w))
            region = (slice(y0, y0 + h), slice(x0, x0 + w))
            inside = lung[region] & p_mask
            if inside.sum() < MIN_IN_LUNG * p_mask.sum():
                continue
            alpha = ndi.gaussian_filter(inside.astype(np.float32), EDGE_SIGMA_PX)
            alpha = np.where(inside, np.maximum(alpha, 0.5), 0.0)  # no halo of the source
            img[region] = alpha * p_img + (1.0 - alpha) * img[region]
            lab[region] = np.where(inside, p_lab, lab[region])
            break
    return {**pair, "image": image, "label": label}
