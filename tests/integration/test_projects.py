"""Projects, membership and the annotator visibility check."""
from __future__ import annotations

from tests.helpers import add_study


def test_project_has_default_label_schema(admin_api):
    p = admin_api.post("/api/projects", json={"name": "covid"}).json()
    assert [s["value"] for s in p["label_schema"]] == [1, 2, 3]
    assert p["label_schema"][1]["name"] == "ground-glass opacity"
    assert p["my_role"] == "admin"
    dup = admin_api.post("/api/projects", json={"name": "covid"})
    assert dup.status_code == 409


def test_annotator_sees_only_assigned_studies(app, admin_api, make_user, login):
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    s1 = add_study(app, pid, uid="2.25.11")
    s2 = add_study(app, pid, uid="2.25.12")
    make_user("ann")
    make_user("outsider")
    assert admin_api.post(f"/api/projects/{pid}/members",
                          json={"username": "ann", "role": "annotator"}).status_code == 201
    assert admin_api.post(f"/api/projects/{pid}/assignments",
                          json={"study_id": s1, "username": "ann"}).status_code == 201
    ann = login("ann")
    listed = ann.get(f"/api/projects/{pid}/studies").json()
    assert [s["id"] for s in listed["data"]] == [s1] and listed["count"] == 1
    assert ann.get(f"/api/studies/{s1}").status_code == 200
    assert ann.get(f"/api/studies/{s2}").status_code == 404
    assert ann.get(f"/api/studies/{s2}/volume.nii.gz").status_code == 404
    out = login("outsider")
    assert out.get(f"/api/projects/{pid}").status_code == 404
    assert out.get(f"/api/studies/{s1}").status_code == 404
    assert admin_api.get(f"/api/projects/{pid}/studies").json()["count"] == 2


def test_annotator_cannot_assign_or_add_members(app, admin_api, make_user, login):
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid)
    make_user("ann")
    admin_api.post(f"/api/projects/{pid}/members", json={"username": "ann", "role": "annotator"})
    ann = login("ann")
    r = ann.post(f"/api/projects/{pid}/assignments", json={"study_id": sid, "username": "ann"})
    assert r.status_code == 403
    r = ann.post(f"/api/projects/{pid}/members", json={"username": "ann", "role": "admin"})
    assert r.status_code == 403


def test_study_geometry_and_volume_download(app, admin_api):
    import gzip

    import nibabel as nib
    import numpy as np

    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=(5, 30, 36))
    s = admin_api.get(f"/api/studies/{sid}").json()
    assert s["shape"] == [5, 30, 36] and s["slice_count"] == 5
    assert s["spacing"] == [0.8, 0.8, 2.5]
    r = admin_api.get(f"/api/studies/{sid}/volume.nii.gz")
    assert r.status_code == 200
    img = nib.Nifti1Image.from_bytes(gzip.decompress(r.content))
    assert img.shape == (36, 30, 5)  # NIfTI is x, y, z
    assert np.asarray(img.dataobj).dtype == np.int16
