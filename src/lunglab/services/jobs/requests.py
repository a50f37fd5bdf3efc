"""What users ask of jobs: submit one, see one, list them, cancel one (rights checked here)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.lookup import get_or_404
from lunglab.db.models import Job, Study, User
from lunglab.services.access import audit
from lunglab.services.access.projects import get_study, require_role, role_in
from lunglab.services.errors import Conflict, Forbidden, InvalidInput
from lunglab.services.jobs.kinds import job_function, known_kinds
from lunglab.services.jobs.runtime import FINAL, finish


def submit(db: Session, user: User | None, kind: str, *, study_id: int | None = None,
           project_id: int | None = None, params: dict[str, Any] | None = None,
           runner: str = "local") -> Job:
    """Create a queued job after checking the user's rights; the caller hands it to a runner."""
    if job_function(kind) is None:
        raise InvalidInput(f"unknown job kind {kind!r}; known: {', '.join(known_kinds())}")
    if study_id is not None:
        if user is not None:
            study, role = get_study(db, user, study_id)
            if role not in ("admin", "reviewer", "annotator"):
                raise Forbidden("not allowed")
        else:
            study = get_or_404(db, Study, study_id, "study")
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
    """The job, when ``user`` may see it.

    Raises:
        NotFound: no such job, or the user may not see it.
    """
    return get_or_404(db, Job, job_id, "job", where=lambda job: _may_see(db, user, job))


def _may_see(db: Session, user: User, job: Job) -> bool:
    if user.is_admin or job.requested_by_id == user.id:
        return True
    return job.project_id is not None and role_in(db, user, job.project_id) in ("admin",
                                                                                 "reviewer")


def list_jobs(db: Session, user: User, *, project_id: int | None = None,
              study_id: int | None = None, limit: int = 100) -> list[Job]:
    """The newest jobs the user may see, optionally of one project or study."""
    q = select(Job)
    if project_id is not None:
        q = q.where(Job.project_id == project_id)
    if study_id is not None:
        q = q.where(Job.study_id == study_id)
    rows = db.scalars(q.order_by(Job.id.desc()).limit(limit)).all()
    return [j for j in rows if _may_see(db, user, j)]


def request_cancel(db: Session, user: User, job_id: int) -> Job:
    """Ask a job to stop; a queued job is cancelled at once, a running one at its next
    progress report.

    Raises:
        Conflict: the job has already ended.
    """
    job = get_job(db, user, job_id)
    if job.state in FINAL:
        raise Conflict(f"job {job_id} already {job.state}")
    job.cancel_requested = True
    if job.state == "queued":
        finish(job, "cancelled", "cancelled before it started")
    audit.record(db, user, "job.cancel", "job", job.id)
    db.commit()
    return job
