"""The ``rank-uncertainty`` job: score the project's unannotated studies with the active model
(active learning: the most uncertain are worth annotating first)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from lunglab.db.models import Study
from lunglab.db.models_training import UncertaintyScore
from lunglab.db.session import session_scope
from lunglab.services.jobs import JobContext, job_kind
from lunglab.services.training.active_learning import METHOD, score_study, unannotated


@job_kind("rank-uncertainty", scope="project")
def run_rank(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Score every unannotated study of ``params["project_id"]`` with the active model."""
    from lunglab.ml import load_model
    from lunglab.services.training.model_versions import active_version, weights_path
    from lunglab.io.store import store_for
    from lunglab.services.access.studies import load_volume

    project_id = int(params["project_id"])
    store = store_for(ctx.settings)
    with session_scope(ctx.url) as db:
        ids = unannotated(db, project_id)
        mv = active_version(db, project_id)
        model = weights_path(store, mv) if mv else None
    loaded = load_model(model, "cpu")
    rows = []
    for i, sid in enumerate(ids):
        ctx.progress(i / max(1, len(ids)), f"study {i + 1}/{len(ids)}")
        with session_scope(ctx.url) as db:
            study = db.get(Study, sid)
            if study is None:
                continue
            volume = load_volume(store, study)
        rows.append((sid, score_study(loaded, volume, int(params.get("max_slices", 8)))))
    with session_scope(ctx.url) as db:
        db.execute(delete(UncertaintyScore).where(UncertaintyScore.project_id == project_id))
        for sid, r in rows:
            db.add(UncertaintyScore(project_id=project_id, study_id=sid, model_name=loaded.name,
                                    method=METHOD, score=r["score"], details=r,
                                    job_id=ctx.job_id))
    ctx.log(f"scored {len(rows)} unannotated studies with {loaded.name}")
    return {"scored": len(rows), "model": loaded.name}
