"""Ingest through the API: real series geometry, PHI never stored, bad inputs store nothing."""
from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from tests.conftest import need_real_series
from tests.dicom_factory import copy_real_series_with_phi, make_ct_series


def _files(paths: list[Path], root: Path | None = None):  # type: ignore[no-untyped-def]
    return [("files", (str(p.relative_to(root)) if root else p.name, p.read_bytes(),
                       "application/dicom")) for p in paths]


def _project(api) -> int:  # type: ignore[no-untyped-def]
    return api.post("/api/projects", json={"name": "ingest"}).json()["id"]


def _stored_files(app) -> list[Path]:  # type: ignore[no-untyped-def]
    root = app.state.settings.data_dir / "store"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _study_count(app) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func

    from lunglab.db.models import Study
    from lunglab.db.session import session_scope

    with session_scope(app.state.settings.resolved_database_url) as db:
        return int(db.scalar(select(func.count()).select_from(Study)) or 0)


def _db_text(app) -> str:  # type: ignore[no-untyped-def]
    from lunglab.db.session import get_engine

    engine = get_engine(app.state.settings.resolved_database_url)
    md = MetaData()
    md.reflect(engine)
    out = []
    with engine.connect() as conn:
        for table in md.sorted_tables:
            for row in conn.execute(table.select()):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def _data_dir_bytes(app) -> bytes:  # type: ignore[no-untyped-def]
    blobs = []
    for p in Path(app.state.settings.data_dir).rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            blobs.append(data)
            if p.name.endswith(".gz"):
                blobs.append(gzip.decompress(data))
    return b"\n".join(blobs)


def test_real_series_imports_with_geometry_and_duplicate(app, admin_api):
    series = need_real_series()
    pid = _project(admin_api)
    files = sorted(series.glob("*.dcm"))
    r = admin_api.post(f"/api/projects/{pid}/import", files=_files(files))
    assert r.status_code == 200, r.text
    (res,) = r.json()["results"]
    assert res["status"] == "imported", res
    s = admin_api.get(f"/api/studies/{res['study_id']}").json()
    assert s["shape"] == [141, 512, 512]
    assert s["spacing"][0] == pytest.approx(0.977, abs=1e-3)
    assert s["spacing"][1] == pytest.approx(0.977, abs=1e-3)
    assert s["spacing"][2] == pytest.approx(2.0, abs=1e-3)
    assert s["modality"] == "CT"
    again = admin_api.post(f"/api/projects/{pid}/import", files=_files(files[:5] + files[5:]))
    assert again.json()["results"][0]["status"] == "duplicate"
    assert _study_count(app) == 1


def test_planted_phi_leaves_no_trace(app, admin_api, tmp_path, caplog):
    need_real_series()
    paths, markers = copy_real_series_with_phi(tmp_path / "phi")
    assert len(paths) == 141 and len(markers) > 50
    caplog.clear()  # what the test itself logged while planting; the server's logs start here
    caplog.set_level("DEBUG")
    pid = _project(admin_api)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in paths:
            zf.write(p, f"export/{p.name}")
    r = admin_api.post(f"/api/projects/{pid}/import",
                       files=[("files", ("study.zip", buf.getvalue(), "application/zip"))])
    assert r.status_code == 200
    (res,) = r.json()["results"]
    assert res["status"] == "imported", res
    sid = res["study_id"]
    # every API answer about the study, the stored files, the database and the logs
    texts = [admin_api.get(f"/api/studies/{sid}").text,
             admin_api.get(f"/api/projects/{pid}/studies").text,
             admin_api.get("/api/audit").text, _db_text(app), caplog.text, r.text]
    volume = admin_api.get(f"/api/studies/{sid}/volume.nii.gz").content
    blob = _data_dir_bytes(app) + gzip.decompress(volume)
    where = {m: [i for i, t in enumerate(texts) if m in t]
             + (["files"] if m.encode() in blob else [])
             for m in markers}
    leaks = {m: w for m, w in where.items() if w}
    assert leaks == {}


@pytest.mark.parametrize("case", ["truncated", "not_dicom", "non_ct", "inconsistent_spacing",
                                  "zip_slip", "zip_absolute", "zip_bomb", "broken_nifti"])
def test_bad_input_is_refused_and_nothing_stored(app, admin_api, tmp_path, case):
    pid = _project(admin_api)
    parts = _bad_input(case, tmp_path)
    r = admin_api.post(f"/api/projects/{pid}/import", files=parts)
    if r.status_code == 200:
        results = r.json()["results"]
        assert results and all(x["status"] == "refused" for x in results), results
        reason = " ".join(f"{x['name']}: {x['reason']}" for x in results)
    else:
        assert r.status_code in (400, 413, 422), r.text
        reason = r.json()["detail"]
    assert EXPECTED[case] in reason.lower(), reason
    assert _study_count(app) == 0
    assert _stored_files(app) == []
    assert list((app.state.settings.data_dir / "tmp").glob("*")) == []


EXPECTED = {
    "truncated": "slice-0003.dcm",
    "not_dicom": "notes.txt",
    "non_ct": "mr",
    "inconsistent_spacing": "spacing",
    "zip_slip": "..",
    "zip_absolute": "absolute",
    "zip_bomb": "bomb.zip",
    "broken_nifti": "scan.nii",
}


