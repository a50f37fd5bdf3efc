"""The ``ai-segment`` job: run the active models on a study and store an ``ai`` version."""
from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lunglab.db.models import Study
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


@job_kind("ai-segment", params=AiSegmentParams, scope="study")
def run_ai_segment(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Segment lung, GGO and consolidation; save the result as an ``ai`` label-map version."""
    from lunglab.ml import segment_volume, summarize
    from lunglab.services.labels.labelmaps import save_version
    from lunglab.services.training.model_versions import (
        active_model_for_study,
        model_by_name,
    )
    from lunglab.services.access.studies import load_volume

    study_id = int(params["study_id"])
    store = store_for(ctx.settings)
    with session_scope(ctx.url) as db:
        study = job_row(db, Study, study_id, running="ai_status", what="study")
        volume = load_volume(store, study)
        model = (model_by_name(db, store, study.project_id, params["model"])
                 if params.get("model") else active_model_for_study(db, store, study_id))
    ctx.progress(0.1, "segmenting")
    ctx.log(f"segmenting study {study_id}: {volume.shape} voxels")
    t0 = time.perf_counter()
    labels, info = segment_volume(volume, device=params.get("device", ctx.settings.device),
                                  model=model)
    seconds = time.perf_counter() - t0
    ctx.progress(0.8, "saving")
    summary = summarize(labels, volume.spacing)
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
