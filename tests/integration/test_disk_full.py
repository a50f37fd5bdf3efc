"""A full disk ends in a clear 507 answer; no half-written file, study or version is left.

The data folder is a small tmpfs (needs root, as in CI); the database is elsewhere.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest

from tests.dicom_factory import make_ct_series
from tests.helpers import add_study, raw_labels


@pytest.fixture
def small_disk(tmp_path):  # type: ignore[no-untyped-def]
    mnt = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to simulate a full disk: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path, leave: int) -> None:
    st = os.statvfs(mnt)
    free = st.f_bavail * st.f_frsize
    with open(mnt / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


@pytest.fixture
def full_app(small_disk, database_url):  # type: ignore[no-untyped-def]
    from lunglab.api.app import create_app
    from lunglab.core.settings import Settings

    settings = Settings(data_dir=small_disk / "data", database_url=database_url)
    return create_app(settings, web_dist=Path("/nonexistent"))


def _client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from lunglab.db.session import session_scope
    from lunglab.services.access import accounts
    from tests.conftest import PASSWORD, Api

    with session_scope(app.state.settings.resolved_database_url) as db:
        accounts.create_user(db, "admin", PASSWORD, is_admin=True)
    client = TestClient(app)
    client.__enter__()
    client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
    return Api(client, "admin")


def test_store_full_when_a_label_map_file_is_first_written(full_app, small_disk):
    """Label maps live in the database (elsewhere here), so the save works; the NIfTI the
    download writes to the full store fails cleanly and is written once space is back."""
    api = _client(full_app)
    pid = api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(full_app, pid, shape=(8, 128, 128))
    _fill(small_disk, leave=4096)
    labels = np.random.default_rng(0).integers(0, 4, (8, 128, 128), dtype=np.uint8)
    r = api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(labels)},
                 data={"format": "raw"})
    assert r.status_code == 201, r.text
    vid = r.json()["id"]
    r = api.get(f"/api/versions/{vid}/labels.nii.gz")
    assert r.status_code == 507, r.text
    assert "storage is full" in r.json()["detail"]
    store = full_app.state.settings.data_dir / "store"
    assert [p.name for p in store.rglob("*") if "labelmaps" in p.parts and p.is_file()] == []
    assert list(store.rglob(".tmp-*")) == []
    (small_disk / "filler").unlink()
    r = api.get(f"/api/versions/{vid}/labels.nii.gz")
    assert r.status_code == 200  # the server is fine once space is back
    import gzip

    import nibabel as nib

    img = nib.Nifti1Image.from_bytes(gzip.decompress(r.content))
    assert np.array_equal(np.transpose(np.asarray(img.dataobj), (2, 1, 0)), labels)


def test_database_disk_full_during_label_map_save(small_disk):
    """SQLite on the full disk: the save is refused with 507 and nothing is recorded.

    (PostgreSQL's own disk cannot be filled from a test; its disk_full error, SQLSTATE 53100,
    takes the same path: ``api.app.database_full``.)
    """
    from lunglab.api.app import create_app
    from lunglab.core.settings import Settings

    settings = Settings(data_dir=small_disk / "data",
                        database_url=f"sqlite:///{small_disk}/data/lunglab.db")
    app = create_app(settings, web_dist=Path("/nonexistent"))
    api = _client(app)
    pid = api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=(8, 128, 128))
    labels = np.random.default_rng(0).integers(0, 4, (8, 128, 128), dtype=np.uint8)
    _fill(small_disk, leave=4096)
    r = api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(labels)},
                 data={"format": "raw"})
    assert r.status_code == 507, r.text
    assert "storage is full" in r.json()["detail"]
    (small_disk / "filler").unlink()
    assert api.get(f"/api/studies/{sid}/versions").json()["count"] == 0
    r = api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(labels)},
                 data={"format": "raw"})
    assert r.status_code == 201, r.text  # works again once space is back


def test_disk_full_during_import(full_app, small_disk, tmp_path):
    api = _client(full_app)
    pid = api.post("/api/projects", json={"name": "p"}).json()["id"]
    make_ct_series(tmp_path / "s", shape=(12, 128, 128))
    files = [("files", (f.name, f.read_bytes(), "application/dicom"))
             for f in sorted((tmp_path / "s").glob("*"))]
    _fill(small_disk, leave=100_000)
    r = api.post(f"/api/projects/{pid}/import", files=files)
    assert r.status_code == 507, r.text
    assert api.get(f"/api/projects/{pid}/studies").json()["count"] == 0
    data = full_app.state.settings.data_dir
    assert [p for p in (data / "store").rglob("*") if p.is_file()] == []
    assert list((data / "tmp").glob("*")) == []
