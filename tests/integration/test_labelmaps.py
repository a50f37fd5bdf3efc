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
                       files={"file": ("l.nii.gz", gzip.compress(img.to_bytes()),
                                       "application/gzip")},
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


def _save_slices(api, sid, planes, zs, base):  # type: ignore[no-untyped-def]
    return api.post(f"/api/studies/{sid}/versions",
                    files={"file": ("s.raw.gz", gzip.compress(np.ascontiguousarray(
                        planes, np.uint8).tobytes()), "application/gzip")},
                    data={"base_version_id": "" if base is None else str(base),
                          "format": "slices", "slices": ",".join(map(str, zs))})


def _slice_files(settings) -> set:  # type: ignore[no-untyped-def]
    """The stored slices (study, digest) of every label map."""
    from sqlalchemy import select

    from lunglab.db.models import LabelMapSlice
    from lunglab.db.session import session_scope

    with session_scope(settings.resolved_database_url) as db:
        return set(db.execute(select(LabelMapSlice.study_id, LabelMapSlice.digest)).tuples())


def test_slice_edit_changes_only_those_slices(app, admin_api, settings):
    _, sid = _setup(app, admin_api)
    rng = np.random.default_rng(3)
    first = rng.integers(0, 4, SHAPE, dtype=np.uint8)
    v1 = _save(admin_api, sid, first).json()
    before = _slice_files(settings)
    assert len(before) == SHAPE[0]  # one stored row per distinct slice
    planes = rng.integers(0, 4, (2, *SHAPE[1:]), dtype=np.uint8)
    r = _save_slices(admin_api, sid, planes, [3, 1], v1["id"])
    assert r.status_code == 201, r.text
    v2 = r.json()
    expect = first.copy()
    expect[3], expect[1] = planes[0], planes[1]
    assert v2["parent_id"] == v1["id"]
    assert np.array_equal(_fetch(admin_api, v2["id"]), expect)
    assert np.array_equal(_fetch(admin_api, v1["id"]), first)  # the base is untouched
    assert v2["voxel_counts"] == {str(k): int((expect == k).sum()) for k in (1, 2, 3)}
    assert len(_slice_files(settings) - before) == 2  # only the two new slices were written
    # putting a slice back as it was: the digest equals the first version's for equal voxels
    r = _save_slices(admin_api, sid, first[[1, 3]], [1, 3], v2["id"])
    assert r.status_code == 201, r.text
    assert r.json()["checksum"] == v1["checksum"] and r.json()["voxel_counts"] == v1["voxel_counts"]
    assert len(_slice_files(settings) - before) == 2


def test_bad_slice_edits_refused_and_nothing_recorded(app, admin_api, settings):
    _, sid = _setup(app, admin_api)
    v1 = _save(admin_api, sid, np.zeros(SHAPE, np.uint8)).json()["id"]
    files = _slice_files(settings)
    plane = np.zeros((1, *SHAPE[1:]), np.uint8)
    cases = [
        (_save_slices(admin_api, sid, plane, [0], None), "needs the version it was made on"),
        (_save_slices(admin_api, sid, plane, [SHAPE[0]], v1), "outside 0..3"),
        (_save_slices(admin_api, sid, np.zeros((2, *SHAPE[1:]), np.uint8), [1, 1], v1),
         "repeated"),
        (_save_slices(admin_api, sid, plane, [0, 1], v1), "expected"),
        (_save_slices(admin_api, sid, plane + 7, [0], v1), "unknown label values [7]"),
        (_save_slices(admin_api, sid, plane, ["x"], v1), "comma-separated"),
    ]
    for r, words in cases:
        assert r.status_code == 422, r.text
        assert words in r.json()["detail"], r.json()
    assert admin_api.get(f"/api/studies/{sid}/versions").json()["count"] == 1
    assert _slice_files(settings) == files


