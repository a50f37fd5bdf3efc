"""The ``agreement`` job: compute and cache a study's inter-reader agreement ahead of review."""
from __future__ import annotations

from typing import Any

from lunglab.db.models import Study
from lunglab.db.session import session_scope
from lunglab.io.store import store_for
from lunglab.services.collab.agreement import compute_agreement
from lunglab.services.jobs import JobContext, job_kind, job_row


@job_kind("agreement", scope="study")
def run_agreement(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Compute and cache the agreement of a study's submitted versions, so that the reviewer's
    first look does not wait for it (started when a second reader submits)."""
    study_id = int(params["study_id"])
    with session_scope(ctx.url) as db:
        study = job_row(db, Study, study_id, what="study")
        ctx.progress(0.1, "comparing the submitted versions")
        result = compute_agreement(db, store_for(ctx.settings), study)
    readers = len(result.get("readers", []))
    ctx.log(f"agreement of {readers} readers on study {study_id} computed and cached")
    return {"study_id": study_id, "readers": readers}
