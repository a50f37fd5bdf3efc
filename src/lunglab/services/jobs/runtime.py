"""Running a job to its end, and the job rows' life outside a job (interrupted, died, queued).

Job state lives in the ``jobs`` table, so it survives restarts. Runners (local process pool,
Celery) only decide *where* :func:`execute_job` runs.
"""
from __future__ import annotations

import logging
import socket
import traceback

from sqlalchemy import select

from lunglab.core.settings import Settings
from lunglab.db.base import utcnow
from lunglab.db.models import Job, Study
from lunglab.db.session import session_scope
from lunglab.services.access import audit
from lunglab.services.jobs.context import JobCancelled, JobContext
from lunglab.services.jobs.kinds import job_function

log = logging.getLogger(__name__)

FINAL = ("succeeded", "failed", "cancelled")


def finish(job: Job, state: str, message: str) -> None:
    """End ``job`` in ``state`` with ``message`` (the row only; the caller commits)."""
    job.state = state
    job.message = message[:500]
    job.finished_at = utcnow()
    if state == "succeeded":
        job.progress = 1.0


def _ai_status_after(db: object, job: Job, status: str) -> None:
    """An ``ai-segment`` job that did not succeed leaves its study's AI status at ``status``."""
    if job.kind == "ai-segment" and job.study_id:
        study = db.get(Study, job.study_id)  # type: ignore[attr-defined]
        if study is not None:
            study.ai_status = status


def execute_job(settings: Settings, job_id: int) -> str:
    """Run a queued job to its end in this process; return its final state.

    Every outcome is written to the job row: succeeded with its result, failed with the
    error, or cancelled.
    """
    url = settings.resolved_database_url
    with session_scope(url) as db:
        job = db.get(Job, job_id)
        if job is None or job.state != "queued":
            return job.state if job else "missing"
        if job.cancel_requested:
            finish(job, "cancelled", "cancelled before it started")
            return "cancelled"
        job.state, job.started_at = "running", utcnow()
        job.worker = f"{socket.gethostname()}"
        kind, params = job.kind, dict(job.params or {})
        params.setdefault("study_id", job.study_id)
        params.setdefault("project_id", job.project_id)
        params.setdefault("requested_by_id", job.requested_by_id)
    ctx = JobContext(url, job_id, settings)
    try:
        fn = job_function(kind)
        if fn is None:
            raise KeyError(kind)
        result = fn(ctx, params)
        state, message = "succeeded", "done"
    except JobCancelled as exc:
        result, state, message = None, "cancelled", str(exc)
    except Exception as exc:
        result, state, message = None, "failed", f"{type(exc).__name__}: {exc}"
        ctx.log(traceback.format_exc(limit=8))
    with session_scope(url) as db:
        job = db.get(Job, job_id)
        assert job is not None
        finish(job, state, message)
        job.result = result
        if state != "succeeded":
            _ai_status_after(db, job, "failed" if state == "failed" else "none")
        audit.record(db, None, f"job.{state}", "job", job_id, kind=kind)
    return state


def fail_interrupted(settings: Settings, *, worker: str | None = None,
                     runner: str | None = None) -> int:
    """Mark jobs left ``running`` by a dead worker (or runner) as failed; return how many."""
    n = 0
    with session_scope(settings.resolved_database_url) as db:
        q = select(Job).where(Job.state == "running")
        if worker is not None:
            q = q.where(Job.worker == worker)
        if runner is not None:
            q = q.where(Job.runner == runner)
        for job in db.scalars(q).all():
            finish(job, "failed", "interrupted: the worker stopped before the job finished")
            _ai_status_after(db, job, "failed")
            n += 1
    return n


def mark_failed(settings: Settings, job_id: int, message: str) -> None:
    """Record a failure detected outside the job (e.g. its process died)."""
    with session_scope(settings.resolved_database_url) as db:
        job = db.get(Job, job_id)
        if job is not None and job.state not in FINAL:
            finish(job, "failed", message)
            _ai_status_after(db, job, "failed")


def queued_jobs(settings: Settings, runner: str = "local") -> list[tuple[int, str]]:
    """``(id, kind)`` of the jobs still queued for ``runner``, oldest first."""
    with session_scope(settings.resolved_database_url) as db:
        rows = db.execute(select(Job.id, Job.kind).where(Job.state == "queued",
                                                          Job.runner == runner)
                          .order_by(Job.id)).all()
        return [(int(i), str(k)) for i, k in rows]
