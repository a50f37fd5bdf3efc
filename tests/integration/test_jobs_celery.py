"""The Celery runner against the real Redis broker: a worker process runs the job and its
progress and result reach the API."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time

import pytest

from tests.helpers import add_study

REDIS = "127.0.0.1"


def _redis_ok() -> bool:
    import redis

    try:
        return bool(redis.Redis(host=REDIS, port=6379, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def celery_settings(settings):  # type: ignore[no-untyped-def]
    if not _redis_ok():
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable at 127.0.0.1:6379")
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    db = random.randint(1, 15)
    import redis

    redis.Redis(host=REDIS, port=6379, db=db).flushdb()
    return settings.model_copy(update={"job_runner": "celery",
                                       "celery_broker_url": f"redis://{REDIS}:6379/{db}"})


@pytest.fixture
def celery_worker(celery_settings):  # type: ignore[no-untyped-def]
    env = dict(os.environ,
               LUNGLAB_DATA_DIR=str(celery_settings.data_dir),
               LUNGLAB_DATABASE_URL=celery_settings.resolved_database_url,
               LUNGLAB_JOB_RUNNER="celery",
               LUNGLAB_CELERY_BROKER_URL=celery_settings.celery_broker_url)
    proc = subprocess.Popen([sys.executable, "-m", "lunglab.cli.main", "worker",
                             "--concurrency", "1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_celery_worker_runs_job_and_reports_progress(celery_settings, celery_worker):
    from fastapi.testclient import TestClient

    from lunglab.api.app import create_app
    from lunglab.db.session import session_scope
    from lunglab.services.access import accounts
    from tests.conftest import PASSWORD, Api

    app = create_app(celery_settings, web_dist=None)
    with session_scope(celery_settings.resolved_database_url) as db:
        accounts.create_user(db, "admin", PASSWORD, is_admin=True)
    with TestClient(app) as client:
        client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        api = Api(client, "admin")
        pid = api.post("/api/projects", json={"name": "p"}).json()["id"]
        for i in range(3):
            add_study(app, pid, uid=f"2.25.7{i}", shape=(2, 16, 16))
        job = api.post("/api/jobs", json={"kind": "integrity-check", "project_id": pid}).json()
        assert job["runner"] == "celery" and job["state"] == "queued"
        end = time.time() + 90
        while time.time() < end:
            job = api.get(f"/api/jobs/{job['id']}").json()
            if job["state"] in ("succeeded", "failed"):
                break
            time.sleep(0.3)
    assert job["state"] == "succeeded", (job, _output(celery_worker))
    assert job["progress"] == 1.0
    assert job["result"]["checked"] == 3
    assert job["worker"]


def _output(proc) -> str:  # type: ignore[no-untyped-def]
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        return "(no output)"
    return out[-3000:]


def test_celery_routes_jobs_to_interactive_batch_and_gpu_queues(celery_settings):
    """Pre-annotation never waits behind training; CUDA jobs go to GPU workers' queue."""
    import redis

    from lunglab.db.migrate import upgrade_to_head
    from lunglab.db.models import Job
    from lunglab.db.session import session_scope
    from lunglab.services.jobs.runners import CeleryJobRunner

    upgrade_to_head(celery_settings.resolved_database_url)
    ids = {}
    with session_scope(celery_settings.resolved_database_url) as db:
        for name, kind, params in (("ai", "ai-segment", {}), ("cpu", "train", {"device": "cpu"}),
                                   ("gpu", "train", {"device": "cuda"})):
            job = Job(kind=kind, params=params, runner="celery")
            db.add(job)
            db.flush()
            ids[name] = (job.id, kind)
    runner = CeleryJobRunner(celery_settings)
    for job_id, kind in ids.values():
        runner.submit(job_id, kind)
    db_index = int(celery_settings.celery_broker_url.rsplit("/", 1)[1])
    r = redis.Redis(host=REDIS, port=6379, db=db_index)
    assert (r.llen("interactive"), r.llen("batch"), r.llen("gpu")) == (1, 1, 1)
    r.flushdb()
