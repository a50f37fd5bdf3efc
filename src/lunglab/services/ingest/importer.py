"""Import uploads into a project: scan and de-identify (``lunglab.io``), store, register.

Each series is stored and registered in its own transaction. A refused input stores nothing;
a failure half-way through a series removes that series' file again, so no study, file or row
is left behind.
"""
from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lunglab.core.settings import Settings
from lunglab.db.models import Project, Study, User
from lunglab.domain.radiograph import is_radiograph
from lunglab.io.limits import UploadLimits
from lunglab.io.store import VolumeStore
from lunglab.services.access import audit

Progress = Callable[[str], None]


@dataclass
class ImportOutcome:
    """What happened to one input or series of an upload."""

    name: str
    status: str  # imported | duplicate | refused
    study_id: int | None = None
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    slice_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "study_id": self.study_id,
                "reason": self.reason, "warnings": self.warnings,
                "slice_count": self.slice_count}


def safe_suffix(client_name: str) -> str:
    """The file-type suffix readers rely on, from a fixed list (never the client's text)."""
    lower = client_name.lower()
    return next((s for s in (".nii.gz", ".nii", ".zip", ".dcm") if lower.endswith(s)), "")


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(max_expanded_bytes=settings.max_expanded_zip_bytes,
                        max_entry_ratio=settings.max_zip_ratio)


def work_dir(settings: Settings) -> Path:
    """Scratch space inside the data folder (same file system as the store)."""
    path = settings.data_dir / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_files(
    db: Session,
    store: VolumeStore,
    settings: Settings,
    project: Project,
    actor: User | None,
    files: list[tuple[str, Path]],
    *,
    on_series: Progress | None = None,
) -> list[ImportOutcome]:
    """Import files already on local disk (``(client name, path)`` pairs).

    Returns one outcome per series found and per refused input. Never raises for bad input.
    """
    from lunglab.io.radiograph import RadiographOptions
    from lunglab.io.scan import scan_upload

    options = RadiographOptions(  # project setting: black out suspected burned-in text
        black_out_text=bool((project.settings or {}).get("radiograph_black_out_text")))
    with tempfile.TemporaryDirectory(dir=work_dir(settings)) as scratch:
        result = scan_upload(files, project_secret=project.pseudonym_secret.encode(),
                             limits=upload_limits(settings), workdir=Path(scratch),
                             radiograph_options=options)
        outcomes = [ImportOutcome(r.name, "refused", reason=r.reason) for r in result.refused]
        for series in result.series:
            outcomes.append(register_series(db, store, project, actor, series))
            if on_series:
                on_series(series.name)
    refused = sum(o.status == "refused" for o in outcomes)
    if refused:  # client file names may carry PHI: they are reported back, never stored
        audit.record(db, actor, "study.import_refused", "project", project.id, inputs=refused)
    db.commit()
    return outcomes


def queue_pre_annotation(db: Session, project: Project, actor: User | None,
                         outcomes: list[ImportOutcome],
                         submit: Callable[[int, str], None] | None) -> list[int]:
    """Queue an ``ai-segment`` job per imported study when the project asks for it.

    Args:
        submit: the job runner's ``submit(job_id, kind)``; nothing is queued when None.

    Returns:
        The ids of the queued jobs.
    """
    from lunglab.services import jobs
    from lunglab.services.training.model_versions import active_version

    if submit is None or not (project.settings or {}).get("auto_segment_on_import"):
        return []
    job_ids = []
    for o in outcomes:
        if o.status == "imported" and o.study_id is not None:
            if is_radiograph(getattr(db.get(Study, o.study_id), "modality", None)) and \
                    active_version(db, project.id, "xr") is None:
                continue  # no radiograph model in this project (none is shipped)
            job = jobs.submit(db, actor, "ai-segment", study_id=o.study_id,
                              params={"trigger": "import"})
            submit(job.id, job.kind)
            job_ids.append(job.id)
    return job_ids


