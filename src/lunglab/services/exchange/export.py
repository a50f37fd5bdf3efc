"""Exports: label maps (NIfTI, DICOM SEG), the de-identified CT (NIfTI, DICOM series) and
project datasets (nnU-Net / Decathlon layout).

Only project admins export, and every export is an audit event (``export.*``). Files built
for a download are written to the data folder's scratch space and returned as an
:class:`ExportFile`; the caller deletes them after sending when ``temporary`` is true.
"""
from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.lookup import get_or_404
from lunglab.db.models import LabelMapVersion, Project, Study, User
from lunglab.io.store import VolumeStore
from lunglab.services.access import audit
from lunglab.services.errors import NotFound
from lunglab.services.labels.labelmaps import materialize, read_labels
from lunglab.services.access.projects import require_role
from lunglab.services.access.studies import load_volume

KIND_PREFERENCE = ("consensus", "human", "imported", "ai")
"""Which version of a study goes into a dataset: the newest of the first kind present."""


@dataclass(frozen=True)
class ExportFile:
    """A file to send: its local path, download name and media type."""

    path: Path
    filename: str
    media_type: str
    temporary: bool = False


def _admin_study(db: Session, user: User | None, study_id: int) -> Study:
    study = get_or_404(db, Study, study_id, "study")
    if user is not None:
        require_role(db, user, study.project_id, "admin")
    return study


def _admin_version(db: Session, user: User | None, version_id: int
                   ) -> tuple[Study, LabelMapVersion]:
    version = get_or_404(db, LabelMapVersion, version_id, "version")
    return _admin_study(db, user, version.study_id), version


def ct_series(store: VolumeStore, study: Study) -> list[Any]:
    """The study's de-identified CT as DICOM datasets (pseudonymous UIDs, stored geometry)."""
    from lunglab.io.export.ct import ct_datasets

    return ct_datasets(load_volume(store, study), study_uid=study.study_uid,
                       series_uid=study.series_uid, patient_key=study.patient_key,
                       series_description=study.series_description)


def build_version_seg(store: VolumeStore, study: Study, version: LabelMapVersion
                      ) -> tuple[Any, list[Any]]:
    """``(segmentation, ct datasets)`` for a label-map version."""
    from lunglab.io.export.seg import build_seg

    ct = ct_series(store, study)
    key = f"version-{version.id}-{version.checksum[:16]}"
    seg = build_seg(read_labels(store, version), ct, version_key=key,
                    kind=version.kind, model_name=version.model_name,
                    reader=version.author.username if version.author else None)
    return seg, ct


def export_labels_nifti(db: Session, store: VolumeStore, user: User | None,
                        version_id: int) -> ExportFile:
    """The label map as stored (uint8 NIfTI with the study's geometry)."""
    study, version = _admin_version(db, user, version_id)
    audit.record(db, user, "export.labels_nifti", "version", version.id, study=study.id)
    return ExportFile(materialize(store, version, study),
                      f"study{study.id}-labels-v{version.id}.nii.gz", "application/gzip")


def export_ct_nifti(db: Session, store: VolumeStore, user: User | None,
                    study_id: int) -> ExportFile:
    """The de-identified CT as stored (int16 HU NIfTI)."""
    study = _admin_study(db, user, study_id)
    audit.record(db, user, "export.ct_nifti", "study", study.id)
    return ExportFile(store.local_path(study.volume_key), f"study{study.id}-ct.nii.gz",
                      "application/gzip")


@contextmanager
def scratch_folder(workdir: Path) -> Iterator[Path]:
    """A new folder under ``workdir`` for one export, removed if the export fails.

    On success the folder stays: the export's file is in it, and :func:`discard` removes it
    once sent. Everything a request may refuse (not found, not allowed, bad input) is checked
    before the folder is made.
    """
    folder = Path(tempfile.mkdtemp(dir=workdir))
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def export_seg(db: Session, store: VolumeStore, user: User | None, version_id: int,
               workdir: Path) -> ExportFile:
    """A DICOM SEG file of the version, referencing the exported CT series."""
    from lunglab.io.export.seg import write_seg

    study, version = _admin_version(db, user, version_id)
    seg, _ = build_version_seg(store, study, version)
    with scratch_folder(workdir) as scratch:
        path = write_seg(seg, scratch / "seg.dcm")
        audit.record(db, user, "export.seg", "version", version.id, study=study.id,
                     sop_instance_uid=str(seg.SOPInstanceUID))
    return ExportFile(path, f"study{study.id}-seg-v{version.id}.dcm", "application/dicom",
                      temporary=True)


