"""The promotion gate: not worse than the active model; a first radiograph model must reach
the lung-field floor (nothing to compare with, none is shipped)."""
from __future__ import annotations

import numpy as np

from lunglab.services.training.compare import case_metrics, gate, summarize


def _fields(shift: int) -> tuple[np.ndarray, np.ndarray]:
    ref = np.zeros((1, 40, 40), np.uint8)
    ref[0, 5:35, 5:18] = 1
    ref[0, 5:35, 22:35] = 1
    ref[0, 10:15, 8:12] = 2
    return np.roll(ref, shift, axis=2), ref


def test_lung_field_dice_counts_every_lung_label_together() -> None:
    pred, ref = _fields(0)
    pred[pred == 2] = 3  # the opacity called consolidation: wrong label, right lung field
    row = case_metrics(pred, ref, 1.0)
    assert row["lung_field_dice"] == 1.0 and row["dice"]["ggo"] == 0.0
    missed = case_metrics(np.zeros_like(ref), ref, 1.0)
    assert missed["lung_field_dice"] == 0.0
    s = summarize([row, missed])
    assert s["lung_field_dice"] == 0.5 and s["cases"] == 2


def test_first_model_passes_without_floor_and_needs_it_with_one() -> None:
    good = summarize([case_metrics(*_fields(1), 1.0)])
    bad = summarize([case_metrics(np.zeros((1, 40, 40), np.uint8), _fields(0)[1], 1.0)])
    assert gate(bad, None)["passed"]  # CT: no floor
    assert gate(good, None, floor=0.5)["passed"]
    verdict = gate(bad, None, floor=0.5)
    assert not verdict["passed"] and "lung-field Dice 0.000 < 0.5" in verdict["reasons"][0]


def test_with_an_active_model_the_floor_does_not_apply() -> None:
    a = summarize([case_metrics(*_fields(1), 1.0)])
    b = summarize([case_metrics(*_fields(3), 1.0)])
    assert gate(a, b, floor=0.99)["passed"]
    assert not gate(b, a)["passed"]


def test_radiographs_report_area_in_cm2_and_ct_volume_in_ml() -> None:
    pred, ref = _fields(2)  # lung shifted by two pixels: 2 x 30 pixels more / fewer per lung
    # a radiograph of 0.5 mm pixels: one pixel is 0.0025 cm², no thickness involved
    xr = summarize([case_metrics(pred, ref, 0.5 * 0.5 / 100.0, "area")], "area")
    assert "abs_volume_error_ml" not in xr
    lung_px = int((pred == 1).sum()) - int((ref == 1).sum())
    assert xr["abs_area_error_cm2"]["lung"] == round(abs(lung_px) * 0.0025, 4)
    ct = summarize([case_metrics(pred, ref, 0.5 * 0.5 * 5 / 1000.0)])
    assert "abs_area_error_cm2" not in ct
    assert ct["abs_volume_error_ml"]["lung"] == round(abs(lung_px) * 0.00125, 4)
