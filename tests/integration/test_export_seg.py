"""DICOM SEG and CT DICOM exports through the API: voxel-exact round trips, geometry, access."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.helpers import add_study, raw_labels

SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"


def _labels(shape: tuple[int, int, int]) -> np.ndarray:
    lab = np.zeros(shape, np.uint8)
    lab[:, 6:26, 5:18] = 1
    lab[:, 6:26, 22:35] = 1
    lab[1:4, 10:16, 7:12] = 2
    lab[2, 18:22, 25:30] = 3
    lab[3, 8:10, 24:27] = 2
    lab[5] = 0  # an empty slice: SEG omits its frames, the round trip must restore zeros
    return lab


@pytest.fixture
def labelled(app, admin_api):  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "P", "description": ""}).json()["id"]
    sid = add_study(app, pid)
    lab = _labels((6, 32, 40))
    r = admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(lab)},
                       data={"format": "raw", "message": "reader"})
    assert r.status_code == 201, r.text
    return pid, sid, r.json()["id"], lab


def _study(admin_api, sid: int) -> dict:  # type: ignore[no-untyped-def]
    return admin_api.get(f"/api/studies/{sid}").json()


def _pydicom_labels(seg: pydicom.Dataset, ct_uids: list[str], shape: tuple) -> np.ndarray:
    """Rebuild the label map from the SEG with pydicom only (frames, segment numbers, sources).

    Segment 1 is the whole lung (labels 1-3); the lesion segments 2 and 3 lie inside it and
    are painted over it."""
    frames = seg.pixel_array
    if frames.ndim == 2:
        frames = frames[None]
    out = np.zeros(shape, np.uint8)
    index = {uid: k for k, uid in enumerate(ct_uids)}
    lung = np.zeros(shape, bool)
    items = list(enumerate(seg.PerFrameFunctionalGroupsSequence))
    number_of = [int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
                 for _, item in items]
    for f, item in sorted(items, key=lambda fi: number_of[fi[0]]):
        number = number_of[f]
        src = item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        k = index[src]
        if number == 1:
            lung[k] |= frames[f] > 0
        else:
            assert lung[k][frames[f] > 0].all(), "a lesion outside the lung segment"
            assert not (out[k][frames[f] > 0] > 1).any(), "lesion segments overlap"
        out[k][frames[f] > 0] = number
    return out


def test_seg_round_trip_highdicom_and_pydicom(labelled, admin_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lunglab.io.export.ct import slice_uids
    from lunglab.io.export.seg import read_seg_labels

    _, sid, vid, lab = labelled
    st = _study(admin_api, sid)
    r = admin_api.get(f"/api/exports/versions/{vid}/seg.dcm")
    assert r.status_code == 200, r.text
    path = tmp_path / "seg.dcm"
    path.write_bytes(r.content)
    uids = slice_uids(_series_uid(admin_api, sid), lab.shape[0])
    assert np.array_equal(read_seg_labels(path, uids), lab)  # highdicom
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == SEG_STORAGE and ds.Modality == "SEG"
    assert np.array_equal(_pydicom_labels(ds, uids, lab.shape), lab)  # pydicom only
    assert [s.SegmentLabel for s in ds.SegmentSequence] == [
        "Lung", "Ground-glass opacity", "Consolidation"]
    assert ds.PatientID == st["patient_key"] and ds.PatientIdentityRemoved == "YES"
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == _series_uid(admin_api, sid)
    again = admin_api.get(f"/api/exports/versions/{vid}/seg.dcm").content
    assert pydicom.dcmread(io.BytesIO(again)).SOPInstanceUID == ds.SOPInstanceUID  # stable


def _series_uid(admin_api, sid: int) -> str:  # type: ignore[no-untyped-def]
    """The study's pseudonymous series UID, as carried by the exported CT."""
    z = zipfile.ZipFile(io.BytesIO(admin_api.get(f"/api/exports/studies/{sid}/dicom.zip").content))
    first = sorted(n for n in z.namelist() if n.startswith("CT/"))[0]
    return str(pydicom.dcmread(io.BytesIO(z.read(first))).SeriesInstanceUID)


