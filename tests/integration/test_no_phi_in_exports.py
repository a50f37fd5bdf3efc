"""No planted PHI in anything LungLab exports: DICOM, SEG, NIfTI, dataset, report, CSV."""
from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np

from tests.conftest import need_real_series
from tests.dicom_factory import copy_real_series_with_phi
from tests.helpers import raw_labels


def _expand(blob: bytes) -> list[bytes]:
    """The bytes themselves plus, recursively, the members of zips and gzip streams."""
    out = [blob]
    if blob[:2] == b"\x1f\x8b":
        out += _expand(gzip.decompress(blob))
    elif blob[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            for name in zf.namelist():
                out.append(name.encode())
                out += _expand(zf.read(name))
    return out


def test_exports_carry_no_planted_phi(admin_api, tmp_path):
    need_real_series()
    paths, markers = copy_real_series_with_phi(tmp_path / "phi", limit=12)
    pid = admin_api.post("/api/projects", json={"name": "phi-export"}).json()["id"]
    files = [("files", (p.name, p.read_bytes(), "application/dicom")) for p in paths]
    (res,) = admin_api.post(f"/api/projects/{pid}/import", files=files).json()["results"]
    assert res["status"] == "imported", res
    sid = res["study_id"]
    shape = tuple(admin_api.get(f"/api/studies/{sid}").json()["shape"])
    labels = np.zeros(shape, np.uint8)
    labels[:, 150:350, 100:220] = 1
    labels[3:6, 200:240, 130:170] = 2
    labels[6:8, 250:270, 300:330] = 3
    v = admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(labels)},
                       data={"format": "raw"})
    assert v.status_code == 201, v.text
    vid = v.json()["id"]
    gets = [f"/api/exports/versions/{vid}/labels.nii.gz", f"/api/exports/versions/{vid}/seg.dcm",
            f"/api/exports/studies/{sid}/ct.nii.gz", f"/api/exports/studies/{sid}/dicom.zip",
            f"/api/studies/{sid}/report.html", f"/api/studies/{sid}/quantification",
            f"/api/projects/{pid}/summary.csv", "/api/audit"]
    blobs: list[bytes] = []
    for url in gets:
        r = admin_api.get(url)
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
        blobs += _expand(r.content)
        if url.endswith("dicom.zip"):  # the de-identified series itself, one file per slice
            assert sum(b[128:132] == b"DICM" for b in _expand(r.content)) >= 12
    r = admin_api.post(f"/api/projects/{pid}/exports/dataset")
    assert r.status_code == 200, r.text[:200]
    blobs += _expand(r.content)
    leaks = sorted({m for m in markers for b in blobs if m.encode() in b})
    assert leaks == []
