"""What users ask of jobs: submit one, see one, list them, cancel one (rights checked here)."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.lookup import get_or_404
from lunglab.db.models import Job, Study, User
from lunglab.services.access import audit
from lunglab.services.access.projects import get_study, require_role, role_in
from lunglab.services.errors import Conflict, Forbidden, InvalidInput
from lunglab.services.jobs.kinds import JobSpec, job_spec, known_kinds
from lunglab.services.jobs.runtime import FINAL, finish


def submit(db: Session, user: User | None, kind: str, *, study_id: int | None = None,
           project_id: int | None = None, params: dict[str, Any] | None = None,
           runner: str = "local") -> Job:
    """Create a queued job after checking the user's rights; the caller hands it to a runner.

    Raises:
        InvalidInput: unknown kind, or the submission lacks what the kind needs (its study or
            project, its parameters; see :class:`~lunglab.services.jobs.kinds.JobSpec`).
    """
    spec = job_spec(kind)
    if spec is None:
        raise InvalidInput(f"unknown job kind {kind!r}; known: {', '.join(known_kinds())}")
    params = checked_params(kind, spec, params or {}, study_id=study_id, project_id=project_id)
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
    if spec.check is not None:
        scoped = params if study_id is None else {**params, "study_id": study_id}
        problem = spec.check(db, scoped, project_id)
        if problem is not None:
            raise InvalidInput(f"{kind} job: {problem}")
    job = Job(kind=kind, params=params, study_id=study_id, project_id=project_id,
              requested_by_id=user.id if user else None, runner=runner)
    db.add(job)
    db.flush()
    if kind == "ai-segment" and study_id is not None:
        study.ai_status = "queued"
    audit.record(db, user, "job.submit", "job", job.id, kind=kind, study=study_id)
    db.commit()
    return job


def submit_once(db: Session, user: User, kind: str, *, project_id: int,
                runner: str = "local") -> tuple[Job, bool]:
    """The project's queued or running ``kind`` job, or a new one: ``(job, created)``.

    For jobs whose result replaces the previous one (the annotate-next ranking): asking again
    while one is on its way reuses it instead of queueing another.
    """
    require_role(db, user, project_id, "admin")
    pending = db.scalars(select(Job).where(Job.kind == kind, Job.project_id == project_id,
                                           Job.state.in_(("queued", "running")))
                         .order_by(Job.id.desc()).limit(1)).first()
    if pending is not None:
        return pending, False
    return submit(db, user, kind, project_id=project_id, runner=runner), True


def checked_params(kind: str, spec: JobSpec, params: dict[str, Any], *,
                   study_id: int | None, project_id: int | None) -> dict[str, Any]:
    """``params`` validated against the kind's model, with its scope present.

    ``params`` may repeat the job's ``study_id`` / ``project_id`` but not name other ones
    (the worker reads them from ``params`` first, so they must not bypass the access check).

    Raises:
        InvalidInput: what is missing or wrong, in one message.
    """
    if spec.scope == "study" and study_id is None:
        raise InvalidInput(f"a {kind} job needs study_id")
    if spec.scope == "project" and project_id is None and study_id is None:
        raise InvalidInput(f"a {kind} job needs project_id")
    rest = dict(params)
    for key, value in (("study_id", study_id), ("project_id", project_id)):
        if key in rest and rest.pop(key) != value:
            raise InvalidInput(f"params.{key} must be the job's {key} (or left out)")
    try:
        checked = spec.params.model_validate(rest).model_dump(exclude_unset=True)
    except ValidationError as exc:
        problems = "; ".join(f"params.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise InvalidInput(f"{kind} job: {problems}"[:2000]) from None
    return {**{k: v for k, v in params.items() if k in ("study_id", "project_id")}, **checked}


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
