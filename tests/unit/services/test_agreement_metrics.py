"""Agreement maths on tiny arrays with hand-computed answers (no database)."""
from __future__ import annotations

import numpy as np
import pytest

from lunglab.imaging import agreement as am


def _cube(shape=(6, 10, 12), z=slice(1, 4), y=slice(2, 6), x=slice(3, 9), value=2):
    labels = np.zeros(shape, np.uint8)
    labels[z, y, x] = value
    return labels


def test_dice_edge_cases():
    empty = np.zeros((3, 4, 4), bool)
    one = empty.copy()
    one[1, 1, 1] = True
    assert am.dice(empty, empty) is None
    assert am.dice(empty, one) == 0.0 and am.dice(one, empty) == 0.0
    assert am.dice(one, one) == pytest.approx(1.0)


def test_hd95_uses_anisotropic_spacing():
    a = _cube() == 2
    b = _cube(z=slice(1, 5)) == 2  # one more slice along z
    # the extra slice is 3 mm away along z; spacing is (x, y, z)
    assert am.hausdorff95(a, b, (0.5, 0.5, 3.0)) == pytest.approx(3.0)
    assert am.hausdorff95(a, b, (0.5, 0.5, 1.0)) == pytest.approx(1.0)
    assert am.hausdorff95(a, np.zeros_like(a), (1, 1, 1)) is None


def test_pair_metrics_volumes_in_ml():
    a = _cube() == 2  # 3*4*6 = 72 voxels
    b = _cube(x=slice(3, 6)) == 2  # 36 voxels, all inside a
    m = am.pair_metrics(a, b, (1.0, 1.0, 2.0))
    assert m["dice"] == pytest.approx(2 * 36 / 108, abs=1e-4)
    assert m["volume_a_ml"] == pytest.approx(0.144) and m["volume_diff_ml"] == pytest.approx(0.072)


def test_majority_vote_ties_go_to_the_lower_label_and_disagreement_counts():
    r1 = np.array([[[0, 2, 3, 1]]], np.uint8)
    r2 = np.array([[[0, 2, 1, 1]]], np.uint8)
    r3 = np.array([[[0, 3, 1, 2]]], np.uint8)
    assert am.majority_vote([r1, r2, r3]).tolist() == [[[0, 2, 1, 1]]]
    assert am.majority_vote([r1, r3]).tolist() == [[[0, 2, 1, 1]]]
    assert am.disagreement_map([r1, r2, r3]).tolist() == [[[0, 1, 1, 1]]]


def test_staple_agreeing_readers_and_multilabel_result():
    a = _cube()
    a[2, 3, 4] = 3
    stats = am.staple_rater_stats([a == 2, a == 2, a == 2], region=a > 0)
    assert all(s["sensitivity"] == pytest.approx(1.0) for s in stats)
    assert np.array_equal(am.multilabel_staple([a, a, a]), a)
    sloppy = _cube(x=slice(3, 6))
    stats = am.staple_rater_stats([a == 2, a == 2, sloppy == 2], region=a > 0)
    assert stats[2]["sensitivity"] < stats[0]["sensitivity"]


def test_effort_against_ai_and_empty():
    ai = _cube()
    final = _cube(x=slice(3, 7))
    final[0, 0, 0] = 1
    e = am.effort(ai, final)
    assert e["removed"] == {"1": 0, "2": 3 * 4 * 2, "3": 0}
    assert e["added"] == {"1": 1, "2": 0, "3": 0} and e["changed_voxels"] == 25
    assert am.effort(None, final)["added"]["2"] == 3 * 4 * 4


def test_staple_stats_equal_simpleitk():
    import SimpleITK as sitk

    rng = np.random.default_rng(0)
    truth = np.zeros((12, 30, 30), bool)
    truth[3:9, 8:22, 8:22] = True
    masks = []
    for j in range(3):
        noise = (rng.random(truth.shape) < 0.03 * (j + 1)) & (rng.random(truth.shape) < 0.5)
        masks.append(truth ^ noise)
    f = sitk.STAPLEImageFilter()
    f.SetForegroundValue(1.0)
    f.SetMaximumIterations(1000)
    f.Execute([sitk.GetImageFromArray(m.astype(np.uint8)) for m in masks])
    ours = am.staple_rater_stats(masks, region=np.ones_like(truth))
    for j, s in enumerate(ours):
        assert s["sensitivity"] == pytest.approx(f.GetSensitivity()[j], abs=2e-4)
        assert s["specificity"] == pytest.approx(f.GetSpecificity()[j], abs=2e-4)
