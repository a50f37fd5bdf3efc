"""The ``integrity-check`` job: re-hash every stored object of a project against the database."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from lunglab.db.models import LabelMapVersion, Study
from lunglab.db.session import session_scope
from lunglab.io.store import store_for
from lunglab.services.labels import slices as labelslices
from lunglab.services.jobs import JobContext, job_kind


def check_slices(db: Session, study_id: int, manifest: dict[str, Any], checksum: str,
                 seen: set[tuple[int, str]]) -> str | None:
    """Problem with a slice-stored version, or None: every slice is there and matches its
    digest (slices shared with versions already checked, in ``seen``, are not re-read), and
    the manifest matches the version's digest."""
    if labelslices.labels_digest(manifest["slices"]) != checksum:
        return "manifest does not match the version digest"
    shape_yx = (int(manifest["shape"][1]), int(manifest["shape"][2]))
    todo = {d for d in manifest["slices"] if (study_id, d) not in seen}
    try:
        labelslices.read_slices(db, study_id, todo, shape_yx, verify=True)
    except labelslices.SliceError as exc:
        return str(exc)
    seen.update((study_id, d) for d in todo)
    return None


@job_kind("integrity-check", scope="project")
def run_integrity_check(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Compare each study volume and label map with its recorded SHA-256 (slice-stored label
    maps: each slice with its digest, the manifest with the version's digest).

    Returns counts and the list of missing or altered objects (by study / version id).
    """
    project_id = int(params["project_id"])
    store = store_for(ctx.settings)
    with session_scope(ctx.url) as db:
        items: list[tuple[str, int, str, str]] = [
            ("study", s.id, s.volume_key, s.volume_checksum)
            for s in db.scalars(select(Study).where(Study.project_id == project_id))
        ]
        versions = list(db.scalars(select(LabelMapVersion).join(Study).where(
            Study.project_id == project_id).options(undefer(LabelMapVersion.manifest))))
        items += [("version", v.id, v.file_key, v.checksum) for v in versions]
        manifests = {v.id: (v.study_id, v.manifest) for v in versions if v.manifest}
        problems: list[dict[str, Any]] = []
        seen: set[tuple[int, str]] = set()
        for i, (kind, oid, key, expected) in enumerate(items):
            if kind == "version" and oid in manifests:
                study_id, manifest = manifests[oid]
                problem = check_slices(db, study_id, manifest, expected, seen)
                if problem:
                    problems.append({"object": kind, "id": oid, "problem": problem})
            elif not store.exists(key):
                problems.append({"object": kind, "id": oid, "problem": "missing"})
            elif store.checksum(key) != expected:
                problems.append({"object": kind, "id": oid, "problem": "checksum mismatch"})
            ctx.progress((i + 1) / max(1, len(items)), f"checked {i + 1} of {len(items)} objects")
    ctx.log(f"checked {len(items)} objects, {len(problems)} problem(s)")
    return {"checked": len(items), "problems": problems}
