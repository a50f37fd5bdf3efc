"""Issue 16: one admin does it all (read, submit, approve: recorded as the same person), the
shipped model is version 0 of every project, and the Demo import (real data, idempotent)."""
from __future__ import annotations

from pathlib import Path

import pytest

from lunglab.ml.checkpoints import DEFAULT_MODEL
from tests.integration.collab_support import box, save, study


def test_one_admin_reads_submits_and_approves(app, admin_api) -> None:  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "solo"}).json()["id"]
    sid = study(app, pid)
    r = admin_api.post(f"/api/studies/{sid}/submit", json={})
    assert r.status_code == 409 and "save" in r.text  # nothing read yet
    vid = save(admin_api, sid, box(2)).json()["id"]
    r = admin_api.post(f"/api/studies/{sid}/submit", json={})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "submitted" and r.json()["submitted_version_id"] == vid
    assert admin_api.post(f"/api/studies/{sid}/submit", json={}).status_code == 409
    review = admin_api.get(f"/api/studies/{sid}/review").json()
    assert [x["username"] for x in review["readers"]] == ["admin"]
    d = admin_api.post(f"/api/studies/{sid}/approve", json={"version_id": vid})
    assert d.status_code == 200, d.text
    assert d.json()["same_person"] is True
    review = admin_api.get(f"/api/studies/{sid}/review").json()
    assert review["final_version_id"] == vid and review["readers"][0]["state"] == "approved"
    assert all(x["same_person"] for x in review["decisions"])
    rows = admin_api.get("/api/audit", params={"action": "review.approve"}).json()["data"]
    approve = [e for e in rows if e["action"] == "review.approve"]
    assert approve and approve[-1]["details"]["same_person"] is True
    assert admin_api.get(f"/api/projects/{pid}/training/data").json()["count"] == 1


def test_annotators_cannot_self_submit(app, admin_api, make_user, login) -> None:  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "solo2"}).json()["id"]
    sid = study(app, pid)
    make_user("ann")
    admin_api.post(f"/api/projects/{pid}/members", json={"username": "ann", "role": "annotator"})
    assert login("ann").post(f"/api/studies/{sid}/submit", json={}).status_code in (403, 404)


def test_shipped_model_is_version_0(app, admin_api) -> None:  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "models"}).json()["id"]
    ms = admin_api.get(f"/api/projects/{pid}/models").json()
    assert ms["count"] == 0 and ms["active_id"] is None
    assert ms["shipped"]["id"] == 0 and ms["shipped"]["state"] == "active"
    assert ms["shipped"]["name"] == DEFAULT_MODEL == ms["active_name"]
    assert "Model card" in ms["shipped"]["card"]


DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(not (DATA / "covid-semiseg-medseg").is_dir(), reason="no ../shared/data")
def test_demo_import_is_labelled_approved_and_idempotent(app, admin_api) -> None:  # type: ignore[no-untyped-def]
    from lunglab.services.ingest.demo import import_demo

    settings = app.state.settings
    first = import_demo(settings, DATA, admin_name="admin", medseg_count=2)
    assert len(first.approved) == 2 and not first.skipped, first
    again = import_demo(settings, DATA, admin_name="admin", medseg_count=2)
    assert not again.imported and not again.approved and len(again.already_there) == len(
        first.imported)
    pid = next(p["id"] for p in admin_api.get("/api/projects").json()["data"]
               if p["name"] == "Demo")
    names = [s["name"] for s in admin_api.get(f"/api/projects/{pid}/studies").json()["data"]]
    assert any("MedSeg" in n and "reference" in n for n in names)
    assert any(n.startswith("NY-SBU") for n in names) and any("Chest CT series" in n
                                                               for n in names)
    assert admin_api.get(f"/api/projects/{pid}/training/data").json()["count"] == 2