def test_ct_dicom_series_keeps_voxels_and_geometry(labelled, admin_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import SimpleITK as sitk

    _, sid, vid, lab = labelled
    st = _study(admin_api, sid)
    r = admin_api.get(f"/api/exports/studies/{sid}/dicom.zip", params={"seg_version_id": vid})
    assert r.status_code == 200, r.text
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(tmp_path)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(tmp_path / "CT")))
    img = reader.Execute()
    vol = admin_api.get(f"/api/exports/studies/{sid}/ct.nii.gz")
    assert vol.status_code == 200
    (tmp_path / "ct.nii.gz").write_bytes(vol.content)
    stored = sitk.ReadImage(str(tmp_path / "ct.nii.gz"))
    assert np.array_equal(sitk.GetArrayFromImage(img), sitk.GetArrayFromImage(stored))
    assert np.allclose(img.GetSpacing(), st["spacing"])
    assert np.allclose(img.GetOrigin(), st["origin"])
    assert np.allclose(img.GetDirection(), st["direction"])
    ct = [pydicom.dcmread(p) for p in sorted((tmp_path / "CT").iterdir())]
    seg = pydicom.dcmread(next((tmp_path / "SEG").iterdir()))
    referenced = seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence
    refs = {i.ReferencedSOPInstanceUID for i in referenced}
    assert refs == {d.SOPInstanceUID for d in ct}
    assert {d.StudyInstanceUID for d in ct} == {seg.StudyInstanceUID}
    assert all(d.PatientID == st["patient_key"] and not d.StudyDate for d in ct)
    labels = admin_api.get(f"/api/exports/versions/{vid}/labels.nii.gz")
    (tmp_path / "l.nii.gz").write_bytes(labels.content)
    assert np.array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "l.nii.gz"))), lab)


def test_only_project_admins_export_and_every_export_is_audited(  # type: ignore[no-untyped-def]
        labelled, admin_api, make_user, login) -> None:
    pid, sid, vid, _ = labelled
    make_user("anna")
    make_user("eve")
    admin_api.post(f"/api/projects/{pid}/members", json={"username": "anna", "role": "reviewer"})
    anna, eve = login("anna"), login("eve")
    urls = [f"/api/exports/versions/{vid}/seg.dcm", f"/api/exports/versions/{vid}/labels.nii.gz",
            f"/api/exports/studies/{sid}/ct.nii.gz", f"/api/exports/studies/{sid}/dicom.zip",
            f"/api/studies/{sid}/report.pdf", f"/api/projects/{pid}/summary.csv"]
    for url in urls:
        assert anna.get(url).status_code == 403, url
        assert eve.get(url).status_code == 404, url
    assert anna.post(f"/api/projects/{pid}/exports/dataset").status_code == 403
    assert anna.get(f"/api/studies/{sid}/quantification").status_code == 200  # reading is fine
    before = admin_api.get("/api/audit", params={"limit": 500}).json()["data"]
    assert not [e for e in before if e["action"].startswith("export.")]
    assert admin_api.get(f"/api/exports/versions/{vid}/seg.dcm").status_code == 200
    assert admin_api.get(f"/api/exports/studies/{sid}/ct.nii.gz").status_code == 200
    events = admin_api.get("/api/audit", params={"limit": 500}).json()["data"]
    actions = [(e["action"], e["actor"]) for e in events if e["action"].startswith("export.")]
    assert ("export.seg", "admin") in actions and ("export.ct_nifti", "admin") in actions
    assert admin_api.get("/api/exports/versions/999999/seg.dcm").status_code == 404


def test_seg_round_trip_on_the_real_series(tmp_path: Path) -> None:
    """The real 512x512x141 series: CT re-export keeps voxels and geometry; SEG voxel-exact."""
    import SimpleITK as sitk

    from lunglab.io.export.ct import ct_datasets, slice_uids, write_ct_series
    from lunglab.io.load import load_ct
    from lunglab.io.export.seg import build_seg, read_seg_labels, write_seg
    from tests.conftest import need_real_series

    volume = load_ct(need_real_series())
    hu = volume.array
    lab = np.zeros(hu.shape, np.uint8)
    lab[(hu < -500) & (hu > -950)] = 1
    lab[(hu > -700) & (hu <= -500)] = 2
    lab[(hu > -100) & (hu < 0)] = 3
    lab[:10] = 0
    ct = ct_datasets(volume, study_uid="2.25.71", series_uid="2.25.72", patient_key="k" * 32)
    write_ct_series(ct, tmp_path / "ct")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(tmp_path / "ct")))
    img = reader.Execute()
    assert np.array_equal(sitk.GetArrayFromImage(img), hu)
    assert np.allclose(img.GetOrigin(), volume.origin, atol=1e-3)
    assert np.allclose(img.GetSpacing(), volume.spacing, atol=1e-4)
    path = write_seg(build_seg(lab, ct, version_key="real", kind="imported"), tmp_path / "s.dcm")
    uids = slice_uids("2.25.72", hu.shape[0])
    assert np.array_equal(read_seg_labels(path, uids), lab)
    assert np.array_equal(_pydicom_labels(pydicom.dcmread(path), uids, lab.shape), lab)
