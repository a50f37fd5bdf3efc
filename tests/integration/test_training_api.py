"""The retraining loop through the API: train, watch progress, compare, promote (gated),
pre-annotate with the active version, roll back, export."""
from __future__ import annotations

import io
import zipfile

from lunglab.ml.checkpoints import DEFAULT_MODEL
from tests.helpers import add_study
from tests.integration.training_support import TINY, add_approved_study, wait_job


def _project_with_data(app, api, n: int = 3) -> int:  # type: ignore[no-untyped-def]
    pid = api.post("/api/projects", json={"name": "train"}).json()["id"]
    for i in range(n):
        add_approved_study(app, pid, uid=f"2.25.7{i}")
    return pid


def test_train_compare_promote_preannotate_rollback(app, admin_api):
    pid = _project_with_data(app, admin_api)
    assert admin_api.get(f"/api/projects/{pid}/training/data").json()["count"] == 3
    r = admin_api.post(f"/api/projects/{pid}/training", json=TINY)
    assert r.status_code == 201, r.text
    run, job = r.json()["run"], r.json()["job"]
    assert job["kind"] == "train" and len(run["val_study_ids"]) == 1
    assert len(run["data_snapshot"]) == 2
    done = wait_job(admin_api, job["id"])
    log = admin_api.get(f"/api/jobs/{job['id']}/log").text
    assert done["state"] == "succeeded", log
    assert "smart click: fine-tuned on" in log and "(3 iterations" in log  # issue 18
    view = admin_api.get(f"/api/training/jobs/{job['id']}").json()
    assert view["curves"]["epoch"] == [1, 2] and len(view["curves"]["loss"]) == 2
    assert set(view["curves"]["val_dice"]) == {"lung", "ggo", "consolidation"}
    assert view["eta_seconds"] == 0 and view["epoch"] == 2
    png = admin_api.get(view["samples"][-1]["url"])
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    # the first version: a candidate, compared with the shipped model (active until a promotion)
    models = admin_api.get(f"/api/projects/{pid}/models").json()
    assert models["count"] == 1 and models["active_id"] is None
    v1 = models["data"][0]
    assert v1["state"] == "candidate" and v1["base_model"] is None  # from scratch
    gate = v1["comparison"]["gate"]
    if v1["comparison"]["active"] is None:  # no shipped model installed
        assert gate["passed"] and v1["comparison"]["active_model"] is None
    else:
        assert v1["comparison"]["active_model"] == DEFAULT_MODEL
    assert v1["data_snapshot"] == run["data_snapshot"] and v1["seed"] == 0
    assert [c["study_id"] for c in v1["comparison"]["per_case"]] == run["val_study_ids"]
    assert set(v1["comparison"]["new"]["dice"]) == {"lung", "ggo", "consolidation"}
    body = {} if gate["passed"] else {"override": True, "reason": "first site model, by hand"}
    r = admin_api.post(f"/api/models/{v1['id']}/promote", json=body)
    assert r.status_code == 200 and r.json()["state"] == "active"
    # pre-annotation uses the active version
    sid = add_study(app, pid, uid="2.25.799", shape=(6, 32, 40))
    job = admin_api.post("/api/jobs", json={"kind": "ai-segment", "study_id": sid}).json()
    assert wait_job(admin_api, job["id"])["state"] == "succeeded"
    versions = admin_api.get(f"/api/studies/{sid}/versions").json()["data"]
    assert versions[0]["model_name"] == v1["name"]
    # a second run starts from the active version, on the same frozen validation studies
    r = admin_api.post(f"/api/projects/{pid}/training",
                       json={**TINY, "epochs": 1, "from_scratch": False,
                             "smartclick_iterations": 0})
    run2 = r.json()["run"]
    assert run2["val_study_ids"] == run["val_study_ids"]
    assert run2["params"]["base_version_id"] == v1["id"]
    assert wait_job(admin_api, r.json()["job"]["id"])["state"] == "succeeded"
    log = admin_api.get(f"/api/jobs/{r.json()['job']['id']}/log").text
    assert "smart click: not fine-tuned (smartclick_iterations 0); keeps the click model of " \
        f"{v1['name']}" in log, log
    v2 = admin_api.get(f"/api/projects/{pid}/models").json()["data"][0]
    from lunglab.db.models_training import ModelVersion
    from lunglab.db.session import session_scope
    from lunglab.services.training.smartclick_tune import smartclick_key

    with session_scope(app.state.settings.resolved_database_url) as db:
        keys = [smartclick_key(db.get(ModelVersion, v["id"]).weights_key) for v in (v1, v2)]
    store = app.state.store
    assert all(store.exists(k) for k in keys)  # v2 carries v1's click model unchanged
    assert store.checksum(keys[0]) == store.checksum(keys[1])
    assert v2["base_version_id"] == v1["id"]
    assert [x["id"] for x in v2["lineage"]] == [v2["id"], v1["id"]]
    assert v2["comparison"]["active_model"] == v1["name"]
    assert v2["comparison"]["active"] is not None
    changes = {c.get("change") for c in v2["comparison"]["per_case"]}
    assert changes <= {"improved", "worsened", "same"}
    r = admin_api.post(f"/api/models/{v2['id']}/promote",
                       json={"override": True, "reason": "site decision, see minutes"})
    assert r.status_code == 200 and r.json()["state"] == "active"
    assert admin_api.get(f"/api/models/{v1['id']}").json()["state"] == "retired"
    # rollback: one call
    r = admin_api.post(f"/api/projects/{pid}/models/rollback", json={})
    assert r.status_code == 200 and r.json()["id"] == v1["id"]
    assert admin_api.get(f"/api/projects/{pid}/models").json()["active_id"] == v1["id"]
    job = admin_api.post("/api/jobs", json={"kind": "ai-segment", "study_id": sid}).json()
    wait_job(admin_api, job["id"])
    latest = admin_api.get(f"/api/studies/{sid}/versions").json()["data"][0]
    assert latest["model_name"] == v1["name"]
    audit = admin_api.get("/api/audit?action=model.rollback").json()
    assert audit["count"] == 1
    # export as a MONAI bundle: a zip with configs and weights
    r = admin_api.get(f"/api/models/{v1['id']}/export?format=bundle")
    assert r.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert f"{v1['name']}/configs/inference.json" in names
    assert f"{v1['name']}/models/model.pt" in names


