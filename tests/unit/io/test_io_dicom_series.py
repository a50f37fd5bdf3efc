"""DICOM series reading on synthetic series: geometry, HU, and every refusal."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from dicom_factory import (
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
    make_ct_series,
    make_multiframe_ct,
)
from lunglab.domain.errors import TooLarge
from lunglab.io.dicom.series import read_dicom_series
from lunglab.io.limits import UploadLimits


def files_of(paths: list[Path]) -> list[tuple[str, Path]]:
    return [(p.name, p) for p in paths]


def read_one(paths: list[Path]):  # type: ignore[no-untyped-def]
    series, refused = read_dicom_series(files_of(paths))
    assert not refused, refused
    assert len(series) == 1
    return series[0].volume, series[0].warnings


def refusal_of(paths: list[Path]) -> str:
    series, refused = read_dicom_series(files_of(paths))
    assert not series
    assert len(refused) == 1, refused
    return refused[0].reason


def assert_geometry(vol, s) -> None:  # type: ignore[no-untyped-def]
    np.testing.assert_allclose(vol.spacing, s.spacing, atol=1e-5)
    np.testing.assert_allclose(vol.origin, s.origin, atol=1e-4)
    np.testing.assert_allclose(vol.direction, s.direction, atol=1e-6)
    assert vol.array.dtype == np.int16
    np.testing.assert_array_equal(vol.array, s.hu)


@pytest.mark.parametrize("iop", [
    (1, 0, 0, 0, 1, 0),          # axial head first supine
    (-1, 0, 0, 0, -1, 0),        # axial prone
    (1, 0, 0, 0, 0, -1),         # coronal
    (0, 1, 0, 0, 0, -1),         # sagittal
    (0.8660254, 0.5, 0, -0.5, 0.8660254, 0),  # rotated in-plane
])
def test_geometry_matches_factory_for_orientations(tmp_path: Path, iop) -> None:  # type: ignore[no-untyped-def]
    s = make_ct_series(tmp_path, iop=iop)
    vol, _ = read_one(list(reversed(s.paths)))
    assert_geometry(vol, s)


def test_geometry_matches_simpleitk(tmp_path: Path) -> None:
    import SimpleITK as sitk

    s = make_ct_series(tmp_path, iop=(-1, 0, 0, 0, -1, 0), origin=(10.0, 20.0, 30.0))
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(tmp_path)))
    img = reader.Execute()
    vol, _ = read_one(s.paths)
    np.testing.assert_allclose(vol.spacing, img.GetSpacing(), atol=1e-5)
    np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(vol.direction, img.GetDirection(), atol=1e-6)
    np.testing.assert_array_equal(vol.array, sitk.GetArrayFromImage(img))


@pytest.mark.parametrize("kwargs", [
    {"transfer_syntax": ImplicitVRLittleEndian},
    {"transfer_syntax": RLELossless},
    {"signed": True, "rescale": (1.0, 0.0)},
    {"rescale": (0.5, -1024.0)},
    {"rescale": (2.0, -2048.0)},
])
def test_pixel_encodings_give_hu(tmp_path: Path, kwargs) -> None:  # type: ignore[no-untyped-def]
    s = make_ct_series(tmp_path, **kwargs)
    vol, _ = read_one(s.paths)
    assert_geometry(vol, s)


@pytest.mark.parametrize("syntax", [JPEGLosslessSV1, JPEGLSLossless, JPEG2000Lossless])
def test_pacs_compressions_decode_to_the_same_hu(tmp_path: Path, syntax: str) -> None:
    pytest.importorskip("gdcm", reason="python-gdcm not installed: cannot encode test files")
    s = make_ct_series(tmp_path, shape=(3, 16, 16), transfer_syntax=syntax)
    assert pydicom.dcmread(s.paths[0]).file_meta.TransferSyntaxUID == syntax
    vol, _ = read_one(s.paths)
    assert_geometry(vol, s)


def test_unused_high_bits_are_masked(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, shape=(2, 4, 4))
    for path in s.paths:
        ds = pydicom.dcmread(path)
        ds.BitsStored, ds.HighBit = 12, 11
        raw = np.frombuffer(ds.PixelData, "<u2") | np.uint16(0xF000)  # garbage overlay bits
        ds.PixelData = raw.tobytes()
        ds.save_as(path)
    vol, _ = read_one(s.paths)
    np.testing.assert_array_equal(vol.array, ((s.hu.astype(np.int32) + 1024) & 0x0FFF) - 1024)


def test_single_slice_uses_thickness(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, shape=(1, 8, 8), spacing=(0.7, 0.7, 5.0))
    vol, _ = read_one(s.paths)
    assert vol.shape == (1, 8, 8)
    assert vol.spacing[2] == pytest.approx(5.0)


def test_single_slice_defaults_to_one_mm(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, shape=(1, 8, 8))
    ds = pydicom.dcmread(s.paths[0])
    del ds.SliceThickness
    ds.save_as(s.paths[0])
    vol, _ = read_one(s.paths)
    assert vol.spacing[2] == 1.0


def test_gantry_tilt_is_refused(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, tilt_deg=12.0)
    reason = refusal_of(s.paths)
    assert "gantry tilt" in reason and "12.0 degrees" in reason


def test_tilt_attribute_without_shear_warns(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path)
    for path in s.paths:
        ds = pydicom.dcmread(path)
        ds.GantryDetectorTilt = "7"
        ds.save_as(path)
    _, warnings = read_one(s.paths)
    assert any("GantryDetectorTilt" in w for w in warnings)


def test_missing_slice_is_refused_naming_the_gap(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, shape=(8, 6, 6), missing=[4])
    reason = refusal_of(s.paths)
    assert "missing slice" in reason and "slice0003.dcm" in reason and "slice0005.dcm" in reason


@pytest.mark.parametrize("nz,missing,count", [(5, [1], 1), (10, [2, 3, 7], 3), (4, [2], 1)])
def test_missing_slices_counted_even_in_short_series(tmp_path: Path, nz: int,
                                                      missing: list[int], count: int) -> None:
    s = make_ct_series(tmp_path, shape=(nz, 6, 6), missing=missing)
    reason = refusal_of(s.paths)
    assert f"({count} slice(s) missing" in reason and "spacing is 2.500 mm" in reason


def test_inconsistent_spacing_is_refused(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, shape=(6, 6, 6))
    ds = pydicom.dcmread(s.paths[3])
    ipp = [float(v) for v in ds.ImagePositionPatient]
    ds.ImagePositionPatient = [ipp[0], ipp[1], ipp[2] + 0.9]
    ds.save_as(s.paths[3])
    assert "inconsistent slice spacing" in refusal_of(s.paths)


def test_same_file_twice_is_deduplicated_with_warning(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "a")
    copy = tmp_path / "copy.dcm"
    shutil.copy(s.paths[2], copy)
    vol, warnings = read_one([*s.paths, copy])
    assert vol.shape[0] == len(s.paths)
    assert any("duplicate" in w for w in warnings)


def test_two_slices_at_one_position_are_refused(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path)
    ds = pydicom.dcmread(s.paths[2])
    ds.SOPInstanceUID = generate_uid()
    ds.save_as(tmp_path / "phase2.dcm")
    assert "same position" in refusal_of([*s.paths, tmp_path / "phase2.dcm"])


def test_mixed_sizes_in_one_series_are_refused(tmp_path: Path) -> None:
    a = make_ct_series(tmp_path / "a", shape=(3, 8, 8))
    b = make_ct_series(tmp_path / "b", shape=(3, 10, 8), study_uid=a.study_uid,
                       series_uid=a.series_uid, origin=(-120.0, -110.0, -200.0))
    assert "different sizes" in refusal_of(a.paths + b.paths)


def test_mixed_orientations_in_one_series_are_refused(tmp_path: Path) -> None:
    a = make_ct_series(tmp_path / "a", shape=(3, 8, 8))
    b = make_ct_series(tmp_path / "b", shape=(3, 8, 8), iop=(1, 0, 0, 0, 0, -1),
                       study_uid=a.study_uid, series_uid=a.series_uid)
    assert "mixed slice orientations" in refusal_of(a.paths + b.paths)


def test_localizer_in_series_is_dropped(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "a", shape=(4, 8, 8))
    scout = make_ct_series(tmp_path / "b", shape=(1, 8, 8), iop=(1, 0, 0, 0, 0, -1),
                           study_uid=s.study_uid, series_uid=s.series_uid, prefix="scout")
    ds = pydicom.dcmread(scout.paths[0])
    ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    ds.save_as(scout.paths[0])
    vol, warnings = read_one(s.paths + scout.paths)
    assert vol.shape[0] == 4 and any("localizer" in w for w in warnings)


def test_non_ct_series_is_refused(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, modality="MR")
    assert refusal_of(s.paths) == "modality MR is not CT"


def test_enhanced_ct_without_functional_groups_is_refused(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, sop_class="1.2.840.10008.5.1.4.1.1.2.1")
    series, refused = read_dicom_series(files_of(s.paths))
    assert not series and refused
    assert all("per-frame functional groups" in r.reason for r in refused)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("iop", [(1, 0, 0, 0, 1, 0), (-1, 0, 0, 0, -1, 0), (1, 0, 0, 0, 0, -1)])
def test_multiframe_gives_the_same_volume_as_classic(tmp_path: Path, compress: bool,
                                                     iop) -> None:  # type: ignore[no-untyped-def]
    s = make_ct_series(tmp_path / "c", shape=(5, 8, 6), iop=iop, rescale=(2.0, -2048.0))
    mf = make_multiframe_ct(s, tmp_path / "mf.dcm", compress=compress)
    ds = pydicom.dcmread(mf)
    assert ds.NumberOfFrames == 5 and ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2.2"
    vol, _ = read_one([mf])
    assert_geometry(vol, s)


def test_multiframe_with_a_missing_frame_position_is_refused(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "c", shape=(4, 8, 6))
    mf = make_multiframe_ct(s, tmp_path / "mf.dcm")
    ds = pydicom.dcmread(mf)
    del ds.PerFrameFunctionalGroupsSequence[2].PlanePositionSequence
    ds.save_as(mf)
    assert "no ImagePositionPatient in mf.dcm frame" in refusal_of([mf])


def test_secondary_capture_is_refused(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, sop_class="1.2.840.10008.5.1.4.1.1.7")
    assert "Secondary Capture" in refusal_of(s.paths)


def test_non_dicom_and_truncated_files_are_named(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "s", shape=(3, 16, 16))
    junk = tmp_path / "notes.txt"
    junk.write_text("hello, not an image\n" * 20)
    trunc = tmp_path / "trunc.dcm"
    trunc.write_bytes(s.paths[0].read_bytes()[:-200])
    header_cut = tmp_path / "cut.dcm"
    header_cut.write_bytes(s.paths[1].read_bytes()[:300])
    series, refused = read_dicom_series(
        [("notes.txt", junk), ("trunc.dcm", trunc), ("cut.dcm", header_cut)])
    assert not series
    reasons = {r.name: r.reason for r in refused}
    assert reasons["notes.txt"] == "not a DICOM file"
    assert "truncated" in reasons["trunc.dcm"]
    assert reasons.get("cut.dcm")


def test_truncated_slice_refuses_its_series_naming_the_file(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, shape=(4, 16, 16))
    s.paths[2].write_bytes(s.paths[2].read_bytes()[:-100])
    series, refused = read_dicom_series(files_of(s.paths))
    assert not series
    assert [r.name for r in refused] == ["slice0002.dcm"]
    assert "truncated" in refused[0].reason


def test_several_series_in_one_upload(tmp_path: Path) -> None:
    a = make_ct_series(tmp_path / "a", shape=(3, 8, 8))
    b = make_ct_series(tmp_path / "b", shape=(5, 8, 8), prefix="other")
    series, refused = read_dicom_series(files_of(a.paths + b.paths))
    assert not refused
    assert sorted(s.volume.shape[0] for s in series) == [3, 5]


def test_slice_limit_raises_too_large(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path, shape=(5, 8, 8))
    with pytest.raises(TooLarge):
        read_dicom_series(files_of(s.paths), UploadLimits(max_slices_per_series=4))


def test_file_without_preamble_is_read(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "s", shape=(2, 6, 6))
    for path in s.paths:
        ds = pydicom.dcmread(path)
        ds.preamble = None
        del ds.file_meta  # old ACR-NEMA style: no preamble, no file meta, implicit VR
        pydicom.dcmwrite(path, ds, implicit_vr=True, little_endian=True)
        assert path.read_bytes()[128:132] != b"DICM"
    vol, _ = read_one(s.paths)
    assert_geometry(vol, s)


def test_dicomdir_is_refused_as_not_an_image(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "s", shape=(2, 6, 6))
    ds = pydicom.dcmread(s.paths[0])
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    ds.SOPClassUID = "1.2.840.10008.1.3.10"
    ds.save_as(tmp_path / "DICOMDIR")
    files = [("DICOMDIR", tmp_path / "DICOMDIR"), *files_of(s.paths)]
    series, refused = read_dicom_series(files)
    assert len(series) == 1
    assert refused[0].name == "DICOMDIR" and "DICOMDIR" in refused[0].reason
