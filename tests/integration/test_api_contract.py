"""What the API's schema promises, checked by hand on the cases independent tools found:
ids bounded (422, never 500), booleans never numbers, 422 bodies as documented, UTC
timestamps with Z, complete Allow headers, jobs refused when incomplete, rankings reused,
and no export leaving files in the data folder's tmp/."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import add_study, raw_labels

TOO_BIG = 2**63
INT4_PLUS_1 = 2**31  # one more than an INTEGER primary key holds (PostgreSQL refuses it)


@pytest.fixture
def project(admin_api) -> int:  # type: ignore[no-untyped-def]
    r = admin_api.post("/api/projects", json={"name": "P", "description": ""})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _is_validation_array(body: dict) -> bool:
    detail = body.get("detail")
    return isinstance(detail, list) and all({"loc", "msg", "type"} <= set(d) for d in detail)


@pytest.mark.parametrize("url", [
    f"/api/projects/{TOO_BIG}", f"/api/jobs/{TOO_BIG}", f"/api/studies/{TOO_BIG}",
    f"/api/audit?offset={TOO_BIG}", f"/api/studies/1/change?baseline={TOO_BIG}",
    f"/api/jobs?project_id={TOO_BIG}", "/api/projects/0", "/api/audit?offset=-1",
    "/api/projects/true", f"/api/models/{TOO_BIG}", f"/api/projects/{INT4_PLUS_1}",
    f"/api/jobs/{INT4_PLUS_1}", f"/api/audit?offset={INT4_PLUS_1}",
])
def test_out_of_range_ids_in_path_and_query_get_422(admin_api, url: str) -> None:  # type: ignore[no-untyped-def]
    r = admin_api.get(url)
    assert r.status_code == 422, (url, r.status_code, r.text)
    assert _is_validation_array(r.json())


def test_out_of_range_and_boolean_ids_in_bodies_get_422(admin_api, project: int) -> None:  # type: ignore[no-untyped-def]
    for body in ({"study_id": TOO_BIG, "username": "admin"}, {"study_id": 0, "username": "a"},
                 {"study_id": INT4_PLUS_1, "username": "admin"},
                 {"study_id": True, "username": "admin"}, {"study_id": "1", "username": "a"}):
        r = admin_api.post(f"/api/projects/{project}/assignments", json=body)
        assert r.status_code == 422 and _is_validation_array(r.json()), (body, r.text)
    for version_id in (False, True, -1, TOO_BIG, INT4_PLUS_1, 1.0):
        r = admin_api.post(f"/api/projects/{project}/models/rollback",
                           json={"version_id": version_id})
        assert r.status_code == 422, (version_id, r.status_code, r.text)
    r = admin_api.post("/api/jobs", json={"kind": "ai-segment", "study_id": TOO_BIG})
    assert r.status_code == 422


def test_timestamps_are_utc_with_z_and_the_same_on_post_and_get(admin_api, project: int,  # type: ignore[no-untyped-def]
                                                               app) -> None:
    sid = add_study(app, project)
    r = admin_api.post("/api/jobs", json={"kind": "integrity-check", "project_id": project})
    assert r.status_code == 201, r.text
    posted = r.json()["created_at"]
    assert posted.endswith("Z"), posted
    assert admin_api.get(f"/api/jobs/{r.json()['id']}").json()["created_at"] == posted
    assert admin_api.get(f"/api/projects/{project}").json()["created_at"].endswith("Z")
    assert admin_api.get(f"/api/studies/{sid}").json()["updated_at"].endswith("Z")
    events = admin_api.get("/api/audit").json()["data"]
    assert events and all(e["at"].endswith("Z") for e in events)


def test_jobs_with_incomplete_parameters_are_refused_at_submission(admin_api, project: int,  # type: ignore[no-untyped-def]
                                                                   app) -> None:
    sid = add_study(app, project)
    cases = [
        ({"kind": "ai-segment", "params": {}}, "needs study_id"),
        ({"kind": "ai-segment", "project_id": project}, "needs study_id"),
        ({"kind": "rank-uncertainty", "params": {}}, "needs project_id"),
        ({"kind": "integrity-check"}, "needs project_id"),
        ({"kind": "ai-segment", "study_id": sid, "params": {"device": "tpu"}}, "params.device"),
        ({"kind": "ai-segment", "study_id": sid, "params": {"study_id": sid + 1}},
         "params.study_id"),
        ({"kind": "train", "project_id": project, "params": {}}, "params.run_id"),
        ({"kind": "rank-uncertainty", "project_id": project, "params": {"x": 1}}, "params.x"),
    ]
    for body, words in cases:
        r = admin_api.post("/api/jobs", json=body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert words in str(r.json()["detail"]), (body, r.text)
    assert admin_api.get("/api/jobs").json()["count"] == 0


def test_ranking_refresh_reuses_the_queued_job(admin_api, project: int, app) -> None:  # type: ignore[no-untyped-def]
    app.state.runner.submit = lambda job_id, kind: None  # keep it queued
    first = admin_api.post(f"/api/projects/{project}/annotate-next/refresh")
    assert first.status_code == 201, first.text
    for _ in range(3):
        again = admin_api.post(f"/api/projects/{project}/annotate-next/refresh")
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    jobs = admin_api.get("/api/jobs", params={"project_id": project}).json()["data"]
    assert [j["kind"] for j in jobs] == ["rank-uncertainty"]


def test_allow_lists_every_method_of_the_path_and_unknown_methods_get_405(admin_api) -> None:  # type: ignore[no-untyped-def]
    r = admin_api.client.options("/api/projects")
    assert r.status_code == 204
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    r = admin_api.get("/api/auth/logout")
    assert r.status_code == 405 and r.headers["allow"] == "OPTIONS, POST"
    r = admin_api.client.delete("/api/projects/1")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "PATCH", "OPTIONS"}
    assert admin_api.get("/api/no-such-thing").status_code == 404


def test_unknown_methods_get_405_with_the_web_client_served(settings, make_user,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path) -> None:
    """With a built web client the SPA fallback owns GET /{path}: API paths still give 405."""
    from fastapi.testclient import TestClient

    from lunglab.api.app import create_app

    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<html></html>")
    with TestClient(create_app(settings, start_runner=False, web_dist=dist)) as client:
        r = client.get("/api/auth/logout")
        assert r.status_code == 405 and "POST" in r.headers["allow"]
        assert client.get("/api/no-such-thing").status_code == 404
        assert client.get("/some/page").status_code == 200


def _tmp_files(app) -> int:  # type: ignore[no-untyped-def]
    tmp = Path(app.state.settings.data_dir) / "tmp"
    return sum(1 for p in tmp.rglob("*")) if tmp.exists() else 0


def test_failing_exports_leave_no_files_in_tmp(admin_api, project: int, app,  # type: ignore[no-untyped-def]
                                               monkeypatch) -> None:
    import numpy as np

    sid = add_study(app, project)
    other = add_study(app, project, uid="2.25.2")
    lab = np.zeros((6, 32, 40), np.uint8)
    lab[:, 6:26, 5:18] = 1
    vid = admin_api.post(f"/api/studies/{other}/versions", files={"file": raw_labels(lab)},
                         data={"format": "raw"}).json()["id"]
    failing = [
        (f"/api/exports/studies/{sid}/dicom.zip?seg_version_id={vid}", 404),  # other study's
        (f"/api/exports/studies/{sid}/dicom.zip?seg_version_id=999999", 404),
        ("/api/exports/versions/999999/seg.dcm", 404),
        ("/api/exports/studies/999999/dicom.zip", 404),
    ]
    for url, code in failing:
        before = _tmp_files(app)
        assert admin_api.get(url).status_code == code, url
        assert _tmp_files(app) == before, url
    before = _tmp_files(app)
    assert admin_api.post("/api/projects/999999/exports/dataset").status_code == 404
    assert _tmp_files(app) == before

    # a failure half-way (writing the SEG, zipping the dataset) removes what was written
    import lunglab.io.export.seg as seg_module
    import lunglab.services.exchange.export as export_module

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OSError("disk went away")

    monkeypatch.setattr(seg_module, "write_seg", broken)
    monkeypatch.setattr(export_module, "write_dataset", broken)
    for method, url in (("GET", f"/api/exports/studies/{other}/dicom.zip?seg_version_id={vid}"),
                        ("GET", f"/api/exports/versions/{vid}/seg.dcm"),
                        ("POST", f"/api/projects/{project}/exports/dataset")):
        before = _tmp_files(app)
        r = admin_api.get(url) if method == "GET" else admin_api.post(url)
        assert r.status_code == 500, (url, r.status_code)
        assert _tmp_files(app) == before, url
    monkeypatch.undo()
    # and a successful export's folder goes once the file is sent
    before = _tmp_files(app)
    assert admin_api.get(f"/api/exports/studies/{sid}/dicom.zip").status_code == 200
    assert _tmp_files(app) == before
