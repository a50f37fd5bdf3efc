"""Study listing and volume access."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lunglab.db.models import Assignment, LabelMapVersion, Study, User
from lunglab.domain.volume import CTVolume
from lunglab.io.store import VolumeStore
from lunglab.services.access.projects import get_project


def list_studies(db: Session, user: User, project_id: int, *, offset: int = 0, limit: int = 50,
                 q: str | None = None, ai_status: str | None = None) -> tuple[list[Study], int]:
    """Studies of a project the user may see (annotators: only their assigned ones)."""
    _, role = get_project(db, user, project_id)
    query = select(Study).where(Study.project_id == project_id)
    if role == "annotator":
        query = query.where(Study.id.in_(
            select(Assignment.study_id).where(Assignment.user_id == user.id)))
    if q:
        like = f"%{q}%"
        query = query.where(or_(Study.name.ilike(like), Study.series_description.ilike(like),
                                Study.patient_key.ilike(like)))
    if ai_status:
        query = query.where(Study.ai_status == ai_status)
    count = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(Study.id.desc()).offset(offset).limit(min(limit, 500))).all()
    return list(rows), int(count)


def version_stats(db: Session, studies: list[Study],
                  reader_id: int | None = None) -> dict[int, tuple[int | None, int]]:
    """Newest version id and version count per study.

    ``studies`` belong to one project. With ``reader_id`` (an annotator) only the versions
    that reader may see count (blinding; no AI proposal where the project starts readers
    empty).
    """
    if not studies:
        return {}
    q = (select(LabelMapVersion.study_id, func.max(LabelMapVersion.id), func.count())
         .where(LabelMapVersion.study_id.in_([s.id for s in studies])))
    if reader_id is not None:
        from lunglab.services.labels.labelmaps import reader_kinds

        q = q.where(LabelMapVersion.kind.in_(reader_kinds(db, studies[0])) |
                    (LabelMapVersion.author_id == reader_id))
    rows = db.execute(q.group_by(LabelMapVersion.study_id)).all()
    return {sid: (vid, n) for sid, vid, n in rows}


def load_volume(store: VolumeStore, study: Study) -> CTVolume:
    """Read the stored de-identified CT of a study."""
    import SimpleITK as sitk

    img = sitk.ReadImage(str(store.local_path(study.volume_key)))
    return CTVolume.from_sitk(img, meta=dict(study.meta or {}))
