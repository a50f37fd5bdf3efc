"""NIfTI reading/writing: validation, LPS geometry consistent with SimpleITK, no free text."""
from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from lunglab.domain.errors import InvalidInput
from lunglab.domain.volume import CTVolume
from lunglab.io.nifti import (
    read_labelmap_nifti,
    read_nifti,
    write_labelmap_nifti,
    write_volume_nifti,
)


def small_volume() -> CTVolume:
    rng = np.random.default_rng(1)
    arr = rng.integers(-1024, 1500, size=(5, 6, 7)).astype(np.int16)
    direction = (-1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, -1.0, 0.0)  # prone-ish, permuted axes
    return CTVolume(arr, (0.7, 0.8, 2.5), (12.5, -30.0, 101.0), direction, {"x": "y"})


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_volume_round_trip_and_sitk_agreement(tmp_path: Path, suffix: str) -> None:
    import SimpleITK as sitk

    vol = small_volume()
    path = tmp_path / f"v{suffix}"
    write_volume_nifti(vol, path)
    back = read_nifti(path)
    np.testing.assert_array_equal(back.array, vol.array)
    np.testing.assert_allclose(back.spacing, vol.spacing, atol=1e-5)
    np.testing.assert_allclose(back.origin, vol.origin, atol=1e-4)
    np.testing.assert_allclose(back.direction, vol.direction, atol=1e-5)
    # what SimpleITK itself writes for the same volume reads back identically
    sitk.WriteImage(vol.to_sitk(), str(tmp_path / f"s{suffix}"))
    other = read_nifti(tmp_path / f"s{suffix}")
    np.testing.assert_allclose(other.origin, back.origin, atol=1e-4)
    np.testing.assert_allclose(other.direction, back.direction, atol=1e-5)


def test_written_header_has_no_free_text(tmp_path: Path) -> None:
    write_volume_nifti(small_volume(), tmp_path / "v.nii.gz")
    hdr = nib.load(str(tmp_path / "v.nii.gz")).header
    for key in ("descrip", "aux_file", "db_name", "intent_name"):
        assert bytes(hdr[key]).strip(b"\x00") == b""
    assert not hdr.extensions


def test_labelmap_round_trip(tmp_path: Path) -> None:
    vol = small_volume()
    labels = (np.arange(vol.array.size).reshape(vol.shape) % 4).astype(np.uint8)
    write_labelmap_nifti(labels, vol, tmp_path / "l.nii.gz")
    back = read_labelmap_nifti(tmp_path / "l.nii.gz", vol.shape, like=vol)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, labels)


def test_labelmap_in_other_orientation_is_reoriented(tmp_path: Path) -> None:
    import SimpleITK as sitk

    vol = small_volume()
    labels = (np.arange(vol.array.size).reshape(vol.shape) % 4).astype(np.uint8)
    img = CTVolume(labels, vol.spacing, vol.origin, vol.direction).to_sitk()
    sitk.WriteImage(sitk.DICOMOrient(img, "RAS"), str(tmp_path / "ras.nii.gz"))
    back = read_labelmap_nifti(tmp_path / "ras.nii.gz", vol.shape, like=vol)
    np.testing.assert_array_equal(back, labels)


def test_labelmap_on_another_grid_is_refused(tmp_path: Path) -> None:
    vol = small_volume()
    labels = np.zeros(vol.shape, np.uint8)
    moved = CTVolume(vol.array, vol.spacing, (50.0, 0.0, 0.0), vol.direction)
    write_labelmap_nifti(labels, moved, tmp_path / "m.nii.gz")
    with pytest.raises(InvalidInput, match="position"):
        read_labelmap_nifti(tmp_path / "m.nii.gz", vol.shape, like=vol)
    finer = CTVolume(vol.array, (0.5, 0.8, 2.5), vol.origin, vol.direction)
    write_labelmap_nifti(labels, finer, tmp_path / "f.nii.gz")
    with pytest.raises(InvalidInput, match="spacing"):
        read_labelmap_nifti(tmp_path / "f.nii.gz", vol.shape, like=vol)
    assert read_labelmap_nifti(tmp_path / "f.nii.gz", vol.shape).shape == vol.shape


def test_labelmap_shape_and_values_checked(tmp_path: Path) -> None:
    vol = small_volume()
    nib.save(nib.Nifti1Image(np.zeros((7, 6, 4), np.uint8), np.eye(4)), str(tmp_path / "a.nii"))
    with pytest.raises(InvalidInput, match="does not match"):
        read_labelmap_nifti(tmp_path / "a.nii", vol.shape)
    nib.save(nib.Nifti1Image(np.full((7, 6, 5), 0.5, np.float32), np.eye(4)),
             str(tmp_path / "b.nii"))
    with pytest.raises(InvalidInput, match="integers"):
        read_labelmap_nifti(tmp_path / "b.nii", vol.shape)


def test_broken_header(tmp_path: Path) -> None:
    bad = tmp_path / "bad.nii"
    bad.write_bytes(b"\x00" * 400)
    with pytest.raises(InvalidInput) as err:
        read_nifti(bad)
    assert "bad.nii" in str(err.value)


@pytest.mark.parametrize("shape,match", [((4, 4, 4, 3), "3-D volume"),
                                         ((2, 2, 2, 2, 2), "3-D volume")])
def test_bad_dimensions(tmp_path: Path, shape: tuple[int, ...], match: str) -> None:
    nib.save(nib.Nifti1Image(np.zeros(shape, np.int16), np.eye(4)), str(tmp_path / "d.nii"))
    with pytest.raises(InvalidInput, match=match):
        read_nifti(tmp_path / "d.nii")


def test_4d_with_one_volume_is_accepted(tmp_path: Path) -> None:
    nib.save(nib.Nifti1Image(np.zeros((4, 5, 6, 1), np.int16), np.eye(4)),
             str(tmp_path / "t.nii"))
    assert read_nifti(tmp_path / "t.nii").shape == (6, 5, 4)


@pytest.mark.parametrize("zoom", [0.0, float("nan")])
def test_bad_spacing(tmp_path: Path, zoom: float) -> None:
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.int16), np.eye(4)), str(tmp_path / "z.nii"))
    raw = bytearray((tmp_path / "z.nii").read_bytes())
    raw[84:88] = np.float32(zoom).tobytes()  # pixdim[2]
    raw[252:256] = bytes(4)  # qform_code, sform_code = 0: pixdim is the only geometry
    (tmp_path / "z.nii").write_bytes(bytes(raw))
    with pytest.raises(InvalidInput, match="spacing"):
        read_nifti(tmp_path / "z.nii")


def test_truncated_data(tmp_path: Path) -> None:
    write_volume_nifti(small_volume(), tmp_path / "v.nii")
    raw = (tmp_path / "v.nii").read_bytes()
    (tmp_path / "t.nii").write_bytes(raw[:-50])
    with pytest.raises(InvalidInput, match="truncated"):
        read_nifti(tmp_path / "t.nii")
    (tmp_path / "t.nii.gz").write_bytes(gzip.compress(raw)[:-40])
    with pytest.raises(InvalidInput):
        read_nifti(tmp_path / "t.nii.gz")


def test_float_and_non_hu_data(tmp_path: Path) -> None:
    nib.save(nib.Nifti1Image(np.full((3, 3, 3), 100.6, np.float32), np.eye(4)),
             str(tmp_path / "f.nii.gz"))
    vol = read_nifti(tmp_path / "f.nii.gz")
    assert vol.array.dtype == np.int16 and int(vol.array[0, 0, 0]) == 101
    assert any("Hounsfield" in w for w in vol.meta["warnings"])