def export_ct_dicom(db: Session, store: VolumeStore, user: User | None, study_id: int,
                    workdir: Path, *, with_seg_version: int | None = None) -> ExportFile:
    """A zip of the CT series (``CT/CT000001.dcm``...), optionally with a SEG (``SEG/``)."""
    from lunglab.io.export.ct import write_ct_series
    from lunglab.io.export.seg import write_seg

    study = _admin_study(db, user, study_id)
    version = None
    if with_seg_version is not None:  # checked before anything is written
        seg_study, version = _admin_version(db, user, with_seg_version)
        if seg_study.id != study.id:
            raise NotFound(f"version {with_seg_version} not found for study {study.id}")
    with scratch_folder(workdir) as scratch:
        ct = ct_series(store, study)
        files = write_ct_series(ct, scratch / "CT")
        if version is not None:
            seg, _ = build_version_seg(store, study, version)
            files.append(write_seg(seg, scratch / "SEG" / "SEG000001.dcm"))
        zpath = scratch / "export.zip"
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for f in files:
                zf.write(f, f.relative_to(scratch).as_posix())
                f.unlink()
        audit.record(db, user, "export.ct_dicom", "study", study.id, instances=len(files),
                     seg_version=with_seg_version)
    return ExportFile(zpath, f"study{study.id}-dicom.zip", "application/zip", temporary=True)


def best_version(db: Session, study_id: int) -> LabelMapVersion | None:
    """The version a dataset export uses (see :data:`KIND_PREFERENCE`)."""
    rows = db.scalars(select(LabelMapVersion).where(LabelMapVersion.study_id == study_id)
                      .order_by(LabelMapVersion.id.desc())).all()
    for kind in KIND_PREFERENCE:
        for v in rows:
            if v.kind == kind:
                return v
    return None


def write_dataset(db: Session, store: VolumeStore, user: User | None, project_id: int,
                  root: Path, *, name: str | None = None,
                  include_unlabelled: bool = True) -> tuple[Path, dict[str, Any]]:
    """Write a project's studies in the nnU-Net / Decathlon layout under ``root``.

    Returns:
        ``(dataset folder, summary)`` with counts per split.
    """
    from lunglab.io.export.decathlon import DatasetCase, frozen_split, write_decathlon

    project = get_or_404(db, Project, project_id, "project")
    if user is not None:
        require_role(db, user, project_id, "admin")
    studies = db.scalars(select(Study).where(Study.project_id == project_id)
                         .order_by(Study.id)).all()
    cases, counts = [], {"train": 0, "val": 0, "test": 0, "unlabelled": 0}
    for study in studies:
        version = best_version(db, study.id)
        if version is None and not include_unlabelled:
            continue
        split = frozen_split(study.patient_key)
        counts[split if version is not None else "unlabelled"] += 1

        def load(study: Study = study, version: LabelMapVersion | None = version
                 ) -> tuple[Any, Any]:
            ct = load_volume(store, study)
            return ct, (read_labels(store, version) if version is not None else None)

        cases.append(DatasetCase(
            case_id=f"lunglab_{study.id:04d}", load=load, split=split,
            info={"study_id": study.id, "patient_key": study.patient_key,
                  "version_id": version.id if version else None,
                  "kind": version.kind if version else None,
                  "model_name": version.model_name if version else None}))
    safe = "".join(c for c in project.name if c.isalnum())[:40] or "Project"
    folder = write_decathlon(root, name or f"Dataset{500 + project.id:03d}_{safe}", cases,
                             description=f"LungLab project {project.name!r}: {project.description}")
    audit.record(db, user, "export.dataset", "project", project_id, studies=len(cases), **counts)
    return folder, {"folder": str(folder), "studies": len(cases), **counts}


def export_dataset_zip(db: Session, store: VolumeStore, user: User | None, project_id: int,
                       workdir: Path) -> ExportFile:
    """The Decathlon dataset of a project as one zip."""
    project = get_or_404(db, Project, project_id, "project")
    if user is not None:  # refused before anything is written
        require_role(db, user, project.id, "admin")
    with scratch_folder(workdir) as scratch:
        folder, _ = write_dataset(db, store, user, project_id, scratch)
        zpath = scratch / "dataset.zip"
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_STORED) as zf:  # NIfTI files: gzip already
            for f in sorted(folder.rglob("*")):
                if f.is_file():
                    zf.write(f, f.relative_to(scratch).as_posix())
                    f.unlink()
    return ExportFile(zpath, f"{folder.name}.zip", "application/zip", temporary=True)


def discard(export: ExportFile) -> None:
    """Delete a temporary export (its scratch folder) after it was sent."""
    if export.temporary:
        shutil.rmtree(export.path.parent, ignore_errors=True)
