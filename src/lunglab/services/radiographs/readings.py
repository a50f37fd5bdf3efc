"""Readers' study-level findings on radiographs (RSNA category, Brixia, RALE).

Blinding follows the label maps: an annotator sees and edits only their own reading, and only
while their assignment is open (not submitted or approved); reviewers and project admins see
every reading of the study. Every save is an audit event with the values saved.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.models import Assignment, Study, User
from lunglab.db.models_radiograph import RadiographReading
from lunglab.domain.radiograph import RadiographFindings, is_radiograph
from lunglab.services.access import audit, projects
from lunglab.services.errors import Conflict, InvalidInput

LOCKED_STATES = ("submitted", "approved")


def radiograph_study(db: Session, user: User, study_id: int) -> tuple[Study, str]:
    """The study and the user's role, if the user may open it and it is a radiograph.

    Raises:
        NotFound: no such study for this user.
        InvalidInput: the study is a CT, not a radiograph.
    """
    study, role = projects.get_study(db, user, study_id)
    if not is_radiograph(study.modality):
        raise InvalidInput(f"study {study_id} is a {study.modality or 'CT'} volume, "
                           "not a radiograph")
    return study, role


def own_reading(db: Session, user: User, study_id: int) -> RadiographReading | None:
    """The user's reading of the study, if any."""
    radiograph_study(db, user, study_id)
    return db.scalar(select(RadiographReading).where(RadiographReading.study_id == study_id,
                                                     RadiographReading.user_id == user.id))


def visible_readings(db: Session, user: User, study_id: int) -> list[RadiographReading]:
    """Readings the user may see: all for reviewers and admins, else only their own."""
    _, role = radiograph_study(db, user, study_id)
    query = select(RadiographReading).where(RadiographReading.study_id == study_id)
    if role not in ("admin", "reviewer"):
        query = query.where(RadiographReading.user_id == user.id)
    return list(db.scalars(query.order_by(RadiographReading.id)).unique().all())


def save_reading(db: Session, user: User, study_id: int,
                 findings: RadiographFindings) -> RadiographReading:
    """Create or update the user's reading.

    Raises:
        Conflict: the user's assignment for this study is already submitted or approved.
    """
    study, _ = radiograph_study(db, user, study_id)
    state = db.scalar(select(Assignment.state).where(Assignment.study_id == study_id,
                                                     Assignment.user_id == user.id))
    if state in LOCKED_STATES:
        raise Conflict(f"your reading of this study is {state}; it can no longer be changed",
                       assignment_state=state)
    reading = db.scalar(select(RadiographReading).where(
        RadiographReading.study_id == study_id, RadiographReading.user_id == user.id))
    if reading is None:
        reading = RadiographReading(study_id=study_id, user_id=user.id)
        db.add(reading)
    reading.category = findings.category
    reading.brixia = list(findings.brixia) if findings.brixia is not None else None
    reading.rale = list(findings.rale) if findings.rale is not None else None
    reading.note = findings.note
    db.flush()
    audit.record(db, user, "radiograph.reading_save", "study", study.id, project=study.project_id,
                 category=findings.category, brixia=findings.brixia_total,
                 rale=findings.rale_total)
    return reading


def reading_dict(r: RadiographReading) -> dict:
    """A reading as plain values (for schemas and CSV)."""
    return {"study_id": r.study_id, "reader": r.user.username, "category": r.category,
            "brixia": r.brixia,
            "brixia_total": sum(r.brixia) if r.brixia is not None else None, "rale": r.rale,
            "rale_total": sum(r.rale) if r.rale is not None else None, "note": r.note,
            "updated_at": r.updated_at}


def radiograph_view(db: Session, user: User, study_id: int) -> dict:
    """What the radiograph page shows besides the image and the label map."""
    study, _ = radiograph_study(db, user, study_id)
    meta = dict(study.meta or {})
    mine = own_reading(db, user, study_id)
    state = db.scalar(select(Assignment.state).where(Assignment.study_id == study_id,
                                                     Assignment.user_id == user.id))
    window = meta.get("RadiographWindow") or [127.5, 255.0]
    audit.record(db, user, "radiograph.view", "study", study_id)
    return {
        "study_id": study.id, "modality": study.modality or "", "source_kind": study.source_kind,
        "window": [float(v) for v in window],
        "text_regions": [list(map(int, r)) for r in meta.get("TextRegions", [])],
        "text_blacked_out": bool(meta.get("TextRegionsBlackedOut")),
        "my_reading": reading_dict(mine) if mine else None,
        "readings": [reading_dict(r) for r in visible_readings(db, user, study_id)],
        "can_edit": state not in LOCKED_STATES,
        "ai": ai_view(db, study.project_id),
    }


NO_MODEL_MESSAGE = ("No AI model for radiographs yet: LungLab ships none (the only radiographs "
                    "it can reach are 12 unlabelled pictures, too few to train or to check an "
                    "honest model). Label maps you draw and get approved here are the training "
                    "data: a project admin trains a radiograph model on the Training page "
                    "(docs/radiographs.md).")


def ai_view(db: Session, project_id: int) -> dict:
    """Whether the project has an active radiograph model to run, and which."""
    from lunglab.services.training.model_versions import active_version

    mv = active_version(db, project_id, "xr")
    if mv is None:
        return {"available": False, "message": NO_MODEL_MESSAGE}
    return {"available": True, "model": mv.name,
            "message": f"{mv.name}, trained on this project's approved radiographs "
                       f"({len(mv.data_snapshot)} training, {len(mv.val_study_ids)} validation)"}