def test_promotion_gate_and_override_reason(app, admin_api, make_user, login):
    from lunglab.db.models_training import ModelVersion
    from lunglab.db.session import session_scope

    pid = _project_with_data(app, admin_api)
    job = admin_api.post(f"/api/projects/{pid}/training", json={**TINY, "epochs": 1}).json()["job"]
    assert wait_job(admin_api, job["id"])["state"] == "succeeded"
    mv = admin_api.get(f"/api/projects/{pid}/models").json()["data"][0]
    failing = {"passed": False, "reasons": ["ggo: Dice 0.100 < active 0.500"], "tolerance": 0.01}
    with session_scope(app.state.settings.resolved_database_url) as db:
        row = db.get(ModelVersion, mv["id"])
        row.comparison = {**row.comparison, "gate": failing}
    r = admin_api.post(f"/api/models/{mv['id']}/promote", json={})
    assert r.status_code == 409 and r.json()["detail"]["gate"] == failing
    r = admin_api.post(f"/api/models/{mv['id']}/promote", json={"override": True})
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = admin_api.post(f"/api/models/{mv['id']}/promote", json={"override": True, "reason": "ok"})
    assert r.status_code == 422
    make_user("ann")
    admin_api.post(f"/api/projects/{pid}/members", json={"username": "ann", "role": "annotator"})
    ann = login("ann")
    assert ann.post(f"/api/models/{mv['id']}/promote",
                    json={"override": True, "reason": "I want it live now"}).status_code == 403
    assert ann.post(f"/api/projects/{pid}/training", json=TINY).status_code == 403
    r = admin_api.post(f"/api/models/{mv['id']}/promote",
                       json={"override": True, "reason": "GGO set is tiny; reviewed by hand"})
    assert r.status_code == 200 and r.json()["promotion_reason"].startswith("GGO set")
    events = admin_api.get("/api/audit?action=model.promote").json()["data"]
    assert events[0]["details"]["override"] is True
    assert events[0]["details"]["reason"] == "GGO set is tiny; reviewed by hand"
    assert admin_api.post(f"/api/models/{mv['id']}/promote", json={}).status_code == 409
    # active learning: unannotated studies ranked by the active model's TTA entropy
    new = [add_study(app, pid, uid=f"2.25.60{i}", shape=(6, 32, 40)) for i in range(2)]
    r = admin_api.post(f"/api/projects/{pid}/annotate-next/refresh")
    assert r.status_code == 201
    assert wait_job(admin_api, r.json()["id"])["state"] == "succeeded"
    ranked = admin_api.get(f"/api/projects/{pid}/annotate-next").json()["data"]
    assert sorted(x["study_id"] for x in ranked) == sorted(new)
    scores = [x["score"] for x in ranked]
    assert scores == sorted(scores, reverse=True) and all(0 <= v <= 1 for v in scores)
    assert ranked[0]["model"] == mv["name"] and ranked[0]["method"] == "tta-entropy"
    assert ann.get(f"/api/projects/{pid}/annotate-next").status_code == 403
    # nothing earlier to roll back to except the shipped default (version 0)
    assert admin_api.post(f"/api/projects/{pid}/models/rollback", json={}).status_code == 404
    r = admin_api.post(f"/api/projects/{pid}/models/rollback", json={"version_id": 0})
    assert r.status_code == 200 and r.json() is None
    assert admin_api.get(f"/api/projects/{pid}/models").json()["active_id"] is None


def test_training_needs_approved_data(app, admin_api):
    pid = admin_api.post("/api/projects", json={"name": "empty"}).json()["id"]
    add_study(app, pid, uid="2.25.1")
    r = admin_api.post(f"/api/projects/{pid}/training", json=TINY)
    assert r.status_code == 422 and "at least two studies" in r.json()["detail"]
    r = admin_api.post(f"/api/projects/{pid}/training", json={**TINY, "epochs": 0})
    assert r.status_code == 422
    r = admin_api.post(f"/api/projects/{pid}/training", json={**TINY, "smartclick_iterations": -1})
    assert r.status_code == 422 and "smartclick_iterations" in r.text


def test_train_job_under_ddp_with_two_gloo_processes(app, admin_api):
    pid = _project_with_data(app, admin_api)
    r = admin_api.post(f"/api/projects/{pid}/training", json={**TINY, "world_size": 2})
    assert r.status_code == 201, r.text
    job = wait_job(admin_api, r.json()["job"]["id"])
    log = admin_api.get(f"/api/jobs/{job['id']}/log").text
    assert job["state"] == "succeeded", log
    assert "DDP: 2 processes (gloo)" in log
    view = admin_api.get(f"/api/training/jobs/{job['id']}").json()
    assert view["curves"]["epoch"] == [1, 2] and view["model_version_id"] is not None
    mv = admin_api.get(f"/api/models/{view['model_version_id']}").json()
    assert mv["config"]["arch"] == "unet2d-small" and mv["comparison"]["new"]["cases"] == 1
