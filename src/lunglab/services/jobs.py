"""Background jobs: submission, progress, cancellation and execution.

Job state lives in the ``jobs`` table, so it survives restarts. Runners (local process pool,
Celery) only decide *where* :func:`execute_job` runs.
"""
from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.core.settings import Settings
from lunglab.db.base import utcnow
from lunglab.db.models import Job, Study, User
from lunglab.db.session import session_scope
from lunglab.services import audit
from lunglab.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from lunglab.services.projects import get_study, require_role, role_in

log = logging.getLogger(__name__)

FINAL = ("succeeded", "failed", "cancelled")
INTERACTIVE_KINDS = ("ai-segment",)


class JobCancelled(Exception):
    """Raised inside a job when a cancel was requested."""


class JobContext:
    """Handed to a job function: report progress, write the log, honour cancellation."""

    def __init__(self, url: str, job_id: int, settings: Settings) -> None:
        self.url, self.job_id, self.settings = url, job_id, settings

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Record progress (0..1) and an optional message; raise JobCancelled if asked to stop."""
        with session_scope(self.url) as db:
            job = db.get(Job, self.job_id)
            assert job is not None
            job.progress = max(0.0, min(1.0, float(fraction)))
            if message is not None:
                job.message = message[:500]
            cancel = job.cancel_requested
        if cancel:
            raise JobCancelled("cancelled by the user")

    def log(self, line: str) -> None:
        with session_scope(self.url) as db:
            job = db.get(Job, self.job_id)
            assert job is not None
            job.log = (job.log + f"{utcnow():%H:%M:%S} {line}\n")[-200_000:]


JobFunction = Callable[[JobContext, dict[str, Any]], dict[str, Any]]
_KINDS: dict[str, JobFunction] = {}


def job_kind(name: str) -> Callable[[JobFunction], JobFunction]:
    """Register a job function under ``name``."""
    def deco(fn: JobFunction) -> JobFunction:
        _KINDS[name] = fn
        return fn
    return deco


def known_kinds() -> list[str]:
    _load_kinds()
    return sorted(_KINDS)


def _load_kinds() -> None:
    from lunglab.services import integrity, preannotate  # noqa: F401  (register job kinds)
    from lunglab.services import active_learning, agreement, train_job  # noqa: F401


def submit(db: Session, user: User | None, kind: str, *, study_id: int | None = None,
           project_id: int | None = None, params: dict[str, Any] | None = None,
           runner: str = "local") -> Job:
    """Create a queued job after checking the user's rights; the caller hands it to a runner."""
    _load_kinds()
    if kind not in _KINDS:
        raise InvalidInput(f"unknown job kind {kind!r}; known: {', '.join(sorted(_KINDS))}")
    if study_id is not None:
        if user is not None:
            study, role = get_study(db, user, study_id)
            if role not in ("admin", "reviewer", "annotator"):
                raise Forbidden("not allowed")
        else:
            study = db.get(Study, study_id)
            if study is None:
                raise NotFound(f"study {study_id} not found")
        project_id = study.project_id
    elif project_id is not None and user is not None:
        require_role(db, user, project_id, "admin")
    job = Job(kind=kind, params=params or {}, study_id=study_id, project_id=project_id,
              requested_by_id=user.id if user else None, runner=runner)
    db.add(job)
    db.flush()
    if kind == "ai-segment" and study_id is not None:
        study.ai_status = "queued"
    audit.record(db, user, "job.submit", "job", job.id, kind=kind, study=study_id)
    db.commit()
    return job


def get_job(db: Session, user: User, job_id: int) -> Job:
    job = db.get(Job, job_id)
    if job is None or not _may_see(db, user, job):
        raise NotFound(f"job {job_id} not found")
    return job


def _may_see(db: Session, user: User, job: Job) -> bool:
    if user.is_admin or job.requested_by_id == user.id:
        return True
    return job.project_id is not None and role_in(db, user, job.project_id) in ("admin",
                                                                                 "reviewer")


