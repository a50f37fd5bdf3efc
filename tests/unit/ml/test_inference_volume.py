"""Volumes (5+ slices): the 3D anatomical lung is the label map's lung; lesions only inside it."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from lunglab.domain.volume import CTVolume
from lunglab.imaging.anatomy import lung_anatomy_3d
from lunglab.ml.inference import Segmenter, superior_from_direction

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "imaging"))
from chest3d_phantom import SPACING, chest3d_phantom

FLIP_Z = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


@pytest.fixture
def everything_ggo(monkeypatch):
    """The network calls every pixel it sees GGO: only the anatomy can keep labels in place."""
    import lunglab.ml.inference as inference

    def predict(loaded, hu, spacing_yx, batch_size=16, tta=False, class_scale=None):
        return np.full(hu.shape, 2, np.uint8)

    monkeypatch.setattr(inference, "predict_slices", predict)


def test_volume_label_map_is_the_3d_lung(tiny_checkpoint, everything_ggo):
    chest = chest3d_phantom()
    label_map, _ = Segmenter(str(tiny_checkpoint), "cpu")(CTVolume(chest["hu"], SPACING))
    lung = lung_anatomy_3d(chest["hu"], SPACING)[0]
    assert np.array_equal(label_map > 0, lung), "nothing outside the anatomical lung"
    for name in ("gas", "trachea", "mediastinum"):
        assert not (label_map[chest[name]] > 0).any(), name
    assert (label_map[chest["hu"] < -990] == 0).mean() > 0.99  # air outside the body, gas
    assert (label_map == 2).any()


def test_head_direction_comes_from_the_header(tiny_checkpoint, everything_ggo):
    chest = chest3d_phantom()
    seg = Segmenter(str(tiny_checkpoint), "cpu")
    upright, _ = seg(CTVolume(chest["hu"], SPACING))
    flipped, _ = seg(CTVolume(np.ascontiguousarray(chest["hu"][::-1]), SPACING,
                              direction=FLIP_Z))
    assert np.array_equal(flipped[::-1] > 0, upright > 0)
    assert superior_from_direction(FLIP_Z) == -1
    assert superior_from_direction((1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0)) == 1
