"""Versioned label maps: save, fetch, stale base (409), bad shape/labels, blinding."""
from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
from tests.helpers import add_study, raw_labels

SHAPE = (4, 24, 28)


def _setup(app, admin_api):  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    return pid, add_study(app, pid, shape=SHAPE)


def _save(api, sid, labels, base=None):  # type: ignore[no-untyped-def]
    return api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(labels)},
                    data={"base_version_id": "" if base is None else str(base), "format": "raw",
                          "message": "edit"})


def _fetch(api, vid) -> np.ndarray:  # type: ignore[no-untyped-def]
    r = api.get(f"/api/versions/{vid}/labels.nii.gz")
    assert r.status_code == 200
    data = np.asarray(nib.Nifti1Image.from_bytes(gzip.decompress(r.content)).dataobj)
    return np.transpose(data, (2, 1, 0))  # NIfTI x,y,z -> z,y,x


def test_save_and_read_back_voxel_exact(app, admin_api):
    _, sid = _setup(app, admin_api)
    labels = np.zeros(SHAPE, np.uint8)
    labels[1, 5:9, 6:12] = 1
    labels[2, 10, 3] = 3
    labels[3, 0, 0] = 2
    r = _save(admin_api, sid, labels)
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["kind"] == "human" and v["author"] == "admin" and v["parent_id"] is None
    assert v["voxel_counts"] == {"1": 24, "2": 1, "3": 1}
    assert abs(v["volumes_ml"]["1"] - 24 * 0.8 * 0.8 * 2.5 / 1000) < 1e-3
    assert np.array_equal(_fetch(admin_api, v["id"]), labels)


def test_nifti_upload_roundtrip(app, admin_api):
    _, sid = _setup(app, admin_api)
    labels = np.zeros(SHAPE, np.uint8)
    labels[0, 1:3, 2:5] = 2
    img = nib.Nifti1Image(np.transpose(labels, (2, 1, 0)).copy(), np.eye(4))
    r = admin_api.post(f"/api/studies/{sid}/versions",
                       files={"file": ("l.nii.gz", gzip.compress(img.to_bytes()), "application/gzip")},
                       data={"base_version_id": ""})
    assert r.status_code == 201, r.text
    assert np.array_equal(_fetch(admin_api, r.json()["id"]), labels)


def test_stale_base_is_409_and_nothing_lost(app, admin_api):
    _, sid = _setup(app, admin_api)
    a = np.zeros(SHAPE, np.uint8)
    a[0, 0, 0] = 1
    v1 = _save(admin_api, sid, a).json()["id"]
    b = a.copy()
    b[1, 1, 1] = 2
    v2 = _save(admin_api, sid, b, base=v1).json()["id"]
    c = a.copy()
    c[2, 2, 2] = 3
    r = _save(admin_api, sid, c, base=v1)  # v1 is no longer the newest
    assert r.status_code == 409
    assert r.json()["detail"]["latest_version_id"] == v2
    versions = admin_api.get(f"/api/studies/{sid}/versions").json()
    assert [v["id"] for v in versions["data"]] == [v2, v1]
    assert np.array_equal(_fetch(admin_api, v2), b)
    # starting empty while versions exist is also stale
    assert _save(admin_api, sid, c).status_code == 409
    # saving on top of the newest works and records the parent
    r = _save(admin_api, sid, c, base=v2)
    assert r.status_code == 201 and r.json()["parent_id"] == v2


def test_wrong_shape_and_unknown_labels_refused(app, admin_api):
    _, sid = _setup(app, admin_api)
    r = _save(admin_api, sid, np.zeros((4, 24, 27), np.uint8))
    assert r.status_code == 422 and "expected 2688" in r.json()["detail"]
    img = nib.Nifti1Image(np.zeros((27, 24, 4), np.uint8), np.eye(4))
    r = admin_api.post(f"/api/studies/{sid}/versions",
                       files={"file": ("w.nii", img.to_bytes(), "application/octet-stream")},
                       data={"base_version_id": ""})
    assert r.status_code == 422 and "does not match the study's (4, 24, 28)" in r.json()["detail"]
    bad = np.zeros(SHAPE, np.uint8)
    bad[0, 0, 0] = 7
    r = _save(admin_api, sid, bad)
    assert r.status_code == 422 and "unknown label values [7]" in r.json()["detail"]
    r = admin_api.post(f"/api/studies/{sid}/versions",
                       files={"file": ("x.nii.gz", b"not a nifti", "application/gzip")},
                       data={"base_version_id": ""})
    assert r.status_code == 422 and "x.nii.gz" in r.json()["detail"]
    assert admin_api.get(f"/api/studies/{sid}/versions").json()["count"] == 0
    files = list((app.state.settings.data_dir / "store").rglob("labelmaps/*/*"))
    assert files == []


def test_readers_are_blind_to_each_other(app, admin_api, make_user, login):
    pid, sid = _setup(app, admin_api)
    for name in ("r1", "r2"):
        make_user(name)
        admin_api.post(f"/api/projects/{pid}/members", json={"username": name,
                                                             "role": "annotator"})
        admin_api.post(f"/api/projects/{pid}/assignments", json={"study_id": sid,
                                                                 "username": name})
    r1, r2 = login("r1"), login("r2")
    lab = np.zeros(SHAPE, np.uint8)
    v1 = _save(r1, sid, lab).json()["id"]
    # r2 does not see r1's version, so starting empty is not stale for r2
    assert r2.get(f"/api/studies/{sid}/versions").json()["count"] == 0
    assert r2.get(f"/api/versions/{v1}/labels.nii.gz").status_code == 404
    v2 = _save(r2, sid, lab)
    assert v2.status_code == 201
    assert admin_api.get(f"/api/studies/{sid}/versions").json()["count"] == 2