def _bad_input(case: str, tmp: Path):  # type: ignore[no-untyped-def]
    if case in ("truncated", "inconsistent_spacing", "non_ct"):
        kw = {"non_ct": {"modality": "MR", "sop_class": "1.2.840.10008.5.1.4.1.1.4"},
              "inconsistent_spacing": {"missing": (3,)}}.get(case, {})
        make_ct_series(tmp / "s", prefix="slice-", **kw)
        paths = sorted((tmp / "s").glob("*"))
        if case == "truncated":
            for p in paths:  # every slice but one is fine; the broken one sinks nothing else
                if p.name == "slice-0003.dcm":
                    p.write_bytes(p.read_bytes()[:300])
            paths = [p for p in paths if p.name == "slice-0003.dcm"]
        return _files(paths)
    if case == "not_dicom":
        return [("files", ("notes.txt", b"hello, not an image", "text/plain"))]
    buf = io.BytesIO()
    if case == "zip_slip":
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("../../evil.dcm", b"x" * 200)
        return [("files", ("slip.zip", buf.getvalue(), "application/zip"))]
    if case == "zip_absolute":
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(zipfile.ZipInfo("/etc/evil.dcm"), b"x" * 200)
        return [("files", ("abs.zip", buf.getvalue(), "application/zip"))]
    if case == "zip_bomb":
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("a.dcm", b"\0" * (50 * 1024 * 1024))
        return [("files", ("bomb.zip", buf.getvalue(), "application/zip"))]
    if case == "broken_nifti":
        import nibabel as nib
        import numpy as np

        data = bytearray(nib.Nifti1Image(np.zeros((8, 8, 4), np.int16), np.eye(4)).to_bytes())
        data[40:56] = b"\xff" * 16  # dims
        return [("files", ("scan.nii", bytes(data), "application/octet-stream"))]
    raise AssertionError(case)


def test_oversized_upload_refused_whole(app, admin_api):
    app.state.settings.max_upload_bytes = 1000
    pid = _project(admin_api)
    r = admin_api.post(f"/api/projects/{pid}/import",
                       files=[("files", ("big.dcm", b"x" * 5000, "application/dicom"))])
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    assert _stored_files(app) == []


def test_mixed_upload_imports_good_series_and_names_bad_file(app, admin_api, tmp_path):
    make_ct_series(tmp_path / "a", series_description="CHEST A")
    make_ct_series(tmp_path / "b", patient_id="OTHER", series_description="CHEST B")
    parts = _files(sorted((tmp_path / "a").glob("*")) + sorted((tmp_path / "b").glob("*")))
    parts.append(("files", ("junk.bin", b"\x00" * 10, "application/octet-stream")))
    pid = _project(admin_api)
    res = admin_api.post(f"/api/projects/{pid}/import", files=parts).json()["results"]
    statuses = sorted(r["status"] for r in res)
    assert statuses == ["imported", "imported", "refused"]
    bad = next(r for r in res if r["status"] == "refused")
    assert bad["name"] == "junk.bin" and "not a DICOM file" in bad["reason"]
    studies = admin_api.get(f"/api/projects/{pid}/studies").json()["data"]
    assert len({s["patient_key"] for s in studies}) == 2


def test_resumable_upload(app, admin_api, tmp_path):
    make_ct_series(tmp_path / "s", shape=(4, 16, 16))
    paths = sorted((tmp_path / "s").glob("*"))
    pid = _project(admin_api)
    up = admin_api.post(f"/api/projects/{pid}/uploads",
                        json={"files": [{"name": p.name, "size": p.stat().st_size}
                                        for p in paths]}).json()
    uid = up["upload_id"]
    for i, p in enumerate(paths):
        data = p.read_bytes()
        half = len(data) // 2
        r = admin_api.put(f"/api/uploads/{uid}/files/{i}?offset=0", content=data[:half])
        assert r.json()["received"] == half
        # a retried chunk at a wrong offset is refused and says where to resume
        bad = admin_api.put(f"/api/uploads/{uid}/files/{i}?offset=0", content=data[:half])
        assert bad.status_code == 409 and bad.json()["detail"]["received"] == half
        status = admin_api.get(f"/api/uploads/{uid}").json()
        assert status["files"][i]["received"] == half
        r = admin_api.put(f"/api/uploads/{uid}/files/{i}?offset={half}", content=data[half:])
        assert r.json()["received"] == len(data)
    res = admin_api.post(f"/api/uploads/{uid}/commit").json()["results"]
    assert [r["status"] for r in res] == ["imported"]
    assert not (app.state.settings.data_dir / "uploads" / uid).exists()


def test_incomplete_upload_cannot_commit(admin_api):
    pid = _project(admin_api)
    up = admin_api.post(f"/api/projects/{pid}/uploads",
                        json={"files": [{"name": "a.dcm", "size": 100}]}).json()
    r = admin_api.post(f"/api/uploads/{up['upload_id']}/commit")
    assert r.status_code == 409 and "0 of 100 bytes" in r.json()["detail"]["message"]


def test_nifti_import(app, admin_api, tmp_path):
    import nibabel as nib
    import numpy as np

    arr = np.full((20, 18, 3), -800, np.int16)
    aff = np.diag([0.7, 0.7, 5.0, 1.0])
    nib.save(nib.Nifti1Image(arr, aff), tmp_path / "case.nii.gz")
    pid = _project(admin_api)
    r = admin_api.post(f"/api/projects/{pid}/import", files=[
        ("files", ("case.nii.gz", (tmp_path / "case.nii.gz").read_bytes(), "application/gzip"))])
    (res,) = r.json()["results"]
    assert res["status"] == "imported", res
    s = admin_api.get(f"/api/studies/{res['study_id']}").json()
    assert s["shape"] == [3, 18, 20]
    assert s["spacing"] == pytest.approx([0.7, 0.7, 5.0])
