"""A worker killed during training: the job fails, the run resumes from its checkpoint, and
the registry stays consistent (one version per run, nothing half-registered)."""
from __future__ import annotations

import os
import signal
import time

from tests.integration.training_support import TINY, add_approved_study, wait_job


def test_killed_worker_then_resume_from_checkpoint(app, admin_api):
    from lunglab.db.models_training import ModelVersion
    from lunglab.db.session import session_scope

    pid = admin_api.post("/api/projects", json={"name": "resume"}).json()["id"]
    for i in range(3):
        add_approved_study(app, pid, uid=f"2.25.8{i}")
    r = admin_api.post(f"/api/projects/{pid}/training", json={**TINY, "epochs": 6})
    run_id, job_id = r.json()["run"]["id"], r.json()["job"]["id"]
    end = time.time() + 120
    view = {}
    while time.time() < end:
        view = admin_api.get(f"/api/training/runs/{run_id}").json()
        if view["epoch"] >= 1:
            break
        time.sleep(0.05)
    assert 1 <= view["epoch"] < 6, view
    assert view["state"] == "running" and view["worker"]
    assert view["progress"] > 0 and view["eta_seconds"] > 0
    queue = admin_api.get("/api/queue").json()
    assert [j["id"] for j in queue["running"]] == [job_id]
    assert queue["running"][0]["worker"] == view["worker"]
    for pid_ in app.state.runner.worker_pids():
        os.kill(pid_, signal.SIGKILL)
    failed = wait_job(admin_api, job_id, states=("failed", "succeeded"))
    assert failed["state"] == "failed" and "worker process died" in failed["message"]
    killed_at = admin_api.get(f"/api/training/runs/{run_id}").json()["epoch"]
    assert killed_at >= 1
    ckpts = sorted(p.name for p in (app.state.settings.data_dir / "training" /
                                    f"run-{run_id}").glob("epoch-*.pt"))
    assert ckpts and ckpts[-1] >= f"epoch-{killed_at:04d}.pt"
    assert admin_api.get(f"/api/projects/{pid}/models").json()["count"] == 0
    # resuming a running or finished run is refused; a failed one gets a new job
    r = admin_api.post(f"/api/training/runs/{run_id}/resume")
    assert r.status_code == 201, r.text
    job2 = r.json()["id"]
    assert admin_api.post(f"/api/training/runs/{run_id}/resume").status_code == 409
    done = wait_job(admin_api, job2)
    assert done["state"] == "succeeded", admin_api.get(f"/api/jobs/{job2}/log").text
    resumed = done["result"]["resumed_from_epoch"]
    assert resumed >= killed_at, (resumed, killed_at)
    assert "resumed from the checkpoint of epoch" in admin_api.get(f"/api/jobs/{job2}/log").text
    view = admin_api.get(f"/api/training/runs/{run_id}").json()
    assert view["curves"]["epoch"] == list(range(1, 7))  # no epoch twice, none missing
    assert view["job_ids"] == [job_id, job2] and view["resumed_from_epoch"] == resumed
    with session_scope(app.state.settings.resolved_database_url) as db:
        rows = db.query(ModelVersion).filter(ModelVersion.project_id == pid).all()
        assert len(rows) == 1 and rows[0].run_id == run_id and rows[0].state == "candidate"
        assert app.state.store.exists(rows[0].weights_key)
        assert app.state.store.checksum(rows[0].weights_key) == rows[0].weights_checksum
    assert admin_api.post(f"/api/training/runs/{run_id}/resume").status_code == 409


def test_cancel_stops_at_an_epoch_and_the_run_can_resume(app, admin_api):
    pid = admin_api.post("/api/projects", json={"name": "cancel"}).json()["id"]
    for i in range(3):
        add_approved_study(app, pid, uid=f"2.25.85{i}")
    r = admin_api.post(f"/api/projects/{pid}/training", json={**TINY, "epochs": 30})
    run_id, job_id = r.json()["run"]["id"], r.json()["job"]["id"]
    end = time.time() + 120
    while time.time() < end and admin_api.get(f"/api/training/runs/{run_id}").json()["epoch"] < 1:
        time.sleep(0.05)
    assert admin_api.post(f"/api/jobs/{job_id}/cancel").status_code == 200
    assert wait_job(admin_api, job_id)["state"] == "cancelled"
    view = admin_api.get(f"/api/training/runs/{run_id}").json()
    assert view["phase"] == "cancelled" and 1 <= view["epoch"] < 30
    assert admin_api.get(f"/api/projects/{pid}/models").json()["count"] == 0
    r = admin_api.post(f"/api/training/runs/{run_id}/resume")
    assert r.status_code == 201
    admin_api.post(f"/api/jobs/{r.json()['id']}/cancel")  # stop it again: keep the test short
    assert wait_job(admin_api, r.json()["id"])["state"] in ("cancelled", "succeeded")
