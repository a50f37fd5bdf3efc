from __future__ import annotations

import math

import numpy as np
import pytest

from lunglab.imaging import (
    dice,
    hu_to_pixels,
    hu_window,
    lesion_inside_lung,
    pixels_to_hu,
    resize_slices,
    slice_scores,
    summarize,
)


def test_medseg_formula_roundtrip():
    v = np.arange(256, dtype=np.uint8)
    hu = pixels_to_hu(v)
    assert hu[0] == pytest.approx(-1100) and hu[255] == pytest.approx(300)
    assert hu[44] == pytest.approx(44 / 255 * 1400 - 1100)
    assert np.array_equal(hu_to_pixels(hu), v)


def test_hu_window_clips_and_scales():
    out = hu_window(np.array([-3000, -1100, -400, 300, 3000], np.int16))
    assert out.dtype == np.float32
    assert out.tolist() == pytest.approx([0, 0, 0.5, 1, 1])
    with pytest.raises(ValueError):
        hu_window(np.zeros(3), 10, 10)


def test_dice_cases():
    a = np.zeros((4, 4), bool)
    b = a.copy()
    assert math.isnan(dice(a, b))
    a[:2] = True
    assert dice(a, a) == pytest.approx(1.0)
    assert dice(a, b) == 0.0
    b[1:3] = True
    assert dice(a, b) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        dice(a, np.zeros((3, 3)))


def test_slice_scores_and_coverage():
    truth = np.zeros((10, 10), np.uint8)
    truth[2:4, 2:4] = 2
    truth[6:8, 6:8] = 3
    pred = np.zeros_like(truth)
    pred[:, :5] = 1
    pred[2:4, 2:4] = 2
    s = slice_scores(pred, truth)
    assert s["ggo"] == pytest.approx(1.0)
    assert s["consolidation"] == 0.0
    assert s["infection"] == pytest.approx(2 * 4 / (4 + 8))
    assert lesion_inside_lung(pred, truth >= 2) == (4, 8)


def test_summarize_volumes_ml():
    lm = np.zeros((2, 10, 10), np.uint8)
    lm[:, :5] = 1
    lm[:, 5:7] = 2
    lm[:, 7:8] = 3
    s = summarize(lm, (1.0, 2.0, 5.0))  # 10 mm^3 per voxel
    assert s["lung_ml"] == pytest.approx(160 * 0.01)
    assert s["ggo_ml"] == pytest.approx(40 * 0.01)
    assert s["consolidation_ml"] == pytest.approx(20 * 0.01)
    assert s["involvement_pct"] == pytest.approx(100 * 60 / 160)
    assert summarize(np.zeros((1, 3, 3), np.uint8), (1, 1, 1))["involvement_pct"] == 0.0


def test_resize_slices_labels_and_images():
    lab = np.zeros((2, 8, 8), np.uint8)
    lab[:, :4] = 3
    up = resize_slices(lab, (16, 16), labels=True)
    assert up.dtype == np.uint8 and set(np.unique(up)) == {0, 3}
    img = resize_slices(np.ones((1, 8, 8), np.int16), (4, 4))
    assert img.dtype == np.float32 and np.allclose(img, 1)
    with pytest.raises(ValueError):
        resize_slices(np.zeros((8, 8)), (4, 4))
