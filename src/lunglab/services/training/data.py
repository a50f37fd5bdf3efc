"""Training data of a project: approved label maps, the frozen validation split, and the case
references a run streams its slices from (:mod:`lunglab.ml.cases`; never the whole dataset
in RAM).

"Approved" is defined in :func:`approved_versions` (one place to change it).
"""
from __future__ import annotations

import numpy as np
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from lunglab.db.models import LabelMapVersion, Study, User
from lunglab.db.models_radiograph import not_radiograph
from lunglab.domain.radiograph import RADIOGRAPH_MODALITIES, is_radiograph
from lunglab.db.models_training import ValidationSplit
from lunglab.io.store import VolumeStore
from lunglab.ml.cases import CaseRef
from lunglab.services.errors import InvalidInput

APPROVED_KINDS = ("consensus", "imported")
"""Kinds approved by nature: consensus versions and imported reference annotations."""


def modality_filter(modality: str) -> ColumnElement[bool]:
    """WHERE clause on ``Study.modality`` for a model modality (``ct`` or ``xr``)."""
    if modality == "xr":
        return Study.modality.in_(sorted(RADIOGRAPH_MODALITIES))
    if modality == "ct":
        return not_radiograph(Study.modality)
    raise InvalidInput(f"modality must be ct or xr, not {modality!r}")


def approved_versions(db: Session, project_id: int, modality: str = "ct") -> dict[int, int]:
    """The approved label-map version of each study of the project that has one.

    Per study, in order of preference: a consensus version a reviewer approved; the newest
    consensus version (consensus wins where there are several); the version of the newest
    ``approve`` review decision; the newest imported version. AI proposals and readers'
    unapproved drafts are never training data. CT and radiographs never mix: ``modality``
    ``ct`` gives the CT studies, ``xr`` the radiographs (the 2D radiograph recipe,
    docs/radiographs.md).

    Returns:
        ``{study_id: version_id}``.
    """
    from lunglab.db.models_collab import ReviewDecision

    rows = db.execute(
        select(LabelMapVersion.id, LabelMapVersion.study_id, LabelMapVersion.kind)
        .join(Study, Study.id == LabelMapVersion.study_id)
        .where(Study.project_id == project_id, modality_filter(modality))
        .order_by(LabelMapVersion.id)).all()
    kind_of = {vid: kind for vid, _, kind in rows}
    decided: dict[int, int] = {}
    for sid, vid in db.execute(  # version_id IS NOT NULL below
            select(ReviewDecision.study_id, ReviewDecision.version_id)
            .join(Study, Study.id == ReviewDecision.study_id)
            .where(Study.project_id == project_id, modality_filter(modality),
                   ReviewDecision.decision == "approve",
                   ReviewDecision.assignment_id.is_(None), ReviewDecision.version_id.isnot(None))
            .order_by(ReviewDecision.id)).all():
        decided[sid] = int(vid or 0)
    best: dict[int, tuple[int, int]] = {}
    for vid, sid, kind in rows:
        rank = {"consensus": 3, "imported": 1}.get(kind, 0)
        if decided.get(sid) == vid:
            rank = 4 if kind == "consensus" else 2
        if rank and (sid not in best or rank >= best[sid][0]):
            best[sid] = (rank, vid)
    for sid, vid in decided.items():
        if sid not in best and vid in kind_of:
            best[sid] = (2, vid)
    return {sid: vid for sid, (_, vid) in sorted(best.items())}


def frozen_split(db: Session, user: User | None, project_id: int, study_ids: list[int],
                 fraction: float = 0.2, seed: int = 0, modality: str = "ct") -> list[int]:
    """The project's validation studies of one modality, drawn once and then frozen.

    The first call (per modality) draws ``fraction`` of ``study_ids`` (at least one, and at
    least one left for training) with ``seed`` and records it; later calls return the
    recorded studies.

    Raises:
        InvalidInput: fewer than two approved studies at the first call.
    """
    split = db.scalar(select(ValidationSplit).where(ValidationSplit.project_id == project_id,
                                                    ValidationSplit.modality == modality))
    if split is not None:
        return list(split.study_ids)
    if len(study_ids) < 2:
        what = "radiographs" if modality == "xr" else "studies"
        raise InvalidInput(f"training needs at least two {what} with approved label maps "
                           f"(found {len(study_ids)})")
    ids = sorted(study_ids)
    n_val = min(len(ids) - 1, max(1, round(len(ids) * fraction)))
    order = np.random.default_rng(seed).permutation(len(ids))
    val = sorted(ids[i] for i in order[:n_val])
    db.add(ValidationSplit(project_id=project_id, modality=modality, study_ids=val, seed=seed,
                           created_by_id=user.id if user else None))
    db.flush()
    return val


def case_refs(db: Session, store: VolumeStore, snapshot: list[dict[str, int]]) -> list[CaseRef]:
    """Resolve a data snapshot ``[{study_id, version_id}]`` to case references.

    Each label map is read once (one case at a time) to find the slices with lung.
    """
    from lunglab.services.labels.labelmaps import materialize, read_labels

    refs = []
    for item in snapshot:
        study = db.get(Study, item["study_id"])
        version = db.get(LabelMapVersion, item["version_id"])
        if study is None or version is None:
            raise InvalidInput(f"study {item['study_id']} or version {item['version_id']} is gone")
        labels = read_labels(store, version)
        zs = tuple(int(z) for z in np.nonzero(labels.reshape(labels.shape[0], -1).any(1))[0])
        del labels
        materialize(store, version, study)  # the case cache reads the NIfTI file
        sx, sy, sz = (float(s) for s in study.spacing)
        refs.append(CaseRef(study.id, version.id, study.volume_key, version.file_key,
                            (sx, sy, sz), zs,
                            modality="xr" if is_radiograph(study.modality) else "ct"))
    return refs