def register_series(db: Session, store: VolumeStore, project: Project, actor: User | None,
                    series: Any, *, name: str | None = None) -> ImportOutcome:
    """Store one parsed, de-identified series as a study (or report the duplicate)."""
    from lunglab.io.nifti import encode_nifti_gz

    display = name or series.name
    existing = db.scalar(select(Study).where(Study.project_id == project.id,
                                             Study.series_uid == series.series_uid_pseudo))
    if existing is not None:
        return ImportOutcome(display, "duplicate", existing.id,
                             reason=f"already imported as study {existing.id}",
                             slice_count=existing.slice_count)
    vol = series.volume
    payload = encode_nifti_gz(vol.array, vol)
    key = f"studies/{uuid.uuid4().hex}/ct.nii.gz"
    checksum = store.put_bytes(key, payload)
    meta = dict(series.meta)
    try:
        study = Study(
            project_id=project.id, name=display[:200], study_uid=series.study_uid_pseudo,
            series_uid=series.series_uid_pseudo, patient_key=series.patient_key,
            source_kind=series.kind, shape=list(vol.shape), spacing=list(vol.spacing),
            origin=list(vol.origin), direction=list(vol.direction), slice_count=vol.shape[0],
            modality=meta.get("Modality"), manufacturer=meta.get("Manufacturer"),
            kernel=_text(meta.get("ConvolutionKernel")), kvp=_num(meta.get("KVP")),
            series_description=meta.get("SeriesDescription"), meta=meta,
            warnings=list(series.warnings), volume_key=key, volume_checksum=checksum,
            volume_bytes=len(payload),
        )
        db.add(study)
        db.flush()
        audit.record(db, actor, "study.import", "study", study.id, project=project.id,
                     slices=vol.shape[0], kind=series.kind)
        db.commit()
    except IntegrityError:
        db.rollback()
        store.delete(key)
        dup = db.scalar(select(Study).where(Study.project_id == project.id,
                                            Study.series_uid == series.series_uid_pseudo))
        return ImportOutcome(display, "duplicate", dup.id if dup else None,
                             reason="imported at the same time by another upload")
    except BaseException:
        db.rollback()
        store.delete(key)
        raise
    return ImportOutcome(display, "imported", study.id, warnings=list(series.warnings),
                         slice_count=vol.shape[0])


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return "\\".join(str(v) for v in value)[:64]
    return str(value)[:64]


def _num(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def import_paths(db: Session, store: VolumeStore, settings: Settings, project: Project,
                 actor: User | None, paths: list[Path]) -> list[ImportOutcome]:
    """Import local files and folders (the CLI's ``lunglab import``)."""
    files: list[tuple[str, Path]] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file():
                    files.append((str(Path(p.name) / f.relative_to(p)), f))
        elif p.is_file():
            files.append((p.name, p))
        else:
            return [ImportOutcome(p.name, "refused", reason="no such file or folder")]
    return import_files(db, store, settings, project, actor, files)




def import_streams(db: Session, store: VolumeStore, settings: Settings, project: Project,
                   actor: User | None, parts: list[tuple[str, Any]],
                   submit: Callable[[int, str], None] | None = None) -> list[ImportOutcome]:
    """Import uploaded file objects (``(client name, binary file object)``).

    Each part is copied to scratch space under a generated name; the client's name is kept
    only as a display name. The total size is capped by ``settings.max_upload_bytes``.

    Raises:
        TooLarge: the parts add up to more than the limit (nothing is stored).
    """
    from lunglab.services.errors import TooLarge

    with tempfile.TemporaryDirectory(dir=work_dir(settings)) as scratch:
        files: list[tuple[str, Path]] = []
        total = 0
        for i, (name, fh) in enumerate(parts):
            dest = Path(scratch) / f"part-{i}{safe_suffix(name)}"
            with open(dest, "wb") as out:
                while block := fh.read(1 << 20):
                    total += len(block)
                    if total > settings.max_upload_bytes:
                        raise TooLarge(f"upload exceeds the limit of {settings.max_upload_bytes} "
                                       "bytes; nothing was stored")
                    out.write(block)
            files.append((name, dest))
        outcomes = import_files(db, store, settings, project, actor, files)
    queue_pre_annotation(db, project, actor, outcomes, submit)
    return outcomes
