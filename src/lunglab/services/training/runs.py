"""Training use cases: start a run from the project's approved label maps, resume a run whose
worker died, read its live progress, and show the job queue."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.lookup import get_or_404
from lunglab.core.settings import Settings
from lunglab.db.models import Job, User
from lunglab.domain.labels import LABEL_KEYS
from lunglab.db.models_training import MODALITIES, ModelVersion, TrainingRun
from lunglab.services.access import audit
from lunglab.services import jobs
from lunglab.services.errors import Conflict, InvalidInput, NotFound
from lunglab.services.training.model_versions import active_version
from lunglab.services.access.projects import require_role
from lunglab.ml.train_loop import FineTuneConfig
from lunglab.services.training.data import approved_versions, frozen_split

DEVICES = ("auto", "cpu", "cuda")


def run_dir(settings: Settings, run_id: int) -> Path:
    """Checkpoint folder of a run, in the data folder."""
    return Path(settings.data_dir) / "training" / f"run-{run_id}"


def _check_params(params: dict[str, Any]) -> dict[str, Any]:
    p = dict(params)
    if p.get("modality", "ct") not in MODALITIES:
        raise InvalidInput(f"modality must be one of {MODALITIES}")
    if p.get("device", "auto") not in DEVICES:
        raise InvalidInput(f"device must be one of {DEVICES}")
    for key, lo, hi in (("epochs", 1, 1000), ("batch_size", 1, 256),
                        ("slices_per_epoch", 1, 10**6), ("patch", 32, 1024),
                        ("cache_cases", 1, 64), ("val_slices_per_case", 1, 512),
                        ("world_size", 1, 16), ("xr_grid", 64, 1024),
                        ("smartclick_iterations", 0, 5000)):
        if p.get(key) is not None and not lo <= int(p[key]) <= hi:
            raise InvalidInput(f"{key} must be between {lo} and {hi}")
    if p.get("time_budget_s") is not None and float(p["time_budget_s"]) <= 0:
        raise InvalidInput("time_budget_s must be positive")
    if p.get("lr") is not None and not 0 < float(p["lr"]) < 1:
        raise InvalidInput("lr must be in (0, 1)")
    FineTuneConfig.from_params(p)  # unknown types fail here
    return p


def start_training(db: Session, user: User, project_id: int, params: dict[str, Any],
                   settings: Settings, runner_name: str = "local") -> tuple[TrainingRun, Job]:
    """Snapshot the approved label maps, freeze the validation split, queue a ``train`` job.

    Args:
        params: ``base_version_id`` (a model version of the project; default the active one,
            else the shipped model), ``from_scratch`` (random initial weights), ``epochs``,
            ``time_budget_s``, ``device``, ``seed``, ``arch`` (from scratch only),
            ``batch_size``, ``patch``, ``lr``, ``slices_per_epoch``, ``val_slices_per_case``,
            ``cache_cases``, ``smartclick_iterations`` (the Smart click fine-tune after a CT
            run; default 25 per epoch, at most 150; 0: none), ``modality`` (``ct``, or ``xr``
            for the project's approved chest radiographs: the 2D radiograph recipe of
            :mod:`lunglab.ml.radiograph`, which starts from the active radiograph model or, as
            none is shipped, from scratch).

    Returns:
        The run and its queued job (the caller hands the job to the runner).

    Raises:
        InvalidInput: bad parameters or too few approved studies. NotFound: unknown base.
    """
    require_role(db, user, project_id, "admin")
    p = _check_params(params)
    modality = p["modality"] = p.get("modality") or "ct"
    base_id = p.get("base_version_id")
    if p.get("from_scratch"):
        p["base_version_id"] = None
    elif base_id is not None:
        base = get_or_404(db, ModelVersion, int(base_id), "model version",
                          where=lambda base: base.project_id == project_id,
                          context=f" in project {project_id}")
        if base.modality != modality:
            raise InvalidInput(f"base model {base.name} is a {base.modality} model; a "
                               f"{modality} run needs a {modality} base")
    else:
        active = active_version(db, project_id, modality)
        p["base_version_id"] = active.id if active else None
    if modality == "xr" and p["base_version_id"] is None:
        p["from_scratch"] = True  # no radiograph model is shipped to start from
        p["arch"] = p.get("arch") or "unet2d"
    approved = approved_versions(db, project_id, modality)
    val_ids = frozen_split(db, user, project_id, list(approved), seed=int(p.get("split_seed", 0)),
                           modality=modality)
    snapshot = [{"study_id": s, "version_id": v} for s, v in approved.items() if s not in val_ids]
    val_snapshot = [{"study_id": s, "version_id": approved[s]} for s in val_ids if s in approved]
    if not snapshot:
        raise InvalidInput("no approved label maps outside the frozen validation set")
    if not val_snapshot:
        raise InvalidInput("the frozen validation studies have no approved label maps")
    p["val_snapshot"] = val_snapshot
    run = TrainingRun(project_id=project_id, params=p, data_snapshot=snapshot,
                      val_study_ids=[v["study_id"] for v in val_snapshot],
                      created_by_id=user.id, state="queued")
    db.add(run)
    db.flush()
    run.checkpoint_dir = str(run_dir(settings, run.id))
    job = jobs.submit(db, user, "train", project_id=project_id,
                      params={"run_id": run.id, "device": p.get("device", "auto")},
                      runner=runner_name)
    run.job_id, run.job_ids = job.id, [job.id]
    audit.record(db, user, "training.start", "training_run", run.id, project=project_id,
                 modality=modality, studies=len(snapshot), val=run.val_study_ids)
    db.commit()
    return run, job


def get_run(db: Session, user: User, run_id: int) -> TrainingRun:
    """A run visible to project admins and reviewers.

    Raises:
        NotFound: unknown run.
    """
    run = get_or_404(db, TrainingRun, run_id, "training run")
    require_role(db, user, run.project_id, "admin", "reviewer")
    return run


def run_for_job(db: Session, user: User, job_id: int) -> TrainingRun:
    """The run a ``train`` job executes."""
    job = jobs.get_job(db, user, job_id)
    run_id = (job.params or {}).get("run_id")
    if job.kind != "train" or run_id is None:
        raise NotFound(f"job {job_id} is not a training job")
    return get_run(db, user, int(run_id))


def list_runs(db: Session, user: User, project_id: int) -> list[TrainingRun]:
    require_role(db, user, project_id, "admin", "reviewer")
    return list(db.scalars(select(TrainingRun).where(TrainingRun.project_id == project_id)
                           .order_by(TrainingRun.id.desc())))


def resume_training(db: Session, user: User, run_id: int, runner_name: str = "local") -> Job:
    """Queue a new job for a run whose last job failed or was cancelled; it continues from
    the run's last checkpoint.

    Raises:
        Conflict: the run's job is still queued or running, or the run already finished.
    """
    run = get_run(db, user, run_id)
    require_role(db, user, run.project_id, "admin")
    last = db.get(Job, run.job_id) if run.job_id else None
    if last is not None and last.state not in ("failed", "cancelled"):
        raise Conflict(f"training run {run_id} is {last.state}; only failed or cancelled runs "
                       "can be resumed")
    if run.state == "done":
        raise Conflict(f"training run {run_id} already finished and registered its model")
    job = jobs.submit(db, user, "train", project_id=run.project_id,
                      params={"run_id": run.id, "resume": True,
                              "device": run.params.get("device", "auto")},
                      runner=runner_name)
    run.job_id, run.job_ids, run.state = job.id, [*run.job_ids, job.id], "queued"
    audit.record(db, user, "training.resume", "training_run", run.id, job=job.id,
                 from_epoch=run.checkpoint_epoch)
    db.commit()
    return job


def run_view(db: Session, run: TrainingRun) -> dict[str, Any]:
    """Live progress of a run for plotting: epochs, loss and per-label Dice curves, samples."""
    job = db.get(Job, run.job_id) if run.job_id else None
    mv = db.scalar(select(ModelVersion).where(ModelVersion.run_id == run.id))
    cfg = FineTuneConfig.from_params(run.params)
    return {
        "id": run.id, "project_id": run.project_id, "modality": cfg.modality,
        "state": job.state if job else run.state,
        "phase": run.state, "job_id": run.job_id, "job_ids": list(run.job_ids),
        "progress": job.progress if job else 0.0, "message": job.message if job else "",
        "worker": job.worker if job else None,
        "epoch": run.checkpoint_epoch, "epochs": cfg.epochs, "eta_seconds": run.eta_seconds,
        "resumed_from_epoch": run.resumed_from_epoch,
        "history": list(run.history),
        "curves": {
            "epoch": [h["epoch"] for h in run.history],
            "loss": [h["loss"] for h in run.history],
            "val_dice": {name: [h["val_dice"].get(name) for h in run.history]
                         for name in LABEL_KEYS.values()},
        },
        "samples": [{"epoch": h["epoch"], **h["sample"],
                     "url": f"/api/training/runs/{run.id}/samples/{h['epoch']}.png"}
                    for h in run.history if "sample" in h],
        "params": {k: v for k, v in run.params.items() if k != "val_snapshot"},
        "data_snapshot": run.data_snapshot, "val_study_ids": run.val_study_ids,
        "model_version_id": mv.id if mv else None,
        "comparison": mv.comparison if mv else None,
        "created_at": run.created_at,
    }


def sample_path(run: TrainingRun, epoch: int) -> Path:
    """PNG of the validation sample of an epoch.

    Raises:
        NotFound: no sample for that epoch.
    """
    entry = next((h for h in run.history if h["epoch"] == epoch and "sample" in h), None)
    path = Path(run.checkpoint_dir) / entry["sample"]["file"] if entry else None
    if path is None or not path.is_file():
        raise NotFound(f"no sample prediction for epoch {epoch}")
    return path


def queue_view(db: Session, user: User) -> dict[str, Any]:
    """Queued jobs with their position per queue, and running jobs with their worker.

    Jobs the user may not see keep their place but show only kind and position.
    """
    rows = db.scalars(select(Job).where(Job.state.in_(("queued", "running")))
                      .order_by(Job.id)).all()
    out: dict[str, Any] = {"queues": {"interactive": [], "batch": []}, "running": []}
    for job in rows:
        queue = jobs.queue_for(job.kind)
        visible = _visible(db, user, job)
        item: dict[str, Any] = {"id": job.id if visible else None, "kind": job.kind,
                                "queue": queue}
        if visible:
            item.update(project_id=job.project_id, study_id=job.study_id,
                        progress=job.progress, message=job.message, runner=job.runner,
                        created_at=job.created_at, started_at=job.started_at,
                        requested_by=job.requested_by.username if job.requested_by else None)
        if job.state == "running":
            item["worker"] = job.worker if visible else None
            out["running"].append(item)
        else:
            item["position"] = len(out["queues"][queue]) + 1
            out["queues"][queue].append(item)
    return out


def _visible(db: Session, user: User, job: Job) -> bool:
    try:
        jobs.get_job(db, user, job.id)
    except NotFound:
        return False
    return True