def test_stale_slice_edit_is_409(app, admin_api):
    _, sid = _setup(app, admin_api)
    v1 = _save(admin_api, sid, np.zeros(SHAPE, np.uint8)).json()["id"]
    v2 = _save(admin_api, sid, np.ones(SHAPE, np.uint8), base=v1).json()["id"]
    r = _save_slices(admin_api, sid, np.full((1, *SHAPE[1:]), 2, np.uint8), [0], v1)
    assert r.status_code == 409 and r.json()["detail"]["latest_version_id"] == v2
    assert admin_api.get(f"/api/studies/{sid}/versions").json()["count"] == 2
    assert np.array_equal(_fetch(admin_api, v2), np.ones(SHAPE, np.uint8))


def test_slice_edit_on_a_version_stored_whole(app, admin_api):
    """Versions saved before slice storage (one NIfTI, no manifest) stay readable and editable."""
    from lunglab.db.models import LabelMapVersion, Study
    from lunglab.db.session import session_scope
    from lunglab.services.labels.formats import encode_labelmap

    _, sid = _setup(app, admin_api)
    old = np.random.default_rng(5).integers(0, 4, SHAPE, dtype=np.uint8)
    store = app.state.store
    with session_scope(app.state.settings.resolved_database_url) as db:
        study = db.get(Study, sid)
        key = f"labelmaps/{sid}/legacy.nii.gz"
        digest = store.put_bytes(key, encode_labelmap(old, study))
        v = LabelMapVersion(study_id=sid, kind="human", file_key=key, checksum=digest,
                            voxel_counts={str(k): int((old == k).sum()) for k in (1, 2, 3)})
        db.add(v)
        db.commit()
        legacy = v.id
    assert np.array_equal(_fetch(admin_api, legacy), old)
    plane = np.full((1, *SHAPE[1:]), 3, np.uint8)
    r = _save_slices(admin_api, sid, plane, [2], legacy)
    assert r.status_code == 201, r.text
    expect = old.copy()
    expect[2] = 3
    assert np.array_equal(_fetch(admin_api, r.json()["id"]), expect)
    assert r.json()["voxel_counts"] == {str(k): int((expect == k).sum()) for k in (1, 2, 3)}


def test_empty_start_project_hides_the_ai_proposal_from_readers(app, admin_api, make_user,
                                                                  login):
    from lunglab.db.session import session_scope
    from lunglab.services.labels import labelmaps

    pid, sid = _setup(app, admin_api)
    with session_scope(app.state.settings.resolved_database_url) as db:
        ai = labelmaps.save_version(db, app.state.store, None, sid, np.ones(SHAPE, np.uint8),
                                    base_version_id=None, kind="ai", model_name="m").id
    make_user("r1")
    admin_api.post(f"/api/projects/{pid}/members", json={"username": "r1", "role": "annotator"})
    admin_api.post(f"/api/projects/{pid}/assignments", json={"study_id": sid, "username": "r1"})
    r1 = login("r1")
    # project default: readers start from the AI proposal and see it
    assert r1.get(f"/api/studies/{sid}").json()["latest_version_id"] == ai
    assert r1.get(f"/api/versions/{ai}/labels.nii.gz").status_code == 200
    r = admin_api.patch(f"/api/projects/{pid}", json={"settings": {"reader_start": "empty"}})
    assert r.status_code == 200, r.text
    assert r1.get(f"/api/studies/{sid}").json()["latest_version_id"] is None
    assert r1.get(f"/api/projects/{pid}/studies").json()["data"][0]["latest_version_id"] is None
    assert r1.get(f"/api/studies/{sid}/versions").json()["count"] == 0
    assert r1.get(f"/api/versions/{ai}/labels.nii.gz").status_code == 404
    # saving on top of the hidden proposal is refused; starting empty is not stale
    assert _save(r1, sid, np.zeros(SHAPE, np.uint8), base=ai).status_code == 404
    assert _save(r1, sid, np.zeros(SHAPE, np.uint8)).status_code == 201
    # reviewers and admins still see it
    assert admin_api.get(f"/api/studies/{sid}/versions").json()["count"] == 2
