"""The real shared series and slices (skipped when ../shared is absent)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lunglab.io.dicom.series import read_dicom_series

pytestmark = pytest.mark.realdata


def test_real_series_matches_simpleitk(real_series_dir: Path) -> None:
    import SimpleITK as sitk

    files = sorted(real_series_dir.glob("*.dcm"))
    series, refused = read_dicom_series([(p.name, p) for p in reversed(files)])
    assert not refused and len(series) == 1
    vol = series[0].volume
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(real_series_dir)))
    img = reader.Execute()
    assert img.GetSize() == (512, 512, 141)
    assert vol.shape == (141, 512, 512)
    np.testing.assert_allclose(vol.spacing, img.GetSpacing(), atol=1e-4)
    np.testing.assert_allclose(vol.spacing, (0.977, 0.977, 2.0), atol=1e-3)
    np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=1e-3)
    np.testing.assert_allclose(vol.direction, img.GetDirection(), atol=1e-6)
    np.testing.assert_array_equal(vol.array, sitk.GetArrayFromImage(img))
    assert int(vol.array.min()) == -1024


def test_real_single_slices_each_form_a_volume(ny_sbu_dir: Path) -> None:
    files = sorted(ny_sbu_dir.rglob("*.dcm"))
    assert files
    series, refused = read_dicom_series([(p.relative_to(ny_sbu_dir).as_posix(), p)
                                         for p in files])
    assert not refused
    assert len(series) == len(files)
    for s in series:
        assert s.volume.shape[0] == 1
        assert 0.5 < s.volume.spacing[0] < 1.0
        assert 1.0 <= s.volume.spacing[2] <= 5.0
        assert s.volume.array.min() < -500  # air in HU
