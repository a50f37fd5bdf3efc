"""load_ct for the command line: folders, zips, single files, NIfTI, errors."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from dicom_factory import make_ct_series
from lunglab.domain.errors import InvalidInput
from lunglab.io.load import load_ct
from lunglab.io.nifti import write_volume_nifti


def test_folder_with_two_series_picks_the_larger(tmp_path: Path) -> None:
    small = make_ct_series(tmp_path / "d" / "small", shape=(3, 6, 6))
    big = make_ct_series(tmp_path / "d" / "big", shape=(5, 6, 6), prefix="big")
    (tmp_path / "d" / "notes.txt").write_text("hi")
    vol = load_ct(tmp_path / "d")
    np.testing.assert_array_equal(vol.array, big.hu)
    assert any("most slices" in w for w in vol.meta["warnings"])
    assert small.paths  # the smaller one was found but not used


def test_zip_single_file_and_nifti(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "s", shape=(4, 6, 6))
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as zf:
        for p in s.paths:
            zf.write(p, f"a/b/{p.name}")
    from_zip = load_ct(tmp_path / "s.zip")
    np.testing.assert_array_equal(from_zip.array, s.hu)
    single = load_ct(s.paths[0])
    assert single.shape == (1, 6, 6)
    write_volume_nifti(from_zip, tmp_path / "v.nii.gz")
    from_nii = load_ct(tmp_path / "v.nii.gz")
    np.testing.assert_array_equal(from_nii.array, s.hu)
    np.testing.assert_allclose(from_nii.origin, from_zip.origin, atol=1e-4)


def test_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        load_ct(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="no readable CT series"):
        load_ct(tmp_path / "empty")
    mr = make_ct_series(tmp_path / "mr", shape=(2, 4, 4), modality="MR")
    with pytest.raises(InvalidInput, match="modality MR is not CT"):
        load_ct(tmp_path / "mr")
    assert mr.paths


@pytest.mark.realdata
def test_real_series_folder(real_series_dir: Path) -> None:
    vol = load_ct(real_series_dir)
    assert vol.shape == (141, 512, 512)
    assert vol.meta["Modality"] == "CT" and vol.meta["warnings"] == []
