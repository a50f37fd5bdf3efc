"""The agreement maths' fast paths (surfaces found once per reader, Dice on the union, the
labelled box) against plain MONAI on whole volumes: random-ish label maps, voxels of three
different sizes, masks on the volume border, empty masks."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage as ndi

from lunglab.imaging import agreement as am
from lunglab.services.collab.agreement import reader_metrics
from lunglab.services.collab.consensus import LABELS, staple_stats

SPACING = (0.7, 0.9, 2.5)  # x, y, z in mm: all different, so an axis mix-up changes distances


def _labels(seed: int, shape: tuple[int, int, int] = (9, 24, 28)) -> np.ndarray:
    """Blobby lungs (1) with GGO (2) and consolidation (3) inside; they reach the borders."""
    rng = np.random.default_rng(seed)
    lung = ndi.gaussian_filter(rng.standard_normal(shape), (0.8, 2.5, 2.5)) > -0.05
    lesion = ndi.gaussian_filter(rng.standard_normal(shape), (0.6, 1.5, 1.5))
    labels = lung.astype(np.uint8)
    labels[lung & (lesion > 0.1)] = 2
    labels[lung & (lesion > 0.3)] = 3
    return labels


def _monai_hd95(a: np.ndarray, b: np.ndarray, spacing_xyz=SPACING) -> float:  # type: ignore[no-untyped-def]
    """MONAI's HD95 as the documentation shows it: whole volumes, spacing in array order."""
    import torch
    from monai.metrics import compute_hausdorff_distance

    sx, sy, sz = spacing_xyz
    return float(compute_hausdorff_distance(
        torch.from_numpy(a)[None, None].float(), torch.from_numpy(b)[None, None].float(),
        include_background=True, percentile=95, spacing=[sz, sy, sx])[0, 0])


def _monai_dice(a: np.ndarray, b: np.ndarray) -> float:
    import torch
    from monai.metrics import compute_dice

    return float(compute_dice(torch.from_numpy(a)[None, None].float(),
                              torch.from_numpy(b)[None, None].float(),
                              include_background=True)[0, 0])


