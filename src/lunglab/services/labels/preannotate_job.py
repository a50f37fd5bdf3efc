"""The ``ai-segment`` job: run the active models on a study and store an ``ai`` version."""
from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.models import Study
from lunglab.db.models_training import ModelVersion
from lunglab.db.session import session_scope
from lunglab.io.store import store_for
from lunglab.services.jobs import JobContext, job_kind, job_row


class AiSegmentParams(BaseModel):
    """``ai-segment`` options; other keys (e.g. ``trigger``) are kept as notes."""

    model_config = ConfigDict(extra="allow")
    model: str | None = Field(None, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                              description="a model name: one of the study's project's model "
                              "versions or a shipped model; default: the project's active model. "
                              "Never a file path.")
    device: Literal["auto", "cpu", "cuda"] | None = None


def _model_fits_study(db: Session, params: dict[str, Any], project_id: int | None) -> str | None:
    """A radiograph needs a radiograph model: the project's active one, or one named."""
    from lunglab.ml.radiograph import NO_SHIPPED_MODEL
    from lunglab.services.training.model_versions import active_version, study_modality

    study = db.get(Study, int(params["study_id"]))
    if study is None or project_id is None:
        return None  # the submission's own check reports the missing study
    modality = study_modality(study)
    name = params.get("model")
    if name:
        mv = db.scalar(select(ModelVersion).where(ModelVersion.project_id == project_id,
                                                  ModelVersion.name == name))
        kind = mv.modality if mv is not None else "ct"  # shipped models are CT models
        if kind != modality:
            what = {"ct": "a CT", "xr": "a radiograph"}
            return (f"model {name} is {what[kind]} model; study {study.id} is "
                    f"{what[modality]} study")
        return None
    if modality == "xr" and active_version(db, project_id, "xr") is None:
        return f"no radiograph model is active in project {project_id}. {NO_SHIPPED_MODEL}"
    return None


@job_kind("ai-segment", params=AiSegmentParams, scope="study", check=_model_fits_study)
def run_ai_segment(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Segment lung, GGO and consolidation; save the result as an ``ai`` label-map version.

    A CT runs through :func:`lunglab.ml.segment_volume`; a radiograph through the project's
    radiograph model (:class:`lunglab.ml.radiograph.RadiographSegmenter`).
    """
    from lunglab.ml import segment_volume, summarize
    from lunglab.ml.checkpoints import resolve_device
    from lunglab.services.labels.labelmaps import save_version
    from lunglab.services.training.model_versions import (
        active_model_for_study,
        model_by_name,
        study_modality,
    )
    from lunglab.services.access.studies import load_volume

    study_id = int(params["study_id"])
    store = store_for(ctx.settings)
    with session_scope(ctx.url) as db:
        study = job_row(db, Study, study_id, running="ai_status", what="study")
        modality = study_modality(study)
        volume = load_volume(store, study)
        model = (model_by_name(db, store, study.project_id, params["model"])
                 if params.get("model") else active_model_for_study(db, store, study_id))
    ctx.progress(0.1, "segmenting")
    ctx.log(f"segmenting study {study_id}: {volume.shape} voxels")
    t0 = time.perf_counter()
    device = resolve_device(params.get("device") or ctx.settings.device)
    if modality == "xr":
        from lunglab.ml.radiograph import RadiographSegmenter, radiograph_summary

        labels, info = RadiographSegmenter(model, device)(volume)
        seconds = time.perf_counter() - t0
        summary: dict[str, Any] = radiograph_summary(labels)
    else:
        labels, info = segment_volume(volume, device=device, model=model)
        seconds = time.perf_counter() - t0
        summary = summarize(labels, volume.spacing)
    ctx.progress(0.8, "saving")
    summary = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in summary.items()}
    model_name = str(info.get("model_name") or info.get("model") or "lunglab")
    with session_scope(ctx.url) as db:
        version = save_version(db, store, None, study_id, labels, base_version_id=None,
                               kind="ai", model_name=model_name, check_base=False,
                               message=f"AI proposal by {model_name}",
                               details={"model": info, "seconds": round(seconds, 2)})
        study = job_row(db, Study, study_id, what="study")
        study.ai_status = "done"
        study.ai_summary = {**summary, "version_id": version.id, "model": model_name}
    ctx.log(f"saved ai version {version.id} in {seconds:.1f}s: {summary}")
    return {"version_id": version.id, "summary": summary, "model": info,
            "seconds": round(seconds, 2)}
