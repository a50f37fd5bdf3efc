"""Versioned label maps: every save adds an immutable version naming its base.

A save whose base is no longer the newest version *the reader can see* is refused with
``Conflict`` and nothing is written. Concurrent saves are serialised by the study row's
optimistic version counter (SQLAlchemy ``version_id_col``): the loser retries its check
against the fresh state and gets a 409 if someone else won.
"""
from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from isal import igzip
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from lunglab.db.base import utcnow
from lunglab.db.models import LabelMapVersion, Study, User
from lunglab.domain.labels import MAX_LABEL
from lunglab.io.store import VolumeStore
from lunglab.services import audit
from lunglab.services.assignments import guard_reader_save
from lunglab.services.errors import Conflict, InvalidInput, NotFound
from lunglab.services.projects import get_study

KINDS = ("ai", "human", "consensus", "imported")
SHARED_KINDS = ("ai", "imported", "consensus")


def visible_versions(db: Session, user: User | None, study: Study, role: str) -> list[LabelMapVersion]:
    """Versions the user may see, newest first. Annotators see their own and the shared ones."""
    q = select(LabelMapVersion).where(LabelMapVersion.study_id == study.id)
    if role == "annotator" and user is not None:
        q = q.where((LabelMapVersion.kind.in_(SHARED_KINDS)) |
                    (LabelMapVersion.author_id == user.id))
    return list(db.scalars(q.order_by(LabelMapVersion.id.desc())).all())


def voxel_counts(labels: np.ndarray) -> dict[str, int]:
    # count_nonzero per label: ~10x faster than bincount on a 512x512x141 uint8 map
    return {str(v): int(np.count_nonzero(labels == v)) for v in range(1, MAX_LABEL + 1)}


def validate_labels(labels: np.ndarray, study: Study, source: str = "label map") -> np.ndarray:
    """Check shape and values; return a C-contiguous uint8 array.

    Raises:
        InvalidInput: wrong shape or label values outside 0..3.
    """
    expect = tuple(study.shape)
    if labels.ndim == 2 and expect[0] == 1:
        labels = labels[None]
    if tuple(labels.shape) != expect:
        raise InvalidInput(
            f"shape {tuple(labels.shape)} (z, y, x) does not match the study's {expect}", source)
    if labels.dtype.kind not in "iub":
        raise InvalidInput("label values must be integers", source)
    if labels.dtype == np.uint8 and (labels.size == 0 or int(labels.max()) <= MAX_LABEL):
        return np.ascontiguousarray(labels)  # fast path: no sort needed
    bad = np.setdiff1d(np.unique(labels), np.arange(MAX_LABEL + 1))
    if bad.size:
        raise InvalidInput(f"unknown label values {bad[:10].tolist()}; allowed 0..{MAX_LABEL}", source)
    return np.ascontiguousarray(labels, dtype=np.uint8)


def parse_upload(data: bytes, filename: str, fmt: str, study: Study) -> np.ndarray:
    """Decode an uploaded label map: NIfTI (.nii/.nii.gz) or raw uint8 ``[z, y, x]`` bytes."""
    name = Path(filename or "labels").name
    if fmt == "raw":
        if name.endswith(".gz"):
            try:
                data = igzip.decompress(data)
            except (OSError, EOFError, ValueError) as exc:
                raise InvalidInput(f"not valid gzip data ({exc})", name) from None
        expect = int(np.prod(study.shape))
        if len(data) != expect:
            raise InvalidInput(f"{len(data)} bytes, expected {expect} for shape "
                               f"{tuple(study.shape)} (z, y, x) uint8", name)
        return validate_labels(np.frombuffer(data, np.uint8).reshape(study.shape), study, name)
    if not name.endswith((".nii", ".nii.gz")):
        raise InvalidInput("label map must be .nii, .nii.gz or format=raw", name)
    import SimpleITK as sitk

    suffix = ".nii.gz" if name.endswith(".gz") else ".nii"
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            arr = sitk.GetArrayFromImage(sitk.ReadImage(tmp.name))
        except RuntimeError as exc:
            msg = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else "unreadable"
            raise InvalidInput(f"not a readable NIfTI label map ({msg})", name) from None
    return validate_labels(arr, study, name)


