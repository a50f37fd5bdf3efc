"""scan_upload: mixed inputs, refusals, pseudonyms, duplicates, names without PHI."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest

from dicom_factory import (
    copy_real_series_with_phi,
    make_ct_series,
    make_multiframe_ct,
    plant_phi,
)
from lunglab.domain.errors import TooLarge
from lunglab.io.limits import UploadLimits
from lunglab.io.nifti import write_volume_nifti
from lunglab.io.scan import scan_upload

SECRET = b"k" * 32


def scan(files: list[tuple[str, Path]], tmp_path: Path, **limits: int):  # type: ignore[no-untyped-def]
    return scan_upload(files, project_secret=SECRET, limits=UploadLimits(**limits),
                       workdir=tmp_path / "work")


def test_mixed_upload(tmp_path: Path) -> None:
    a = make_ct_series(tmp_path / "a", shape=(4, 8, 8), series_description="LUNG B70f")
    b = make_ct_series(tmp_path / "b", shape=(3, 8, 8), prefix="b", modality="MR")
    c = make_ct_series(tmp_path / "c", shape=(5, 8, 8), prefix="c")
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as zf:
        for p in c.paths:
            zf.write(p, f"folder/{p.name}")
        zf.writestr("__MACOSX/folder/._x", b"junk")
    nii = tmp_path / "vol.nii.gz"
    a_series = scan([(p.name, p) for p in a.paths], tmp_path / "a0").series[0]
    write_volume_nifti(a_series.volume, nii)
    junk = tmp_path / "readme.txt"
    junk.write_text("not an image")
    files = ([(f"up/{p.name}", p) for p in a.paths] + [(p.name, p) for p in b.paths]
             + [("c.zip", tmp_path / "c.zip"), ("vol.nii.gz", nii), ("readme.txt", junk)])
    result = scan(files, tmp_path)
    kinds = sorted((s.kind, s.slice_count) for s in result.series)
    assert kinds == [("dicom", 4), ("dicom", 5), ("nifti", 4)]
    reasons = {r.name: r.reason for r in result.refused}
    assert reasons.pop("readme.txt") == "not a DICOM file"
    (mr_name, mr_reason), = reasons.items()
    assert mr_name.startswith("MR series") and mr_reason == "modality MR is not CT"
    dicom_a = next(s for s in result.series if s.slice_count == 4 and s.kind == "dicom")
    assert dicom_a.name == "CT 4 slices - LUNG B70f"
    assert dicom_a.source_names == [f"up/slice{k:04d}.dcm" for k in range(4)]
    assert dicom_a.volume.meta == dicom_a.meta
    assert len(dicom_a.sop_instance_uids_pseudo) == 4
    zipped = next(s for s in result.series if s.slice_count == 5)
    assert zipped.source_names[0] == "c.zip/folder/c0000.dcm"
    nifti = next(s for s in result.series if s.kind == "nifti")
    np.testing.assert_array_equal(nifti.volume.array, dicom_a.volume.array)


def test_reupload_gives_same_pseudonyms_and_patient_key(tmp_path: Path) -> None:
    a = make_ct_series(tmp_path / "a", shape=(3, 8, 8), patient_id="MRN-1")
    b = make_ct_series(tmp_path / "b", shape=(3, 8, 8), patient_id="MRN-1", prefix="b")
    other = make_ct_series(tmp_path / "o", shape=(3, 8, 8), patient_id="MRN-2", prefix="o")
    first = scan([(p.name, p) for p in a.paths], tmp_path / "1").series[0]
    again = scan([(p.name, p) for p in reversed(a.paths)], tmp_path / "2").series[0]
    second = scan([(p.name, p) for p in b.paths], tmp_path / "3").series[0]
    third = scan([(p.name, p) for p in other.paths], tmp_path / "4").series[0]
    assert (first.series_uid_pseudo, first.study_uid_pseudo) == (
        again.series_uid_pseudo, again.study_uid_pseudo)
    assert first.series_uid_pseudo != second.series_uid_pseudo
    assert first.patient_key == second.patient_key != third.patient_key
    assert a.series_uid not in repr(first.meta)


def test_burned_in_annotation_warning(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "s", shape=(2, 4, 4), burned_in="YES")
    parsed = scan([(p.name, p) for p in s.paths], tmp_path).series[0]
    assert any("BurnedInAnnotation" in w for w in parsed.warnings)


def test_unsafe_client_name_is_refused(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "s", shape=(2, 4, 4))
    result = scan([("../../etc/x.dcm", s.paths[0]), (s.paths[1].name, s.paths[1])], tmp_path)
    assert result.refused[0].name == "../../etc/x.dcm"
    assert len(result.series) == 1


def test_zip_slip_archive_is_refused_others_imported(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "s", shape=(2, 4, 4))
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../escape.dcm", b"x")
    result = scan([("evil.zip", tmp_path / "evil.zip")] + [(p.name, p) for p in s.paths],
                  tmp_path)
    assert len(result.series) == 1
    assert "../escape.dcm" in result.refused[0].name


def test_zip_bomb_refuses_the_upload(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.dcm", bytes(30 * 1024 * 1024))
    with pytest.raises(TooLarge, match=r"bomb\.zip"):
        scan([("bomb.zip", tmp_path / "bomb.zip")], tmp_path)


def test_too_many_files(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "s", shape=(3, 4, 4))
    with pytest.raises(TooLarge):
        scan([(p.name, p) for p in s.paths], tmp_path, max_files=2)


def test_broken_nifti_is_refused_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "scan.nii.gz"
    bad.write_bytes(b"\x1f\x8b garbage")
    result = scan([("scan.nii.gz", bad)], tmp_path)
    assert not result.series and result.refused[0].name == "scan.nii.gz"


def test_planted_phi_absent_from_scan_result(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "s", shape=(3, 6, 6))
    markers: list[str] = []
    for p in s.paths:
        ds = pydicom.dcmread(p)
        markers = plant_phi(ds)
        ds.save_as(p)
    parsed = scan([(p.name, p) for p in s.paths], tmp_path).series[0]
    exposed = repr((parsed.meta, parsed.name, parsed.warnings, parsed.volume.meta,
                    parsed.patient_key, parsed.study_uid_pseudo, parsed.series_uid_pseudo,
                    parsed.frame_of_reference_uid_pseudo, parsed.sop_instance_uids_pseudo))
    assert [m for m in markers if m in exposed] == []


@pytest.mark.realdata
def test_real_series_with_planted_phi(tmp_path: Path) -> None:
    try:
        paths, markers = copy_real_series_with_phi(tmp_path / "real", limit=6)
    except FileNotFoundError:
        pytest.skip("real data absent: ../shared/data/chest-ct-dicom-series not found")
    parsed = scan([(p.name, p) for p in paths], tmp_path).series[0]
    assert parsed.volume.shape == (6, 512, 512)
    exposed = repr((parsed.meta, parsed.name, parsed.warnings, parsed.volume.meta))
    assert [m for m in markers if m in exposed] == []
    assert parsed.meta["Manufacturer"] == "Philips"


def test_archive_nested_too_deep_is_refused(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "s", shape=(2, 4, 4))
    with zipfile.ZipFile(tmp_path / "inner.zip", "w") as zf:
        zf.write(s.paths[0], "x.dcm")
    with zipfile.ZipFile(tmp_path / "outer.zip", "w") as zf:
        zf.write(tmp_path / "inner.zip", "inner.zip")
    result = scan([("outer.zip", tmp_path / "outer.zip")], tmp_path, max_archive_depth=1)
    assert result.refused[0].name == "outer.zip/inner.zip"
    assert "nested" in result.refused[0].reason


@pytest.mark.realdata
def test_real_ny_sbu_slices_link_prior_and_current_by_patient(ny_sbu_dir: Path,
                                                              tmp_path: Path) -> None:
    files = [(p.relative_to(ny_sbu_dir).as_posix(), p) for p in sorted(ny_sbu_dir.rglob("*.dcm"))]
    result = scan(files, tmp_path)
    assert not result.refused and len(result.series) == 12
    by_patient: dict[str, set[str]] = {}
    for s in result.series:
        folder = s.source_names[0].split("/")[0]
        by_patient.setdefault(s.patient_key, set()).add(folder)
        assert folder not in s.name and folder not in repr(s.meta)  # the ID is PHI
        assert s.slice_count == 1 and s.volume.shape[0] == 1
    assert len(by_patient) == 6 and all(len(v) == 1 for v in by_patient.values())
    assert any("SeriesDescription" in s.meta for s in result.series)


def test_multiframe_upload_lists_its_file_once(tmp_path: Path) -> None:
    s = make_ct_series(tmp_path / "c", shape=(4, 6, 6))
    mf = make_multiframe_ct(s, tmp_path / "mf.dcm")
    parsed = scan([("up/mf.dcm", mf)], tmp_path).series[0]
    assert parsed.source_names == ["up/mf.dcm"]
    assert parsed.slice_count == 4 and len(set(parsed.sop_instance_uids_pseudo)) == 4
    np.testing.assert_array_equal(parsed.volume.array, s.hu)
