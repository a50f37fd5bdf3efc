"""Invariants of the quantification on random label maps (hypothesis)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunglab.imaging.quantify import quantify

DIRECTIONS = [(1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0), (-1.0, 0, 0, 0, 1.0, 0, 0, 0, -1.0)]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), z=st.integers(1, 8), lesion_p=st.floats(0, 0.6),
       direction=st.sampled_from(DIRECTIONS))
def test_parts_add_up(seed: int, z: int, lesion_p: float, direction: tuple) -> None:
    rng = np.random.default_rng(seed)
    lm = np.zeros((z, 16, 30), np.uint8)
    lm[:, 2:14, 2:13] = 1
    lm[:, 2:14, 17:28] = 1
    lesion = (rng.random(lm.shape) < lesion_p) & (lm == 1)
    lm[lesion] = rng.integers(2, 4, size=int(lesion.sum()), dtype=np.uint8)
    spacing = (0.7, 0.9, 3.0)
    q = quantify(lm, spacing, direction)
    voxel_ml = 0.7 * 0.9 * 3.0 / 1000
    total, right, left = (q["lungs"][k] for k in ("total", "right", "left"))
    for key in ("lung_ml", "ggo_ml", "consolidation_ml", "lesion_ml"):
        assert right[key] + left[key] == pytest.approx(total[key], abs=2e-3)
        assert sum(zn[key] for zn in q["zones"]) == pytest.approx(total[key], abs=6e-3)
    assert total["lung_ml"] == pytest.approx((lm > 0).sum() * voxel_ml, abs=1e-3)
    assert 0 <= total["involvement_pct"] <= 100
    assert all(0 <= zn["score"] <= 5 for zn in q["zones"])
    assert q["severity_score"] == sum(zn["score"] for zn in q["zones"]) <= 30
    assert q["lesions"]["total_ml"] == pytest.approx(total["lesion_ml"], abs=1e-3)
    if total["lesion_ml"]:
        assert total["ggo_share_pct"] + total["consolidation_share_pct"] == pytest.approx(
            100, abs=0.02)
