"""Versioned label maps: every save adds an immutable version naming its base.

Versions are stored as content-addressed axial slices in the database (``labelslices``): a
save sends the whole map or only the slices it changed (a ``SliceEdit``); only slices not
already stored are added, in the version's own transaction. The version's NIfTI file, which
downloads and exports hand out, is written to the store the first time it is asked for
(``materialize``).

A save whose base is no longer the newest version *the reader can see* is refused with
``Conflict`` and nothing is recorded. Concurrent saves of one study are serialised by a short
per-study lock around the base check and the row insert; the slice work runs before it.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, object_session, undefer

from lunglab.db.lookup import get_or_404
from lunglab.db.base import utcnow
from lunglab.db.models import LabelMapVersion, Project, Study, User
from lunglab.domain.labels import MAX_LABEL
from lunglab.io.store import VolumeStore
from lunglab.services.access import audit
from lunglab.services.labels import slices as labelslices
from lunglab.services.labels.formats import (
    SliceEdit,
    encode_labelmap,
    validate_edit,
    validate_labels,
)
from lunglab.services.collab.assignments import guard_reader_save, note_reader_save
from lunglab.services.errors import Conflict, InvalidInput, NotFound
from lunglab.services.access.projects import get_study

KINDS = ("ai", "human", "consensus", "imported")
SHARED_KINDS = ("ai", "imported", "consensus")


def reader_kinds(db: Session, study: Study) -> tuple[str, ...]:
    """Kinds of other people's versions an annotator of the study may see.

    In a project whose ``reader_start`` is ``empty`` the AI proposal is hidden from readers:
    they start from an empty map, unbiased by the model.
    """
    project = db.get(Project, study.project_id)
    if ((project.settings or {}) if project else {}).get("reader_start", "ai") == "empty":
        return tuple(k for k in SHARED_KINDS if k != "ai")
    return SHARED_KINDS


def _visible(db: Session, user: User | None, study: Study, role: str, what: Any,
             kinds: tuple[str, ...] | None = None) -> Any:
    q = select(what).where(LabelMapVersion.study_id == study.id)
    if role == "annotator" and user is not None:
        q = q.where((LabelMapVersion.kind.in_(kinds or reader_kinds(db, study))) |
                    (LabelMapVersion.author_id == user.id))
    return q.order_by(LabelMapVersion.id.desc())


def visible_versions(db: Session, user: User | None, study: Study,
                     role: str) -> list[LabelMapVersion]:
    """Versions the user may see, newest first.

    Annotators see their own and the shared ones (not the AI proposal where the project
    starts readers empty); everyone else sees all.
    """
    return list(db.scalars(_visible(db, user, study, role, LabelMapVersion)).all())


def read_labels(store: VolumeStore, version: LabelMapVersion) -> np.ndarray:
    """The version's voxels as uint8 ``[z, y, x]`` (the version must belong to a session)."""
    if version.manifest:
        db = object_session(version)
        if db is None:
            raise RuntimeError(f"version {version.id} is not attached to a database session")
        m = version.manifest
        return labelslices.read_volume(db, version.study_id, m["slices"],
                                       tuple(int(v) for v in m["shape"]))  # type: ignore[arg-type]
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(sitk.ReadImage(str(store.local_path(version.file_key))))


def materialize(store: VolumeStore, version: LabelMapVersion, study: Study) -> Path:
    """The version as a gzip NIfTI file (written from its slices the first time)."""
    if not store.exists(version.file_key):
        store.put_bytes(version.file_key, encode_labelmap(read_labels(store, version), study))
    return store.local_path(version.file_key)


def slice_counts(planes: np.ndarray) -> list[list[int]]:
    """Voxels of labels 1..MAX_LABEL in each slice of ``[k, y, x]``."""
    # per slice and label: 3.5x faster than summing the comparisons over an axis
    return [[int(np.count_nonzero(plane == v)) for v in range(1, MAX_LABEL + 1)]
            for plane in planes]


