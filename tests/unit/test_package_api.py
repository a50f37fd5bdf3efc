"""The three-line API of the package root, imported lazily."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest


def test_import_lunglab_does_not_import_torch():
    code = "import sys, lunglab; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_three_lines_segment_a_volume():
    import lunglab
    from lunglab.domain.volume import CTVolume

    arr = np.full((1, 96, 96), -1000, np.int16)
    arr[0, 8:88, 8:88] = 40
    arr[0, 20:76, 14:44] = -860
    arr[0, 20:76, 52:82] = -860
    label_map, info = lunglab.segment_volume(CTVolume(arr, (0.75, 0.75, 5.0)), device="cpu")
    summary = lunglab.summarize(label_map, (0.75, 0.75, 5.0))
    assert label_map.shape == arr.shape and label_map.dtype == np.uint8
    assert summary["lung_ml"] > 0 and info["model"]
    with pytest.raises(AttributeError):
        lunglab.no_such_thing  # noqa: B018
