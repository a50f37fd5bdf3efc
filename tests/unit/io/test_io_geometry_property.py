"""Property-based geometry tests: slice order and orientation must not matter."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from dicom_factory import make_ct_series
from lunglab.io.dicom.series import read_dicom_series

_SETTINGS = settings(max_examples=15, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(perm_seed=st.integers(0, 2**32 - 1), nz=st.integers(2, 7))
def test_permuted_files_give_the_same_volume(perm_seed: int, nz: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        s = make_ct_series(Path(tmp), shape=(nz, 5, 4))
        order = np.random.default_rng(perm_seed).permutation(len(s.paths))
        files = [(s.paths[i].name, s.paths[i]) for i in order]
        series, refused = read_dicom_series(files)
        assert not refused
        np.testing.assert_array_equal(series[0].volume.array, s.hu)
        np.testing.assert_allclose(series[0].volume.origin, s.origin, atol=1e-4)


@_SETTINGS
@given(quat=st.tuples(*[st.floats(-1, 1, allow_nan=False)] * 4).filter(
    lambda q: sum(v * v for v in q) > 0.1),
    dz=st.floats(0.5, 6.0))
def test_any_orientation_round_trips(quat: tuple[float, ...], dz: float) -> None:
    rot = Rotation.from_quat(quat).as_matrix()
    iop = (*rot[:, 0], *rot[:, 1])
    with tempfile.TemporaryDirectory() as tmp:
        s = make_ct_series(Path(tmp), shape=(4, 5, 3), spacing=(0.8, 0.9, dz), iop=iop)
        series, refused = read_dicom_series([(p.name, p) for p in reversed(s.paths)])
        assert not refused, refused
        vol = series[0].volume
        np.testing.assert_allclose(vol.direction, s.direction, atol=1e-4)
        np.testing.assert_allclose(vol.spacing, s.spacing, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(vol.origin, s.origin, atol=1e-3)
        np.testing.assert_array_equal(vol.array, s.hu)
        d = np.asarray(vol.direction).reshape(3, 3)
        np.testing.assert_allclose(d.T @ d, np.eye(3), atol=1e-4)
