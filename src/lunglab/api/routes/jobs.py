"""Jobs: submit, progress, cancel, log."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from lunglab.api.deps import CurrentUser, RunnerDep, SessionDep
from lunglab.api.schemas.fields import IdParam
from lunglab.api.presenters import job_public
from lunglab.api.schemas.page import Page
from lunglab.api.schemas.resources import JobCreate, JobPublic
from lunglab.services import jobs as svc

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post("", response_model=JobPublic, status_code=201)
def submit(body: JobCreate, db: SessionDep, user: CurrentUser, runner: RunnerDep) -> JobPublic:
    job = svc.submit(db, user, body.kind, study_id=body.study_id, project_id=body.project_id,
                     params=body.params, runner=runner.name)
    runner.submit(job.id, job.kind)
    return job_public(job)


@router.get("", response_model=Page[JobPublic])
def list_jobs(db: SessionDep, user: CurrentUser, project_id: IdParam | None = None,
              study_id: IdParam | None = None) -> Page[JobPublic]:
    rows = svc.list_jobs(db, user, project_id=project_id, study_id=study_id)
    return Page[JobPublic](data=[job_public(j) for j in rows], count=len(rows))


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: IdParam, db: SessionDep, user: CurrentUser) -> JobPublic:
    return job_public(svc.get_job(db, user, job_id))


@router.post("/{job_id}/cancel", response_model=JobPublic)
def cancel(job_id: IdParam, db: SessionDep, user: CurrentUser) -> JobPublic:
    return job_public(svc.request_cancel(db, user, job_id))


@router.get("/{job_id}/log", response_class=PlainTextResponse)
def job_log(job_id: IdParam, db: SessionDep, user: CurrentUser) -> str:
    return svc.get_job(db, user, job_id).log
