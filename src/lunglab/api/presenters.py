"""ORM rows to response schemas: the one place a route's answer is built from a table row.

Routes parse, call one service and hand what it returns to a presenter here; a presenter only
reads (the row, or plain facts a service computes for it) and never changes state.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from lunglab.api.schemas.collab import (
    AssignmentDetailOut,
    AssignmentOut,
    ReviewOut,
    ReviewReaderOut,
)
from lunglab.api.schemas.resources import (
    JobPublic,
    MemberPublic,
    ProjectPublic,
    StudyPublic,
    VersionPublic,
)
from lunglab.api.schemas.training import ModelVersionPublic
from lunglab.db.models import Assignment, Job, LabelMapVersion, Membership, Project, Study
from lunglab.db.models_training import ModelVersion
from lunglab.services.collab import assignments, review
from lunglab.services.labels import labelmaps
from lunglab.services.training import model_versions


def study_public(s: Study, stats: tuple[int | None, int] | None) -> StudyPublic:
    """A study with its newest visible version id and version count (``stats``)."""
    latest, count = stats or (None, 0)
    return StudyPublic(
        id=s.id, project_id=s.project_id, name=s.name, shape=s.shape, spacing=s.spacing,
        origin=s.origin, direction=s.direction, slice_count=s.slice_count, modality=s.modality,
        manufacturer=s.manufacturer, kernel=s.kernel, kvp=s.kvp,
        series_description=s.series_description, patient_key=s.patient_key,
        created_at=s.created_at, updated_at=s.updated_at, ai_status=s.ai_status,
        ai_summary=s.ai_summary, latest_version_id=latest, version_count=count,
        warnings=s.warnings or [],
    )


def project_public(p: Project, role: str) -> ProjectPublic:
    """A project as seen by a member with ``role``."""
    return ProjectPublic(id=p.id, name=p.name, description=p.description,
                         label_schema=p.label_schema,  # type: ignore[arg-type]
                         settings=p.settings or {}, my_role=role, created_at=p.created_at)


def member_public(m: Membership, username: str | None = None) -> MemberPublic:
    """A project membership (``username`` when the caller already has it)."""
    return MemberPublic(user_id=m.user_id, username=username or m.user.username, role=m.role)


def job_public(j: Job) -> JobPublic:
    """A job row, with the requesting user's name."""
    return JobPublic(
        id=j.id, kind=j.kind, state=j.state, progress=j.progress, message=j.message,
        created_at=j.created_at, started_at=j.started_at, finished_at=j.finished_at,
        requested_by=j.requested_by.username if j.requested_by else None, study_id=j.study_id,
        project_id=j.project_id, runner=j.runner, worker=j.worker, result=j.result,
    )


def version_public(v: LabelMapVersion, study: Study) -> VersionPublic:
    """A label-map version with its volumes in mL (from the study's voxel size)."""
    return VersionPublic(
        id=v.id, study_id=v.study_id, kind=v.kind, author=v.author.username if v.author else None,
        model_name=v.model_name, parent_id=v.parent_id, created_at=v.created_at,
        checksum=v.checksum, voxel_counts=v.voxel_counts or {},
        volumes_ml=labelmaps.volumes_ml(v, study), message=v.message,
    )


def assignment_out(db: Session, a: Assignment) -> AssignmentOut:
    """An assignment with its progress and the study's name."""
    return AssignmentOut(**assignments.assignment_facts(db, a))


def assignments_out(db: Session, rows: Iterable[Assignment]) -> list[AssignmentOut]:
    """:func:`assignment_out` of each row."""
    return [assignment_out(db, a) for a in rows]


def assignment_detail(db: Session, a: Assignment) -> AssignmentDetailOut:
    """An assignment with the reviewer's feedback (returns, anchors, promotion reason)."""
    facts: dict[str, Any] = {**assignments.assignment_facts(db, a), **review.feedback(db, a.id)}
    return AssignmentDetailOut(**facts)


def review_out(db: Session, o: dict[str, Any]) -> ReviewOut:
    """The review screen from :func:`lunglab.services.collab.review.overview`'s facts."""
    study = o["study"]
    readers = []
    for r in o["readers"]:
        v = db.get(LabelMapVersion, r["version_id"]) if r["version_id"] else None
        readers.append(ReviewReaderOut(**{k: x for k, x in r.items() if k != "version_id"},
                                       version=version_public(v, study) if v else None))
    return ReviewOut(study_id=study.id, study_name=study.name, readers=readers,
                     other_versions=[version_public(v, study) for v in o["other_versions"]],
                     comments=o["comments"], decisions=o["decisions"],
                     final_version_id=o["final_version_id"])


def model_public(db: Session, mv: ModelVersion) -> ModelVersionPublic:
    """A trained model version with its lineage back to the shipped (or scratch) base."""
    return ModelVersionPublic(
        id=mv.id, project_id=mv.project_id, number=mv.number, name=mv.name,
        state=mv.state, modality=mv.modality,  # type: ignore[arg-type]
        base_version_id=mv.base_version_id, base_model=mv.base_model,  # type: ignore[arg-type]
        lineage=model_versions.lineage(db, mv), arch=mv.arch, config=mv.config, seed=mv.seed,
        data_snapshot=mv.data_snapshot, val_study_ids=mv.val_study_ids, metrics=mv.metrics,
        comparison=mv.comparison, run_id=mv.run_id,
        created_by=mv.created_by.username if mv.created_by else None,
        created_at=mv.created_at, promoted_at=mv.promoted_at,
        promotion_reason=mv.promotion_reason)
