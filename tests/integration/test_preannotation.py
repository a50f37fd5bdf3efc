"""AI pre-annotation: the ai-segment job stores an `ai` version made by the shipped model, and
runs by itself after import when the project asks for it."""
from __future__ import annotations


import numpy as np

from tests.dicom_factory import make_ct_series
from tests.helpers import wait_job


def test_auto_pre_annotation_after_import(admin_api, tmp_path):
    p = admin_api.post("/api/projects", json={"name": "auto"}).json()
    r = admin_api.client.patch(f"/api/projects/{p['id']}",
                               json={"settings": {"auto_segment_on_import": True}},
                               headers={"X-CSRF-Token": admin_api.client.cookies["lunglab_csrf"]})
    assert r.status_code == 200 and r.json()["settings"]["auto_segment_on_import"] is True
    make_ct_series(tmp_path / "s", shape=(3, 64, 64))
    files = [("files", (f.name, f.read_bytes(), "application/dicom"))
             for f in sorted((tmp_path / "s").glob("*"))]
    (res,) = admin_api.post(f"/api/projects/{p['id']}/import", files=files).json()["results"]
    assert res["status"] == "imported"
    sid = res["study_id"]
    jobs = admin_api.get(f"/api/jobs?study_id={sid}").json()["data"]
    assert [j["kind"] for j in jobs] == ["ai-segment"]
    job = wait_job(admin_api, jobs[0]["id"], timeout=300, poll=0.3)
    assert job["state"] == "succeeded", admin_api.get(f"/api/jobs/{job['id']}/log").text
    (version,) = admin_api.get(f"/api/studies/{sid}/versions").json()["data"]
    assert version["kind"] == "ai" and version["author"] is None
    assert version["model_name"] and version["model_name"] == job["result"]["model"]["model"]
    study = admin_api.get(f"/api/studies/{sid}").json()
    assert study["ai_status"] == "done"
    summary = study["ai_summary"]
    assert summary["version_id"] == version["id"]
    assert {"lung_ml", "ggo_ml", "consolidation_ml", "involvement_pct"} <= set(summary)
    voxels = sum(version["voxel_counts"].values())
    assert summary["lung_ml"] == __import__("pytest").approx(
        voxels * np.prod(study["spacing"]) / 1000, rel=1e-3, abs=1e-3)


def test_no_auto_job_without_setting(admin_api, tmp_path):
    p = admin_api.post("/api/projects", json={"name": "manual"}).json()
    make_ct_series(tmp_path / "s", shape=(2, 16, 16))
    files = [("files", (f.name, f.read_bytes(), "application/dicom"))
             for f in sorted((tmp_path / "s").glob("*"))]
    (res,) = admin_api.post(f"/api/projects/{p['id']}/import", files=files).json()["results"]
    assert admin_api.get(f"/api/jobs?study_id={res['study_id']}").json()["count"] == 0
    assert admin_api.get(f"/api/studies/{res['study_id']}").json()["ai_status"] == "none"