def _prepare_slices(store: VolumeStore, study: Study, base: LabelMapVersion | None,
                    labels: np.ndarray | None, edit: SliceEdit | None
                    ) -> tuple[dict[str, Any], dict[str, int], dict[str, bytes]]:
    """The new version's manifest and voxel counts, and the compressed slices to add.

    The manifest keeps each slice's label counts, so an edit updates the totals from the
    slices it replaces without reading them.
    """
    old = base.manifest if base is not None and base.manifest else None
    shape = [int(v) for v in study.shape]
    if edit is None:
        assert labels is not None
        slices, pending = labelslices.encode_slices(labels, old["slices"] if old else ())
        per = slice_counts(labels)
    else:
        assert base is not None
        pending = {}
        if old is None or "counts" not in old:  # a base stored as one NIfTI: split it once
            whole = read_labels(store, base)
            digests, pending = labelslices.encode_slices(whole)
            old = {"slices": digests, "counts": slice_counts(whole)}
        slices, per = list(old["slices"]), [list(c) for c in old["counts"]]
        digests, new = labelslices.encode_slices(edit.planes, old["slices"])
        pending.update(new)
        for z, digest, c in zip(edit.z, digests, slice_counts(edit.planes), strict=True):
            slices[z], per[z] = digest, c
    totals = [sum(c[i] for c in per) for i in range(MAX_LABEL)]
    counts = {str(i + 1): int(n) for i, n in enumerate(totals)}
    return {"shape": shape, "slices": slices, "counts": per}, counts, pending


def _check_base(db: Session, user: User | None, study: Study, role: str,
                base_version_id: int | None, check_base: bool,
                kinds: tuple[str, ...]) -> None:
    """The base must be visible to the user and (with ``check_base``) their newest version."""
    visible = _visible(db, user, study, role, LabelMapVersion.id, kinds)
    latest = db.scalar(visible.limit(1))
    if base_version_id not in (None, latest) and db.scalar(
            visible.where(LabelMapVersion.id == base_version_id)) is None:
        raise NotFound(f"base version {base_version_id} not found for this study")
    if check_base and base_version_id != latest:
        newer = db.get(LabelMapVersion, latest)
        author = newer.author.username if newer is not None and newer.author else None
        kind = newer.kind if newer is not None else None
        model = newer.model_name if newer is not None else None
        by = (f" by the AI ({model})" if kind == "ai" and model else " by the AI" if kind == "ai"
              else f" by {author}" if author else "")
        since = ("you started from an empty label map" if base_version_id is None
                 else f"version {base_version_id} is no longer the newest")
        raise Conflict(
            f"{since}; version {latest} was saved meanwhile{by}. Reload it, or keep your "
            "edit on top of it.",
            latest_version_id=latest, latest_kind=kind, latest_author=author,
            latest_model_name=model,
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
    labels: np.ndarray | None = None,
    *,
    edit: SliceEdit | None = None,
    base_version_id: int | None,
    kind: str = "human",
    message: str = "",
    model_name: str | None = None,
    details: dict[str, Any] | None = None,
    check_base: bool = True,
    retries: int = 5,
    access: tuple[Study, str] | None = None,
) -> LabelMapVersion:
    """Store a new label-map version and commit.

    Give either the whole map (``labels``) or only the slices that changed against the base
    (``edit``). The slice work (validation, hashing, writing new slices) runs without any
    lock; only the base check and the row insert run under the study's lock, so concurrent
    readers of one study wait milliseconds for each other, and a stale base is still caught.

    Args:
        user: the author (None for model or system versions; then access is not checked).
        base_version_id: the version the edit started from (None when starting empty).
        check_base: refuse (409) when the base is not the newest version the user sees.
        access: ``projects.get_study(db, user, study_id)`` when the caller already has it.

    Raises:
        Conflict: stale base. InvalidInput: bad labels, or an edit without a base.
        NotFound: study or base unknown.
    """
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {KINDS}")
    if (labels is None) == (edit is None):
        raise ValueError("give either labels or edit")
    if user is not None:
        study, role = access or get_study(db, user, study_id)
    else:
        study, role = get_or_404(db, Study, study_id, "study"), "admin"
    if edit is not None:
        if base_version_id is None:
            raise InvalidInput("a slice edit needs the version it was made on (base_version_id)")
        edit = validate_edit(edit, study)
    else:
        labels = validate_labels(labels, study)  # type: ignore[arg-type]
    # the base and the reader's assignment are checked under the lock (``_record``); here the
    # base only has to exist on this study
    base = (db.get(LabelMapVersion, base_version_id, options=[undefer(LabelMapVersion.manifest)])
            if base_version_id is not None else None)
    if base_version_id is not None and (base is None or base.study_id != study.id):
        raise NotFound(f"base version {base_version_id} not found for this study")
    manifest, counts, pending = _prepare_slices(store, study, base, labels, edit)
    kinds = reader_kinds(db, study) if role == "annotator" else SHARED_KINDS
    shape = manifest["shape"]
    key = f"labelmaps/{study.id}/{uuid.uuid4().hex}.nii.gz"  # written on first use
    if db.get_bind().dialect.name == "sqlite":
        # end the read transaction: SQLite's snapshot would be stale by the time the lock is
        # ours, so the lock's UPDATE starts a fresh one. PostgreSQL reads committed data at
        # every statement, so its transaction (and connection) simply carries on.
        db.commit()
    for attempt in range(retries):
        try:
            db.connection()  # a pooled connection, checked out before the lock, not under it
            with _commit_lock:
                return _record(db, user, study, role, base_version_id, check_base, kinds, dict(
                    kind=kind, model_name=model_name,
                    checksum=labelslices.labels_digest(manifest["slices"]), file_key=key,
                    manifest=manifest, voxel_counts=counts, message=message[:2000],
                    details=details or {},
                ), pending, slices=len(edit.z) if edit is not None else shape[0])
        except OperationalError as exc:
            db.rollback()
            if not _busy(exc):
                raise
            # SQLite: busy snapshot; wait a little and take it again
            if attempt == retries - 1:
                raise Conflict("the study is busy; try again in a moment") from None
            time.sleep(0.05 * (attempt + 1))
        except BaseException:
            db.rollback()
            raise
    raise AssertionError("unreachable")


