"""Provenance of a study's label maps: the lineage AI proposal -> reader edits -> review decision,
and each reader's correction effort (voxels added/removed per label against where they started
and against the AI proposal) with their active time. It tells a project how much the AI saves.

Blinding holds here too: an annotator sees only their own chain, the shared versions and the
review feedback on their own assignment.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.models import Assignment, LabelMapVersion, User
from lunglab.db.models_collab import AssignmentProgress, ReviewDecision
from lunglab.io.store import VolumeStore
from lunglab.imaging import agreement as am
from lunglab.services.access import audit
from lunglab.services.labels import labelmaps
from lunglab.services.collab.assignments import aware, newest_ai_version
from lunglab.services.access.projects import get_study
from lunglab.services.collab.review import decision_facts, final_version_id


def step_of(v: LabelMapVersion, submitted_ids: set[int], final_id: int | None) -> str:
    """Where a version sits in the chain."""
    details = v.details or {}
    if v.id == final_id:
        return "approved"
    if v.kind in ("ai", "imported", "consensus"):
        return v.kind
    if "review_copy_of" in details:
        return "review_copy"
    return "submitted" if v.id in submitted_ids else "reader_edit"


def chain(by_id: dict[int, LabelMapVersion], leaf: int | None) -> list[int]:
    """Version ids from the root to ``leaf`` following ``parent_id`` (visible versions only)."""
    out: list[int] = []
    while leaf is not None and leaf in by_id and leaf not in out:
        out.append(leaf)
        leaf = by_id[leaf].parent_id
    return out[::-1]


def correction_effort(store: VolumeStore, start: LabelMapVersion | None,
                      ai: LabelMapVersion | None, final: LabelMapVersion) -> dict[str, Any]:
    """Voxel changes of ``final`` against the reader's start and against the AI proposal."""
    final_arr = labelmaps.read_labels(store, final)
    start_arr = labelmaps.read_labels(store, start) if start is not None else None
    out: dict[str, Any] = {"vs_start": am.effort(start_arr, final_arr)}
    if ai is None:
        out["vs_ai"] = None
    elif start is not None and start.id == ai.id:
        out["vs_ai"] = out["vs_start"]
    else:
        out["vs_ai"] = am.effort(labelmaps.read_labels(store, ai), final_arr)
    return out


def edit_counts(versions: list[LabelMapVersion]) -> dict[str, int]:
    """Smart clicks, brush strokes, ... summed over a reader's versions (their ``edit_counts``)."""
    total: dict[str, int] = {"smart_clicks": 0, "brush_strokes": 0}
    for v in versions:
        for key, n in ((v.details or {}).get("edit_counts") or {}).items():
            total[key] = total.get(key, 0) + int(n)
    return total


def history(db: Session, store: VolumeStore, user: User, study_id: int, *,
            effort: bool = True) -> dict[str, Any]:
    """The study's history as the caller may see it.

    Returns:
        ``{"study_id", "final_version_id", "versions": [...], "readers": [...],
        "decisions": [...]}``; each reader entry has its chain of version ids, its state,
        start, active seconds and (``effort=True``) the correction effort.
    """
    study, role = get_study(db, user, study_id)
    visible = sorted(labelmaps.visible_versions(db, user, study, role), key=lambda v: v.id)
    by_id = {v.id: v for v in visible}
    q = select(Assignment, AssignmentProgress).outerjoin(
        AssignmentProgress, AssignmentProgress.assignment_id == Assignment.id).where(
        Assignment.study_id == study.id)
    if role == "annotator":
        q = q.where(Assignment.user_id == user.id)
    rows = db.execute(q.order_by(Assignment.id)).all()
    submitted_ids = {p.submitted_version_id for _, p in rows if p and p.submitted_version_id}
    final_id = final_version_id(db, study.id)
    ai = newest_ai_version(db, study.id)
    readers = []
    for a, p in rows:
        own = [v for v in visible if v.author_id == a.user_id]
        leaf = (p.submitted_version_id if p and p.submitted_version_id
                else (own[-1].id if own else None))
        entry: dict[str, Any] = {
            "assignment_id": a.id, "reader": getattr(db.get(User, a.user_id), "username", None),
            "state": a.state, "start_from": p.start_from if p else None,
            "start_version_id": p.start_version_id if p else None,
            "submitted_version_id": p.submitted_version_id if p else None,
            "active_seconds": round(p.active_seconds or 0.0, 1) if p else 0.0,
            "chain": chain(by_id, leaf), "effort": None}
        if effort and leaf is not None and leaf in by_id:
            start = by_id.get(p.start_version_id) if p and p.start_version_id else None
            entry["effort"] = correction_effort(store, start, ai, by_id[leaf])
        own_chain = [by_id[i] for i in entry["chain"] if by_id[i].author_id == a.user_id]
        entry["edit_counts"] = edit_counts(own_chain)
        if entry["effort"] is not None:
            entry["effort"].update(entry["edit_counts"])
        readers.append(entry)
    dq = select(ReviewDecision).where(ReviewDecision.study_id == study.id)
    if role == "annotator":
        dq = dq.where(ReviewDecision.assignment_id.in_([a.id for a, _ in rows] or [-1]))
    decisions = [decision_facts(d) for d in db.scalars(dq.order_by(ReviewDecision.id))]
    versions = [{
        "id": v.id, "kind": v.kind, "author": v.author.username if v.author else None,
        "model_name": v.model_name, "parent_id": v.parent_id, "created_at": aware(v.created_at),
        "message": v.message, "step": step_of(v, submitted_ids, final_id),
        "inputs": None if role == "annotator"  # blinding: other readers' version ids
        else (v.details or {}).get("consensus", {}).get("inputs"),
        "review_copy_of": (v.details or {}).get("review_copy_of"),
        "edit_counts": (v.details or {}).get("edit_counts"),
    } for v in visible]
    audit.record(db, user, "study.history_view", "study", study.id)
    return {"study_id": study.id, "ai_version_id": ai.id if ai and ai.id in by_id else None,
            "final_version_id": final_id if final_id in by_id else None,
            "versions": versions, "readers": readers, "decisions": decisions}
