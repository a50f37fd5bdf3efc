"""Radiograph exports: the label map as a PNG mask, DICOM SEG on DICOM radiographs, and a CSV
of every reader's findings and scores. Project admins only; each is an audit event.

NIfTI masks need nothing new: a radiograph's version exports as a one-slice NIfTI through
``/api/exports/versions/{id}/labels.nii.gz``.
"""
from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.lookup import get_or_404
from lunglab.db.models import LabelMapVersion, Study, User
from lunglab.db.models_radiograph import RadiographReading
from lunglab.domain.radiograph import BRIXIA_ZONES, RADIOGRAPH_MODALITIES, is_radiograph
from lunglab.io.store import VolumeStore
from lunglab.services.access import audit
from lunglab.services.access.projects import require_role
from lunglab.services.access.studies import load_volume
from lunglab.services.errors import InvalidInput
from lunglab.services.labels.labelmaps import read_labels

CSV_COLUMNS = ["study_id", "study", "modality", "reader", "category", "brixia_total",
               *[f"brixia_{z}" for z in BRIXIA_ZONES], "rale_total", "rale_right", "rale_left",
               "note", "updated_at"]


def _admin_radiograph_version(db: Session, user: User, version_id: int
                              ) -> tuple[Study, LabelMapVersion]:
    version = get_or_404(db, LabelMapVersion, version_id, "version")
    study = get_or_404(db, Study, version.study_id, "study")
    require_role(db, user, study.project_id, "admin")
    if not is_radiograph(study.modality):
        raise InvalidInput(f"study {study.id} is not a radiograph")
    return study, version


def mask_png(db: Session, store: VolumeStore, user: User, version_id: int) -> tuple[bytes, str]:
    """``(PNG bytes, file name)``: the version's labels as pixel values 0-3."""
    from lunglab.io.export.radiograph import mask_png as encode

    study, version = _admin_radiograph_version(db, user, version_id)
    data = encode(read_labels(store, version))
    audit.record(db, user, "export.radiograph_mask_png", "version", version.id, study=study.id)
    return data, f"study{study.id}-mask-v{version.id}.png"


def seg_file(db: Session, store: VolumeStore, user: User, version_id: int,
             workdir: Path) -> tuple[Path, str]:
    """``(path, file name)`` of a DICOM SEG over the rebuilt CR/DX image (DICOM sources only).

    Raises:
        InvalidInput: the radiograph came from a PNG/JPEG picture (no DICOM to reference).
    """
    from lunglab.io.export.radiograph import radiograph_dataset
    from lunglab.io.export.seg import build_seg, write_seg

    study, version = _admin_radiograph_version(db, user, version_id)
    if study.source_kind != "dicom":
        raise InvalidInput("DICOM SEG is made only for radiographs imported as DICOM; this one "
                           "came from a picture: export the PNG or NIfTI mask instead")
    vol = load_volume(store, study)
    image = radiograph_dataset(vol.array[0], dict(study.meta or {}), study_uid=study.study_uid,
                               series_uid=study.series_uid, patient_key=study.patient_key,
                               spacing=(float(study.spacing[1]), float(study.spacing[0])))
    seg = build_seg(read_labels(store, version), [image],
                    version_key=f"version-{version.id}-{version.checksum[:16]}",
                    kind=version.kind, model_name=version.model_name,
                    reader=version.author.username if version.author else None)
    path = write_seg(seg, Path(tempfile.mkdtemp(dir=workdir)) / "seg.dcm")
    audit.record(db, user, "export.radiograph_seg", "version", version.id, study=study.id,
                 sop_instance_uid=str(seg.SOPInstanceUID))
    return path, f"study{study.id}-seg-v{version.id}.dcm"


def findings_csv(db: Session, user: User, project_id: int) -> str:
    """Every reading of the project's radiographs, one row per reader and study."""
    require_role(db, user, project_id, "admin")
    rows = db.execute(select(RadiographReading, Study).join(
        Study, Study.id == RadiographReading.study_id).where(
        Study.project_id == project_id, Study.modality.in_(RADIOGRAPH_MODALITIES)).order_by(
        Study.id, RadiographReading.id)).unique().all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r, study in rows:
        brixia: list[int | None] = [*r.brixia] if r.brixia else [None] * len(BRIXIA_ZONES)
        rale: list[int | None] = [*r.rale] if r.rale else [None, None]
        writer.writerow([study.id, study.name, study.modality, r.user.username, r.category,
                         sum(r.brixia) if r.brixia is not None else "", *_blank(brixia),
                         sum(r.rale) if r.rale is not None else "", *_blank(rale),
                         _cell(r.note), r.updated_at.isoformat() if r.updated_at else ""])
    audit.record(db, user, "export.radiograph_findings_csv", "project", project_id,
                 rows=len(rows))
    return out.getvalue()


def _cell(text: str) -> str:
    """Free text made safe for spreadsheets (no formula injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _blank(values: list) -> list:
    return ["" if v is None else v for v in values]


def discard(path: Path) -> None:
    """Remove a file built for one download (and its scratch folder)."""
    import shutil

    shutil.rmtree(path.parent, ignore_errors=True)
