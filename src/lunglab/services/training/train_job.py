"""The ``train`` job: fine-tune on a run's data snapshot, register a candidate version, and
compare it with the active model on the frozen validation set.

A job whose worker died leaves the run's checkpoints in the data folder; the next job of the
same run (:func:`lunglab.services.training.runs.resume_training`) continues from the last one.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import torch

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lunglab.db.models import LabelMapVersion, Study
from lunglab.db.models_training import ModelVersion, TrainingRun
from lunglab.db.session import session_scope
from lunglab.services.jobs import JobCancelled, JobContext, job_kind, job_row
from lunglab.services.training.progress import TRAIN_SHARE, EpochReporter
from lunglab.services.training.compare import FIRST_RADIOGRAPH_FLOOR, compare
from lunglab.services.training.model_versions import active_version, register, weights_path
from lunglab.io.store import store_for
from lunglab.ml.train_loop import FineTuneConfig, fine_tune
from lunglab.services.training.data import case_refs
from lunglab.services.training.smartclick_tune import tune_smartclick



def base_network(model: str | None, arch: str, model_mm: float, scratch: bool = False
                 ) -> tuple[torch.nn.Module, dict[str, Any], str | None]:
    """A trainable copy of the base model, or a fresh network when none is installed.

    Args:
        model: checkpoint path or shipped name (None: the shipped default).
        arch: architecture for a network trained from scratch.
        model_mm: pixel size for a network trained from scratch.
        scratch: start from random weights even when a base model is installed.

    Returns:
        ``(network, {"arch", "model_mm"}, base name or None when from scratch)``.
    """
    from lunglab.ml import build_model, load_model

    try:
        if scratch:
            raise FileNotFoundError("from scratch")
        loaded = load_model(model, "cpu", use_onnx=False)
    except FileNotFoundError:
        return build_model(arch), {"arch": arch, "model_mm": model_mm}, None
    assert loaded.network is not None
    net = build_model(loaded.arch)
    net.load_state_dict(loaded.network.state_dict())  # a copy: the cached model stays as is
    return net, {"arch": loaded.arch, "model_mm": loaded.model_mm}, loaded.name


def _val_cases(url: str, store: Any, snapshot: list[dict[str, int]]) -> Iterator[tuple]:
    from lunglab.services.labels.labelmaps import read_labels
    from lunglab.services.access.studies import load_volume

    for item in snapshot:
        with session_scope(url) as db:
            study = job_row(db, Study, item["study_id"])
            version = job_row(db, LabelMapVersion, item["version_id"])
            volume = load_volume(store, study)
            ref = read_labels(store, version)
        yield item["study_id"], volume, ref


class TrainParams(BaseModel):
    """A ``train`` job: the run it trains (made by ``training.runs``), resumed or not."""

    model_config = ConfigDict(extra="forbid")
    run_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    resume: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"


def _run_in_project(db: Session, params: dict[str, Any], project_id: int | None) -> str | None:
    """A ``train`` job may only train a run of its own project."""
    run = db.get(TrainingRun, int(params["run_id"]))
    if run is None or run.project_id != project_id:
        return f"params.run_id: no training run {params['run_id']} in project {project_id}"
    return None


@job_kind("train", params=TrainParams, scope="project", check=_run_in_project)
def run_train(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Train (or resume) the run named by ``params["run_id"]``; see the module docstring."""
    from lunglab.ml.checkpoints import resolve_device

    run_id = int(params["run_id"])
    store = store_for(ctx.settings)
    with session_scope(ctx.url) as db:
        run = job_row(db, TrainingRun, run_id, running="state", what="training run")
        p = dict(run.params)
        base = db.get(ModelVersion, p["base_version_id"]) if p.get("base_version_id") else None
        base_path = weights_path(store, base) if base else None
        modality = str(p.get("modality") or "ct")
        train_refs = case_refs(db, store, run.data_snapshot)
        val_refs = case_refs(db, store, p["val_snapshot"])
        rdir, project_id = Path(run.checkpoint_dir), run.project_id
    device = resolve_device(p.get("device") or ctx.settings.device)
    net, base_cfg, base_name = base_network(base_path, p.get("arch", "unet2d"),
                                            float(p.get("model_mm", 1.5)),
                                            scratch=bool(p.get("from_scratch")))
    config = FineTuneConfig.from_params({**p, **base_cfg, "device": device})
    n_train = sum(len(r.slices) for r in train_refs)
    what = "radiographs" if modality == "xr" else "studies"
    ctx.log(f"run {run_id}: {len(train_refs)} training {what} ({n_train} lung slices), "
            f"{len(val_refs)} frozen validation studies; base {base_name or 'scratch'}; "
            f"{config.epochs} epochs x {min(n_train, config.slices_per_epoch)} slices on {device}")
    ctx.progress(0.01, "preparing")

    t0 = time.perf_counter()
    world = int(p.get("world_size") or 1)
    try:
        if world > 1:
            from lunglab.services.training.ddp import fine_tune_ddp

            ctx.log(f"DDP: {world} processes ({'nccl' if device == 'cuda' else 'gloo'})")
            out = fine_tune_ddp(world, net, train_refs, val_refs, config, rdir, store, ctx,
                                run_id)
        else:
            out = fine_tune(net, train_refs, val_refs, config, rdir, store,
                            on_epoch=EpochReporter(ctx, run_id, config))
    except BaseException as exc:
        with session_scope(ctx.url) as db:
            job_row(db, TrainingRun, run_id).state = \
                "cancelled" if isinstance(exc, JobCancelled) else "failed"
        raise
    if out["resumed_from_epoch"]:
        ctx.log(f"resumed from the checkpoint of epoch {out['resumed_from_epoch']}")
        with session_scope(ctx.url) as db:
            job_row(db, TrainingRun, run_id).resumed_from_epoch = out["resumed_from_epoch"]
    ctx.progress(TRAIN_SHARE, "registering the model")
    history = out["history"]
    meta = {"config": {**asdict(config), "train_study_ids": [r.study_id for r in train_refs],
                       "val_study_ids": [r.study_id for r in val_refs]},
            "num_classes": 4, "modality": modality, "xr_grid": config.xr_grid,
            "log": history, "train_seconds": out["seconds"],
            "device": device, "base": base_name}
    metrics = {"final_val_dice": history[-1]["val_dice"] if history else {},
               "epochs": out["epochs_done"], "train_seconds": out["seconds"],
               "history": history}
    with session_scope(ctx.url) as db:
        run = job_row(db, TrainingRun, run_id)
        mv = register(db, store, run, net.cpu(), meta, base_version_id=p.get("base_version_id"),
                      base_model=None if base else base_name, metrics=metrics)
        mv_id, mv_name, new_path = mv.id, mv.name, weights_path(store, mv)
        active = active_version(db, project_id, modality)
        active_path = weights_path(store, active) if active else None
        active_name = active.name if active else None
        run.state = "evaluating"
    if modality == "xr":
        from lunglab.ml.radiograph import RadiographSegmenter

        ctx.log(f"registered {mv_name} (candidate radiograph model); comparing with "
                f"{active_name or 'nothing (no radiograph model is shipped)'}")
        segmenter: Any = RadiographSegmenter
        floor: float | None = FIRST_RADIOGRAPH_FLOOR
        size = "area"
    else:
        ctx.log(f"registered {mv_name} (candidate); comparing with "
                f"{active_name or 'the shipped model'}")
        tune_smartclick(ctx, store, train_refs, mv_id, base, int(p.get("epochs", 1)),  # issue 18
                        iterations=p.get("smartclick_iterations"))
        segmenter, floor, size = None, None, "volume"
    ctx.progress(0.9, "evaluating on the frozen validation set")
    comparison = compare(lambda: _val_cases(ctx.url, store, p["val_snapshot"]), new_path,
                         active_path, device, active_name, segmenter=segmenter, floor=floor,
                         size=size)
    with session_scope(ctx.url) as db:
        job_row(db, ModelVersion, mv_id).comparison = comparison
        job_row(db, TrainingRun, run_id).state = "done"
    ctx.log(f"gate: {comparison['gate']}")
    return {"run_id": run_id, "model_version_id": mv_id, "model": mv_name,
            "epochs": out["epochs_done"], "resumed_from_epoch": out["resumed_from_epoch"],
            "seconds": round(time.perf_counter() - t0, 1),
            "final_val_dice": metrics["final_val_dice"], "gate": comparison["gate"],
            "improved": comparison["improved"], "worsened": comparison["worsened"]}