def _pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, labels a, labels b): reader-like pairs, then the edge cases."""
    out = [(f"seeds {s},{s + 1}", _labels(s), _labels(s + 1)) for s in (1, 3, 5)]
    a = _labels(7)
    out.append(("shifted one voxel in x", a, np.roll(a, 1, axis=2)))
    slab = np.zeros_like(a)
    slab[:, :, :5] = 1  # touches five of the six faces of the volume
    slab[:3, :7, :3] = 2
    out.append(("slab on the border", slab, _labels(8)))
    out.append(("whole volume", np.ones_like(a), _labels(9)))
    out.append(("one voxel each", _one(a.shape, (0, 0, 0)), _one(a.shape, (8, 23, 27))))
    return out


def _one(shape: tuple[int, ...], at: tuple[int, ...]) -> np.ndarray:
    labels = np.zeros(shape, np.uint8)
    labels[at] = 2
    return labels


PAIRS = _pairs()


@pytest.mark.parametrize("name,la,lb", PAIRS, ids=[p[0] for p in PAIRS])
def test_hd95_and_dice_equal_plain_monai_on_whole_volumes(name, la, lb):  # type: ignore[no-untyped-def]
    compared = 0
    for label in LABELS:
        a, b = am.label_mask(la, label), am.label_mask(lb, label)
        if not (a.any() and b.any()):
            continue
        ref = _monai_hd95(a, b)
        sa, sb = am.surfaces([a, b])
        assert am.surface_hausdorff95(sa, sb, SPACING) == pytest.approx(ref, abs=1e-6), label
        assert am.hausdorff95(a, b, SPACING) == round(ref, 3)
        assert am.dice(a, b) == pytest.approx(_monai_dice(a, b), abs=1e-6)
        compared += 1
    assert compared >= 1


def test_the_comparison_sees_an_axis_mix_up():
    # the cases above would fail if the spacing went to MONAI in (x, y, z) order
    changed = 0
    for _, la, lb in PAIRS:
        a, b = la == 1, lb == 1
        if a.any() and b.any():
            right = am.hausdorff95(a, b, SPACING)
            changed += right != round(_monai_hd95(a, b, SPACING[::-1]), 3)
    assert changed >= 3


def test_surfaces_are_monai_edges_and_each_mask_is_done_once():
    from monai.metrics.utils import get_mask_edges

    masks = [_labels(s) >= 2 for s in (11, 12, 13)] + [np.zeros((9, 24, 28), bool)]
    found = am.surfaces(masks)
    assert found[3] is None
    for m, s in zip(masks[:3], found[:3], strict=True):
        assert s is not None
        edges, _ = get_mask_edges(m, m, crop=False)
        assert np.array_equal(s.voxels, np.argwhere(edges))
        nz = np.argwhere(m)
        assert np.array_equal(s.lo, nz.min(axis=0)) and np.array_equal(s.hi, nz.max(axis=0) + 1)


def test_empty_masks_as_before():
    a = am.label_mask(_labels(2), "1")
    empty = np.zeros_like(a)
    for x, y in ((a, empty), (empty, a), (empty, empty)):
        assert not math.isfinite(_monai_hd95(x, y))  # MONAI: inf or NaN
        assert am.hausdorff95(x, y, SPACING) is None
        assert am.surface_hausdorff95(*am.surfaces([x, y]), SPACING) is None
    assert am.dice(a, empty) == 0.0 and am.dice(empty, a) == 0.0
    assert am.dice(empty, empty) is None
    m = am.pairwise_metrics([a, empty, empty], SPACING)
    assert m[(0, 1)]["hd95_mm"] is None and m[(0, 1)]["dice"] == 0.0
    assert m[(1, 2)] == {"dice": None, "hd95_mm": None, "volume_a_ml": 0.0,
                         "volume_b_ml": 0.0, "volume_diff_ml": 0.0}


def _plain_pair(a: np.ndarray, b: np.ndarray) -> dict:
    per = am.voxel_ml(SPACING)
    both = a.any() and b.any()
    dice = _monai_dice(a, b) if both else (0.0 if a.any() or b.any() else None)
    hd = _monai_hd95(a, b) if both else None
    return {"dice": None if dice is None else round(dice, 4),
            "hd95_mm": None if hd is None else round(hd, 3),
            "volume_a_ml": round(int(a.sum()) * per, 3),
            "volume_b_ml": round(int(b.sum()) * per, 3),
            "volume_diff_ml": round((int(a.sum()) - int(b.sum())) * per, 3)}


@pytest.mark.parametrize("consensus", ["majority", "stored"])
def test_reader_metrics_equal_plain_computation_on_whole_volumes(consensus):  # type: ignore[no-untyped-def]
    pad = ((3, 2), (5, 1), (2, 6))  # the readers' labels sit inside a bigger, empty volume
    stack = [np.pad(_labels(s), pad) for s in (21, 22, 23)]
    stack[2][stack[2] == 3] = 2  # a reader without consolidation
    stored = None
    if consensus == "stored":
        stored = np.pad(_labels(24), pad)
        stored[0, 0, 0] = 1  # a consensus voxel outside every reader's box
    got = reader_metrics(stack, stored, SPACING)
    ref = stored if stored is not None else am.majority_vote(stack)
    for label in LABELS:
        masks = [am.label_mask(s, label) for s in stack]
        assert got["pairs"][label] == {(i, j): _plain_pair(masks[i], masks[j])
                                       for i, j in ((0, 1), (0, 2), (1, 2))}
        r = am.label_mask(ref, label)
        want = [_plain_pair(m, r)["dice"] for m in masks]
        assert [None if d is None else round(d, 4)
                for d in got["dice_vs_consensus"][label]] == want
    assert got["staple"] == staple_stats(stack)


def test_majority_vote_equals_the_argmax_of_the_counts():
    rng = np.random.default_rng(5)
    for readers in (2, 3, 4, 5):
        stack = [rng.integers(0, 4, (6, 9, 11), dtype=np.uint8) for _ in range(readers)]
        counts = np.stack([sum((s == v).astype(int) for s in stack) for v in range(4)])
        assert np.array_equal(am.majority_vote(stack), counts.argmax(axis=0))
