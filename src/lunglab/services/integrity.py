"""The ``integrity-check`` job: re-hash every stored file of a project against the database."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lunglab.db.models import LabelMapVersion, Study
from lunglab.db.session import session_scope
from lunglab.io.store import store_for
from lunglab.services.jobs import JobContext, job_kind


@job_kind("integrity-check")
def run_integrity_check(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Compare each study volume and label map with its recorded SHA-256.

    Returns counts and the list of missing or altered objects (by study / version id).
    """
    project_id = int(params["project_id"])
    store = store_for(ctx.settings)
    with session_scope(ctx.url) as db:
        items: list[tuple[str, int, str, str]] = [
            ("study", s.id, s.volume_key, s.volume_checksum)
            for s in db.scalars(select(Study).where(Study.project_id == project_id))
        ]
        items += [
            ("version", v.id, v.file_key, v.checksum)
            for v in db.scalars(select(LabelMapVersion).join(Study).where(
                Study.project_id == project_id))
        ]
    problems: list[dict[str, Any]] = []
    for i, (kind, oid, key, expected) in enumerate(items):
        if not store.exists(key):
            problems.append({"object": kind, "id": oid, "problem": "missing"})
        elif store.checksum(key) != expected:
            problems.append({"object": kind, "id": oid, "problem": "checksum mismatch"})
        ctx.progress((i + 1) / max(1, len(items)), f"checked {i + 1} of {len(items)} files")
    ctx.log(f"checked {len(items)} files, {len(problems)} problem(s)")
    return {"checked": len(items), "problems": problems}
