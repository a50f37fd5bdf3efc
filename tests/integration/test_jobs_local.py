"""The local job runner: jobs run in a child process; progress and results reach the API."""
from __future__ import annotations

import os
import signal
import time

from tests.helpers import add_study, raw_labels, wait_job


def test_integrity_job_reports_corruption(app, admin_api):
    import numpy as np

    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid)
    add_study(app, pid, uid="2.25.99")
    labels = np.zeros((6, 32, 40), np.uint8)
    r = admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(labels)},
                       data={"format": "raw"})
    assert r.status_code == 201
    job = admin_api.post("/api/jobs", json={"kind": "integrity-check", "project_id": pid}).json()
    done = wait_job(admin_api, job["id"], timeout=120)
    assert done["state"] == "succeeded", done
    assert done["result"] == {"checked": 3, "problems": []}
    assert done["progress"] == 1.0
    # corrupt one stored volume: the next check names it
    from lunglab.db.models import Study
    from lunglab.db.session import session_scope

    with session_scope(app.state.settings.resolved_database_url) as db:
        key = db.get(Study, sid).volume_key
    path = app.state.store.local_path(key)
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    job = admin_api.post("/api/jobs", json={"kind": "integrity-check", "project_id": pid}).json()
    done = wait_job(admin_api, job["id"], timeout=120)
    assert done["result"]["problems"] == [{"object": "study", "id": sid,
                                           "problem": "checksum mismatch"}]
    assert "checked 3 objects" in admin_api.get(f"/api/jobs/{job['id']}/log").text
    # alter one stored slice of the label map: the version is named with the slice
    from sqlalchemy import update

    from lunglab.db.models import LabelMapSlice, LabelMapVersion

    with session_scope(app.state.settings.resolved_database_url) as db:
        digest = db.get(LabelMapVersion, r.json()["id"]).manifest["slices"][2]
        db.execute(update(LabelMapSlice).where(LabelMapSlice.digest == digest)
                   .values(data=__import__("gzip").compress(bytes(32 * 40 - 1) + b"\x01")))
        db.commit()
    job = admin_api.post("/api/jobs", json={"kind": "integrity-check", "project_id": pid}).json()
    problems = wait_job(admin_api, job["id"], timeout=120)["result"]["problems"]
    assert {"object": "version", "id": r.json()["id"],
            "problem": f"slice {digest[:12]} of study {sid} does not match its digest"} in problems


def test_unknown_job_kind_refused(admin_api):
    r = admin_api.post("/api/jobs", json={"kind": "rm -rf", "project_id": 1})
    assert r.status_code == 422 and "unknown job kind" in r.json()["detail"]


def test_killed_worker_fails_job_and_restart_marks_interrupted(app, admin_api, settings):
    """A job whose process is killed ends failed with the reason; nothing stays 'running'."""
    from lunglab.db.session import session_scope
    from lunglab.services import jobs as svc

    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    for i in range(40):
        add_study(app, pid, uid=f"2.25.5{i}", shape=(2, 16, 16))
    runner = app.state.runner
    job = admin_api.post("/api/jobs", json={"kind": "integrity-check", "project_id": pid}).json()
    end = time.time() + 60
    while not runner.worker_pids() and time.time() < end:
        time.sleep(0.05)
    for pid_ in runner.worker_pids():
        os.kill(pid_, signal.SIGKILL)
    done = wait_job(admin_api, job["id"], states=("failed", "succeeded"), timeout=120)
    # the child needs about a second to import LungLab, so the kill lands first
    assert done["state"] == "failed", done
    assert "worker process died" in done["message"]
    # the pool is rebuilt: the next job runs normally
    job2 = admin_api.post("/api/jobs", json={"kind": "integrity-check", "project_id": pid}).json()
    assert wait_job(admin_api, job2["id"], timeout=120)["state"] == "succeeded"
    # A job left 'running' by a crashed server is failed on the next start
    from lunglab.db.models import Job

    with session_scope(settings.resolved_database_url) as db:
        j = Job(kind="integrity-check", state="running", project_id=pid, params={},
                runner="local")
        db.add(j)
        db.flush()
        jid = j.id
    assert svc.fail_interrupted(settings) == 1
    with session_scope(settings.resolved_database_url) as db:
        assert db.get(Job, jid).state == "failed"
        assert "interrupted" in db.get(Job, jid).message


def test_interactive_jobs_have_their_own_pool(app, admin_api):
    """Pre-annotating a study never waits behind a long batch job (training) in the local
    runner: the two kinds go to separate process pools, like Celery's two queues."""
    from lunglab.services.jobs.runners import LocalJobRunner

    assert LocalJobRunner.queue_for("ai-segment") == "interactive"
    assert LocalJobRunner.queue_for("train") == "batch"
    assert LocalJobRunner.queue_for("integrity-check") == "batch"
    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=(2, 32, 32))
    batch = admin_api.post("/api/jobs", json={"kind": "integrity-check", "project_id": pid})
    interactive = admin_api.post("/api/jobs", json={"kind": "ai-segment", "study_id": sid})
    assert batch.status_code == interactive.status_code == 201
    assert set(app.state.runner._pools) == {"batch", "interactive"}
    assert wait_job(admin_api, interactive.json()["id"], timeout=120)["state"] == "succeeded"
    assert wait_job(admin_api, batch.json()["id"], timeout=120)["state"] == "succeeded"
