"""Training data of a project: approved label maps, the frozen validation split, and a
streaming slice source with a bounded cache of cases (never the whole dataset in RAM).

"Approved" is defined in :func:`approved_versions` (one place to change it).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.models import LabelMapVersion, Study, User
from lunglab.db.models_training import ValidationSplit
from lunglab.imaging.hu import hu_window
from lunglab.imaging.resample import inplane_shape, resize_slices
from lunglab.io.store import VolumeStore
from lunglab.services.errors import InvalidInput

APPROVED_KINDS = ("consensus", "imported")
"""Kinds approved by nature: consensus versions and imported reference annotations."""


def approved_versions(db: Session, project_id: int) -> dict[int, int]:
    """The approved label-map version of each study of the project that has one.

    Per study, in order of preference: a consensus version a reviewer approved; the newest
    consensus version (consensus wins where there are several); the version of the newest
    ``approve`` review decision; the newest imported version. AI proposals and readers'
    unapproved drafts are never training data.

    Returns:
        ``{study_id: version_id}``.
    """
    from lunglab.db.models_collab import ReviewDecision

    rows = db.execute(
        select(LabelMapVersion.id, LabelMapVersion.study_id, LabelMapVersion.kind)
        .join(Study, Study.id == LabelMapVersion.study_id)
        .where(Study.project_id == project_id).order_by(LabelMapVersion.id)).all()
    kind_of = {vid: kind for vid, _, kind in rows}
    decided: dict[int, int] = {}
    for sid, vid in db.execute(  # version_id IS NOT NULL below
            select(ReviewDecision.study_id, ReviewDecision.version_id)
            .join(Study, Study.id == ReviewDecision.study_id)
            .where(Study.project_id == project_id, ReviewDecision.decision == "approve",
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
                 fraction: float = 0.2, seed: int = 0) -> list[int]:
    """The project's validation studies, drawn once and then frozen.

    The first call draws ``fraction`` of ``study_ids`` (at least one, and at least one left for
    training) with ``seed`` and records it; later calls return the recorded studies.

    Raises:
        InvalidInput: fewer than two approved studies at the first call.
    """
    split = db.scalar(select(ValidationSplit).where(ValidationSplit.project_id == project_id))
    if split is not None:
        return list(split.study_ids)
    if len(study_ids) < 2:
        raise InvalidInput("training needs at least two studies with approved label maps "
                           f"(found {len(study_ids)})")
    ids = sorted(study_ids)
    n_val = min(len(ids) - 1, max(1, round(len(ids) * fraction)))
    order = np.random.default_rng(seed).permutation(len(ids))
    val = sorted(ids[i] for i in order[:n_val])
    db.add(ValidationSplit(project_id=project_id, study_ids=val, seed=seed,
                           created_by_id=user.id if user else None))
    db.flush()
    return val


@dataclass(frozen=True)
class CaseRef:
    """Where one training case lives: the study volume, its label map, and its lung slices."""

    study_id: int
    version_id: int
    volume_key: str
    labels_key: str
    spacing: tuple[float, float, float]  # x, y, z
    slices: tuple[int, ...]  # z indices with lung


def case_refs(db: Session, store: VolumeStore, snapshot: list[dict[str, int]]) -> list[CaseRef]:
    """Resolve a data snapshot ``[{study_id, version_id}]`` to case references.

    Each label map is read once (one case at a time) to find the slices with lung.
    """
    from lunglab.services.labelmaps import materialize, read_labels

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
                            (sx, sy, sz), zs))
    return refs


class CaseCache:
    """Least-recently-used cache of preprocessed cases (windowed, resampled lung slices).

    At most ``max_cases`` cases are held; the rest are read again from the store on demand.

    Args:
        store: the volume store.
        model_mm: in-plane pixel size of the network.
        max_cases: cases kept in memory.
    """

    def __init__(self, store: VolumeStore, model_mm: float, max_cases: int = 3) -> None:
        self.store, self.model_mm, self.max_cases = store, model_mm, max(1, max_cases)
        self._cases: OrderedDict[int, tuple[dict[int, int], np.ndarray, np.ndarray]] = OrderedDict()
        self.loads = 0

    def _load(self, ref: CaseRef) -> tuple[dict[int, int], np.ndarray, np.ndarray]:
        import SimpleITK as sitk

        zs = list(ref.slices)
        hu = sitk.GetArrayFromImage(sitk.ReadImage(str(self.store.local_path(ref.volume_key))))
        lab = sitk.GetArrayFromImage(sitk.ReadImage(str(self.store.local_path(ref.labels_key))))
        shape = inplane_shape(hu.shape[1:], (ref.spacing[1], ref.spacing[0]), self.model_mm)
        image = resize_slices(hu_window(hu[zs].astype(np.float32)), shape).astype(np.float16)
        label = resize_slices(lab[zs].astype(np.uint8), shape, labels=True)
        del hu, lab
        self.loads += 1
        return {z: i for i, z in enumerate(zs)}, image, label

    def get(self, ref: CaseRef, z: int) -> dict[str, np.ndarray]:
        """``{"image": float32 [1, y, x] in [0, 1], "label": uint8 [1, y, x]}`` of one slice."""
        if ref.study_id in self._cases:
            self._cases.move_to_end(ref.study_id)
        else:
            self._cases[ref.study_id] = self._load(ref)
            while len(self._cases) > self.max_cases:
                self._cases.popitem(last=False)
        index, image, label = self._cases[ref.study_id]
        i = index[z]
        return {"image": image[i][None].astype(np.float32), "label": label[i][None].copy()}

    @property
    def held(self) -> int:
        """Cases currently in memory."""
        return len(self._cases)


def epoch_order(refs: list[CaseRef], n_slices: int, seed: int, epoch: int) -> list[tuple[int, int]]:
    """Deterministic ``(case index, z)`` draws for one epoch, grouped by case for the cache.

    Cases come in a seeded random order; within a case, slices are shuffled. With
    ``n_slices`` below the total, a seeded subset is drawn (without replacement).
    """
    rng = np.random.default_rng([seed, epoch])
    pool = [(ci, z) for ci, r in enumerate(refs) for z in r.slices]
    if not pool:
        raise InvalidInput("the approved label maps contain no lung voxels")
    take = pool if n_slices >= len(pool) else [pool[i] for i in
                                               rng.choice(len(pool), n_slices, replace=False)]
    rank = {int(c): k for k, c in enumerate(rng.permutation(len(refs)))}
    jitter = rng.random(len(take))
    order = sorted(range(len(take)), key=lambda k: (rank[take[k][0]], jitter[k]))
    return [take[k] for k in order]


def val_slices(refs: list[CaseRef], per_case: int) -> list[tuple[int, int]]:
    """Evenly spaced lung slices of each validation case (deterministic)."""
    out: list[tuple[int, int]] = []
    for ci, r in enumerate(refs):
        if not r.slices:
            continue
        idx = np.unique(np.linspace(0, len(r.slices) - 1, min(per_case, len(r.slices)))
                        .round().astype(int))
        out.extend((ci, r.slices[i]) for i in idx)
    return out
