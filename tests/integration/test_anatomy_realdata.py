"""Issue 14 anatomy goals on the real demo series (and the series padded with an abdomen).

The reference lung is the bench's (bench/anatomy_reference.py): air below -400 HU inside the
body, trachea and main bronchi tracked from the top, the two largest 3D components, each lung's
holes filled per slice. Goals: lung Dice >= 0.97, <= 20 mL of lung label outside the reference,
<= 15 mL of lesion on this scan without COVID-19; with an abdomen below: no gas labelled lung.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.conftest import REPO, need_real_series

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

sys.path.insert(0, str(REPO / "bench"))


@pytest.fixture(scope="module")
def demo():
    series = need_real_series()
    import torch

    from anatomy_reference import reference_lung
    from lunglab.io.load import load_ct
    from lunglab.ml.inference import Segmenter

    torch.set_num_threads(2)
    volume = load_ct(series)
    segmenter = Segmenter(None, "cpu")
    label_map, _ = segmenter(volume)
    ref = reference_lung(np.asarray(volume.array), volume.spacing)
    return volume, segmenter, label_map, ref


def test_demo_series_lung_matches_the_3d_reference(demo):
    volume, _, label_map, ref = demo
    from anatomy import scores

    s = scores(label_map, ref, volume.voxel_volume_ml)
    assert s["dice"] >= 0.97, s
    assert s["outside_ml"] <= 20.0, s
    assert s["lesion_ml"] <= 15.0, s
    # the mediastinum at the aortic arch level (slice 90) holds no lung label between the lungs
    row = label_map[90, 200:300]
    assert not (row[:, 245:265] > 0).any()


def test_abdomen_gas_below_the_lungs_is_not_lung(demo):
    volume, segmenter, _label_map, _ = demo
    from anatomy_reference import with_abdomen

    from lunglab.domain.volume import CTVolume

    hu, gas = with_abdomen(np.asarray(volume.array), volume.spacing, below_mm=100.0)
    padded, _ = segmenter(CTVolume(hu, volume.spacing, volume.origin, volume.direction))
    assert not (padded[gas] > 0).any()
    n_new = hu.shape[0] - volume.shape[0]
    assert not padded[:n_new].any(), "nothing labelled in the abdomen below the lungs"
    lesion_ml = float((padded >= 2).sum()) * volume.voxel_volume_ml
    assert lesion_ml <= 15.0