def _busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked" / busy, worth another try (not a full disk, say)."""
    code = getattr(exc.orig, "sqlite_errorcode", None)  # extended code: the low byte is primary
    return (code & 0xFF) in (5, 6) if code is not None else "locked" in str(exc.orig)


def _record(db: Session, user: User | None, study: Study, role: str,
            base_version_id: int | None, check_base: bool, kinds: tuple[str, ...],
            row: dict[str, Any], pending: dict[str, bytes], slices: int) -> LabelMapVersion:
    """The short locked part of a save: lock the study, check the base again, add the new
    slices and the version, commit (six statements for a reader's usual save)."""
    _lock_study(db, study.id)
    _check_base(db, user, study, role, base_version_id, check_base, kinds)
    if user is not None:
        a = guard_reader_save(db, user, study)  # not submitted meanwhile
        if a is not None:
            note_reader_save(db, a, base_version_id)
    labelslices.add_slices(db, study.id, pending)
    version = LabelMapVersion(study_id=study.id, author=user, parent_id=base_version_id, **row)
    db.add(version)
    db.flush()
    audit.record(db, user, "labelmap.save", "study", study.id, version=version.id,
                 kind=row["kind"], base=base_version_id, slices=slices)
    db.commit()
    return version


# One save at a time per process reaches the database lock: waiters queue here and are woken
# at once, instead of polling SQLite's busy handler (which sleeps up to 100 ms between tries).
_commit_lock = threading.Lock()


def save_slots(configured: int = 0) -> int:
    """How many saves of one server process decode, check and prepare their slices at once
    (``api/routes/versions.py``); more only make threads fight for the GIL, and the save that
    holds the commit lock then waits for the GIL after each database round trip, which
    stretches everyone's latency. One per core (at least two) measured best on two cores
    (``bench/collab.py``: 2 slots against 4 and 8)."""
    return configured or max(2, min(16, os.cpu_count() or 2))


def volumes_ml(version: LabelMapVersion, study: Study) -> dict[str, float]:
    sx, sy, sz = study.spacing
    per = sx * sy * sz / 1000.0
    return {k: round(v * per, 3) for k, v in (version.voxel_counts or {}).items()}