def list_jobs(db: Session, user: User, *, project_id: int | None = None,
              study_id: int | None = None, limit: int = 100) -> list[Job]:
    q = select(Job)
    if project_id is not None:
        q = q.where(Job.project_id == project_id)
    if study_id is not None:
        q = q.where(Job.study_id == study_id)
    rows = db.scalars(q.order_by(Job.id.desc()).limit(limit)).all()
    return [j for j in rows if _may_see(db, user, j)]


def request_cancel(db: Session, user: User, job_id: int) -> Job:
    job = get_job(db, user, job_id)
    if job.state in FINAL:
        raise Conflict(f"job {job_id} already {job.state}")
    job.cancel_requested = True
    if job.state == "queued":
        _finish(job, "cancelled", "cancelled before it started")
    audit.record(db, user, "job.cancel", "job", job.id)
    db.commit()
    return job


def _finish(job: Job, state: str, message: str) -> None:
    job.state = state
    job.message = message[:500]
    job.finished_at = utcnow()
    if state == "succeeded":
        job.progress = 1.0


def execute_job(settings: Settings, job_id: int) -> str:
    """Run a queued job to its end in this process; return its final state.

    Every outcome is written to the job row: succeeded with its result, failed with the
    error, or cancelled.
    """
    _load_kinds()
    url = settings.resolved_database_url
    with session_scope(url) as db:
        job = db.get(Job, job_id)
        if job is None or job.state != "queued":
            return job.state if job else "missing"
        if job.cancel_requested:
            _finish(job, "cancelled", "cancelled before it started")
            return "cancelled"
        job.state, job.started_at = "running", utcnow()
        job.worker = f"{socket.gethostname()}"
        kind, params = job.kind, dict(job.params or {})
        params.setdefault("study_id", job.study_id)
        params.setdefault("project_id", job.project_id)
        params.setdefault("requested_by_id", job.requested_by_id)
    ctx = JobContext(url, job_id, settings)
    try:
        result = _KINDS[kind](ctx, params)
        state, message = "succeeded", "done"
    except JobCancelled as exc:
        result, state, message = None, "cancelled", str(exc)
    except Exception as exc:  # noqa: BLE001  (every error ends the job as failed, with its text)
        result, state, message = None, "failed", f"{type(exc).__name__}: {exc}"
        ctx.log(traceback.format_exc(limit=8))
    with session_scope(url) as db:
        job = db.get(Job, job_id)
        assert job is not None
        _finish(job, state, message)
        job.result = result
        if state != "succeeded" and job.kind == "ai-segment" and job.study_id:
            study = db.get(Study, job.study_id)
            if study is not None:
                study.ai_status = "failed" if state == "failed" else "none"
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
            _finish(job, "failed", "interrupted: the worker stopped before the job finished")
            if job.kind == "ai-segment" and job.study_id:
                study = db.get(Study, job.study_id)
                if study is not None:
                    study.ai_status = "failed"
            n += 1
    return n


def mark_failed(settings: Settings, job_id: int, message: str) -> None:
    """Record a failure detected outside the job (e.g. its process died)."""
    with session_scope(settings.resolved_database_url) as db:
        job = db.get(Job, job_id)
        if job is not None and job.state not in FINAL:
            _finish(job, "failed", message)
            if job.kind == "ai-segment" and job.study_id:
                study = db.get(Study, job.study_id)
                if study is not None:
                    study.ai_status = "failed"


def queued_jobs(settings: Settings, runner: str = "local") -> list[tuple[int, str]]:
    """``(id, kind)`` of the jobs still queued for ``runner``, oldest first."""
    with session_scope(settings.resolved_database_url) as db:
        rows = db.execute(select(Job.id, Job.kind).where(Job.state == "queued",
                                                          Job.runner == runner)
                          .order_by(Job.id)).all()
        return [(int(i), str(k)) for i, k in rows]