def encode_labelmap(labels: np.ndarray, study: Study) -> bytes:
    """The label map as gzip NIfTI bytes with the study's geometry (no identifying text)."""
    from lunglab.domain.volume import CTVolume
    from lunglab.io.nifti import encode_nifti_gz

    grid = CTVolume(np.empty((0, 0, 0), np.int16), tuple(study.spacing),  # type: ignore[arg-type]
                    tuple(study.origin), tuple(study.direction))  # type: ignore[arg-type]
    return encode_nifti_gz(labels.astype(np.uint8, copy=False), grid)


def read_labels(store: VolumeStore, version: LabelMapVersion) -> np.ndarray:
    """The version's voxels as uint8 ``[z, y, x]``."""
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(sitk.ReadImage(str(store.local_path(version.file_key))))


def _check_base(db: Session, user: User | None, study: Study, role: str,
                base_version_id: int | None, check_base: bool) -> None:
    visible = visible_versions(db, user, study, role)
    latest = visible[0].id if visible else None
    if base_version_id is not None and not any(v.id == base_version_id for v in visible):
        raise NotFound(f"base version {base_version_id} not found for this study")
    if check_base and base_version_id != latest:
        raise Conflict(
            f"version {base_version_id} is no longer the newest; version {latest} was "
            "saved meanwhile. Reload it, or save yours as a new version on top of it.",
            latest_version_id=latest,
        )


def _lock_study(db: Session, study_id: int) -> None:
    """Serialise saves of one study: a row lock on PostgreSQL, the write lock on SQLite.

    The statement is the first of a fresh transaction, so what is read after it is current.
    """
    db.execute(update(Study).where(Study.id == study_id)
               .values(revision=Study.revision + 1, updated_at=utcnow()))


def save_version(
    db: Session,
    store: VolumeStore,
    user: User | None,
    study_id: int,
    labels: np.ndarray,
    *,
    base_version_id: int | None,
    kind: str = "human",
    message: str = "",
    model_name: str | None = None,
    details: dict[str, Any] | None = None,
    check_base: bool = True,
    retries: int = 5,
) -> LabelMapVersion:
    """Store a new label-map version and commit.

    The expensive part (validation, NIfTI encoding, the atomic file write) runs without any
    lock; only the base check and the row insert run under the study's lock, so concurrent
    readers of one study wait milliseconds for each other, and a stale base is still caught.

    Args:
        user: the author (None for model or system versions; then access is not checked).
        base_version_id: the version the edit started from (None when starting empty).
        check_base: refuse (409) when the base is not the newest version the user sees.

    Raises:
        Conflict: stale base. InvalidInput: bad labels. NotFound: study or base unknown.
    """
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {KINDS}")
    if user is not None:
        study, role = get_study(db, user, study_id)
        guard_reader_save(db, user, study, base_version_id)  # frozen after submit
    else:
        study, role = db.get(Study, study_id), "admin"
        if study is None:
            raise NotFound(f"study {study_id} not found")
    labels = validate_labels(labels, study)
    _check_base(db, user, study, role, base_version_id, check_base)  # early, cheap refusal
    payload = encode_labelmap(labels, study)
    counts = voxel_counts(labels)
    key = f"labelmaps/{study.id}/{uuid.uuid4().hex}.nii.gz"
    checksum = store.put_bytes(key, payload)
    db.commit()  # end the read transaction: the lock below starts a fresh one
    for attempt in range(retries):
        try:
            _lock_study(db, study_id)
            _check_base(db, user, study, role, base_version_id, check_base)
            version = LabelMapVersion(
                study_id=study_id, kind=kind, author_id=user.id if user else None,
                model_name=model_name, parent_id=base_version_id, checksum=checksum,
                file_key=key, voxel_counts=counts, message=message[:2000],
                details=details or {},
            )
            db.add(version)
            db.flush()
            audit.record(db, user, "labelmap.save", "study", study_id, version=version.id,
                         kind=kind, base=base_version_id)
            db.commit()
            return version
        except OperationalError:  # SQLite: busy snapshot; wait a little and take it again
            db.rollback()
            if attempt == retries - 1:
                store.delete(key)
                raise Conflict("the study is busy; try again in a moment") from None
            time.sleep(0.05 * (attempt + 1))
        except BaseException:
            db.rollback()
            store.delete(key)
            raise
    raise AssertionError("unreachable")


def volumes_ml(version: LabelMapVersion, study: Study) -> dict[str, float]:
    sx, sy, sz = study.spacing
    per = sx * sy * sz / 1000.0
    return {k: round(v * per, 3) for k, v in (version.voxel_counts or {}).items()}

