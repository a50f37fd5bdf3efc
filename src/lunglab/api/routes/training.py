"""Training runs, the job queue and the "what to annotate next" list."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from lunglab.api.deps import CurrentUser, RunnerDep, SessionDep, SettingsDep
from lunglab.api.presenters import job_public
from lunglab.api.schemas.fields import IdParam, Offset
from lunglab.api.schemas.resources import JobPublic
from lunglab.api.schemas.training import TrainCreate, TrainStarted
from lunglab.services.training import active_learning
from lunglab.services import jobs
from lunglab.services.training import runs as training
from lunglab.services.training.data import approved_versions

router = APIRouter(tags=["training"])


@router.post("/projects/{project_id}/training", response_model=TrainStarted, status_code=201)
def start(project_id: IdParam, body: TrainCreate, db: SessionDep, user: CurrentUser,
          settings: SettingsDep, runner: RunnerDep) -> TrainStarted:
    run, job = training.start_training(db, user, project_id, body.model_dump(), settings,
                                       runner.name)
    runner.submit(job.id, job.kind)
    return TrainStarted(run=training.run_view(db, run), job=job_public(job))


@router.get("/projects/{project_id}/training/data")
def training_data(project_id: IdParam, db: SessionDep, user: CurrentUser,
                  modality: Literal["ct", "xr"] = "ct") -> dict[str, Any]:
    """The approved label maps a run of ``modality`` would train on (CT or radiographs)."""
    training.list_runs(db, user, project_id)  # access check
    approved = approved_versions(db, project_id, modality)
    return {"approved": [{"study_id": s, "version_id": v} for s, v in approved.items()],
            "count": len(approved), "modality": modality}


@router.get("/projects/{project_id}/training/runs")
def list_runs(project_id: IdParam, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    rows = [training.run_view(db, r) for r in training.list_runs(db, user, project_id)]
    return {"data": rows, "count": len(rows)}


@router.get("/training/runs/{run_id}")
def get_run(run_id: IdParam, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return training.run_view(db, training.get_run(db, user, run_id))


@router.get("/training/jobs/{job_id}")
def run_of_job(job_id: IdParam, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return training.run_view(db, training.run_for_job(db, user, job_id))


@router.post("/training/runs/{run_id}/resume", response_model=JobPublic, status_code=201)
def resume(run_id: IdParam, db: SessionDep, user: CurrentUser, runner: RunnerDep) -> JobPublic:
    job = training.resume_training(db, user, run_id, runner.name)
    runner.submit(job.id, job.kind)
    return job_public(job)


@router.get("/training/runs/{run_id}/samples/{epoch}.png", response_class=FileResponse)
def sample(run_id: IdParam, epoch: Offset, db: SessionDep, user: CurrentUser) -> FileResponse:
    path = training.sample_path(training.get_run(db, user, run_id), epoch)
    return FileResponse(path, media_type="image/png")


@router.get("/queue")
def queue(db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return training.queue_view(db, user)


@router.get("/projects/{project_id}/annotate-next")
def annotate_next(project_id: IdParam, db: SessionDep, user: CurrentUser,
                  limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
    rows = active_learning.annotate_next(db, user, project_id, min(limit, 500))
    return {"data": rows, "count": len(rows)}


@router.post("/projects/{project_id}/annotate-next/refresh", response_model=JobPublic,
             status_code=201, responses={200: {"model": JobPublic, "description":
                                               "a ranking job already queued or running"}})
def refresh_ranking(project_id: IdParam, db: SessionDep, user: CurrentUser,
                    runner: RunnerDep, response: Response) -> JobPublic:
    """Queue a new ranking (201), or return the one already queued or running (200)."""
    job, created = jobs.submit_once(db, user, "rank-uncertainty", project_id=project_id,
                                    runner=runner.name)
    if created:
        runner.submit(job.id, job.kind)
    else:
        response.status_code = 200
    return job_public(job)
