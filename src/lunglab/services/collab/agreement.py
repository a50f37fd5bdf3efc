"""Inter-reader agreement of a study and the project's agreement dashboard.

Per study and label ("1" lung, "2" GGO, "3" consolidation, "2+3" all infection): pairwise Dice,
95% Hausdorff distance (mm) and volume difference (mL) between readers; per reader: Dice with the
consensus and STAPLE sensitivity/specificity. The consensus is the newest stored ``consensus``
version, or an unsaved majority vote when there is none. Results are cached per set of versions
(``agreement_results``): a real-size study takes seconds the first time, mostly in MONAI's
surface distances and Dice on the lungs (``bench/agreement.py`` measures it), so the
``agreement`` job computes it in the background as soon as a second reader submits.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from statistics import mean
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.core.times import utc_iso
from lunglab.db.models import LabelMapVersion, Study, User
from lunglab.db.models_collab import AgreementResult
from lunglab.domain.labels import MAX_LABEL
from lunglab.io.store import VolumeStore
from lunglab.imaging import agreement as am
from lunglab.services.access import audit
from lunglab.services.labels import formats as label_formats
from lunglab.services.labels import labelmaps
from lunglab.services.collab.assignments import aware
from lunglab.services.collab.consensus import LABELS, input_versions, reader_name, staple_stats
from lunglab.services.errors import InvalidInput
from lunglab.services.access.projects import require_role
from lunglab.services.collab.review import review_study, submitted

DEFAULT_THRESHOLD = 0.7


def newest_consensus(db: Session, study_id: int) -> LabelMapVersion | None:
    return db.scalar(select(LabelMapVersion).where(
        LabelMapVersion.study_id == study_id, LabelMapVersion.kind == "consensus")
        .order_by(LabelMapVersion.id.desc()).limit(1))


def reader_metrics(stack: list[np.ndarray], stored: np.ndarray | None,
                   spacing_xyz: Sequence[float]) -> dict[str, Any]:
    """The maths of a study's agreement, on label maps (no database).

    Args:
        stack: the readers' label maps.
        stored: the stored consensus, or None for the majority vote of ``stack``.
        spacing_xyz: voxel size in mm, ``(x, y, z)`` like ``Study.spacing``.

    Returns:
        ``{"pairs": {label: {(i, j): pair metrics}}, "dice_vs_consensus": {label: [per reader]},
        "staple": {label: [per reader]}}``, Dice unrounded in ``dice_vs_consensus``.
    """
    # every metric is the same on the box around all the labelled voxels (the lungs: a fraction
    # of a chest CT's voxels), and each reader's label masks and surfaces are made once
    box = am.foreground_box(stack if stored is None else [*stack, stored])
    stack = [s[box] for s in stack]
    ref = stored[box] if stored is not None else am.majority_vote(stack, MAX_LABEL)
    pairs, dice_ref = {}, {}
    for label in LABELS:
        masks = [am.label_mask(s, label) for s in stack]
        pairs[label] = am.pairwise_metrics(masks, spacing_xyz)
        ref_mask = am.label_mask(ref, label)
        dice_ref[label] = [am.dice(m, ref_mask) for m in masks]
    return {"pairs": pairs, "dice_vs_consensus": dice_ref, "staple": staple_stats(stack)}


def _compute(db: Session, store: VolumeStore, study: Study, versions: list[LabelMapVersion],
             consensus: LabelMapVersion | None) -> dict[str, Any]:
    stack = [labelmaps.read_labels(store, v) for v in versions]
    names = [reader_name(db, v) for v in versions]
    stored = labelmaps.read_labels(store, consensus) if consensus is not None else None
    res = reader_metrics(stack, stored, study.spacing)
    labels = []
    for label in LABELS:
        pairs = [{"version_a": versions[i].id, "version_b": versions[j].id,
                  "reader_a": names[i], "reader_b": names[j], **m}
                 for (i, j), m in res["pairs"][label].items()]
        dices = [p["dice"] for p in pairs if p["dice"] is not None]
        labels.append({"label": label, "pairs": pairs,
                       "mean_dice": round(mean(dices), 4) if dices else None,
                       "min_dice": min(dices) if dices else None})
    readers = []
    for i, v in enumerate(versions):
        per_label = {}
        for label in LABELS:
            d = res["dice_vs_consensus"][label][i]
            per_label[label] = {"dice_vs_consensus": None if d is None else round(d, 4),
                                **res["staple"][label][i]}
        readers.append({"version_id": v.id, "reader": names[i], "labels": per_label})
    at = max((t for t in (aware(v.created_at) for v in versions) if t is not None), default=None)
    return {"study_id": study.id, "at": utc_iso(at) if at else None,
            "versions": [{"version_id": v.id, "reader": n}
                         for v, n in zip(versions, names, strict=True)],
            "consensus": {"version_id": consensus.id if consensus else None,
                          "method": "stored" if consensus else "majority (not stored)"},
            "labels": labels, "readers": readers}


def compute_agreement(db: Session, store: VolumeStore, study: Study,
                      version_ids: list[int] | None = None) -> dict[str, Any]:
    """Agreement of a study's versions (default: the submitted ones), cached. No access check."""
    versions = input_versions(db, study, version_ids)
    if len(versions) < 2:
        raise InvalidInput("agreement needs at least two versions (submitted or listed)")
    consensus = newest_consensus(db, study.id)
    key = ",".join(str(v.id) for v in sorted(versions, key=lambda v: v.id))
    key = f"{key}|c{consensus.id if consensus else '-'}"
    cached = db.scalar(select(AgreementResult).where(AgreementResult.study_id == study.id,
                                                     AgreementResult.version_key == key))
    if cached is not None:
        return cached.result
    result = _compute(db, store, study, versions, consensus)
    db.add(AgreementResult(study_id=study.id, version_key=key, result=result))
    db.flush()
    return result


def study_agreement(db: Session, store: VolumeStore, user: User, study_id: int,
                    version_ids: list[int] | None = None) -> dict[str, Any]:
    """Agreement of a study for reviewers and project admins (readers are named)."""
    study = review_study(db, user, study_id)
    result = compute_agreement(db, store, study, version_ids)
    audit.record(db, user, "agreement.view", "study", study.id)
    return result


def disagreement(db: Session, store: VolumeStore, user: User, study_id: int,
                 version_ids: list[int] | None = None) -> tuple[bytes, int, list[int]]:
    """The disagreement map as gzip NIfTI bytes with the study's geometry.

    Each voxel holds how many readers differ from the voxel's majority label (0: all agree).

    Returns:
        ``(nifti_bytes, disagreeing_voxels, input_version_ids)``.
    """
    study = review_study(db, user, study_id)
    versions = input_versions(db, study, version_ids)
    if len(versions) < 2:
        raise InvalidInput("a disagreement map needs at least two versions")
    stack = [labelmaps.read_labels(store, v) for v in versions]
    dmap = am.disagreement_map(stack, MAX_LABEL)
    audit.record(db, user, "agreement.disagreement_view", "study", study.id,
                 versions=[v.id for v in versions])
    return label_formats.encode_labelmap(dmap, study), int(np.count_nonzero(dmap)), [
        v.id for v in versions]


def dashboard(db: Session, store: VolumeStore, user: User, project_id: int,
              threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """Project agreement: per-study points over time, means by label and by reader, and the
    studies whose mean pairwise Dice for a label is below ``threshold``.

    Studies with at least two submitted versions count; missing results are computed (and
    cached) on the way, which takes seconds per real-size study the first time.
    """
    require_role(db, user, project_id, "admin", "reviewer")
    if not 0.0 <= threshold <= 1.0:
        raise InvalidInput("threshold must be within 0..1")
    points, flagged = [], []
    by_label: dict[str, list[float]] = defaultdict(list)
    by_reader: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list))
    for study in db.scalars(select(Study).where(Study.project_id == project_id)
                            .order_by(Study.id)):
        if len(submitted(db, study.id)) < 2:
            continue
        res = compute_agreement(db, store, study)
        for lab in res["labels"]:
            label = lab["label"]
            readers = {r["reader"]: r["labels"][label]["dice_vs_consensus"]
                       for r in res["readers"]}
            points.append({"study_id": study.id, "study_name": study.name, "at": res["at"],
                           "label": label, "mean_dice": lab["mean_dice"],
                           "min_dice": lab["min_dice"], "readers": readers})
            if lab["mean_dice"] is not None:
                by_label[label].append(lab["mean_dice"])
                if lab["mean_dice"] < threshold:
                    flagged.append({"study_id": study.id, "study_name": study.name,
                                    "label": label, "mean_dice": lab["mean_dice"]})
        for r in res["readers"]:
            for label, m in r["labels"].items():
                acc = by_reader[(r["reader"], label)]
                for k in ("dice_vs_consensus", "sensitivity", "specificity"):
                    if m.get(k) is not None:
                        acc[k].append(m[k])
    audit.record(db, user, "agreement.dashboard_view", "project", project_id)

    def avg(xs: list[float]) -> float | None:
        return round(mean(xs), 4) if xs else None

    return {
        "project_id": project_id, "threshold": threshold,
        "studies": len({p["study_id"] for p in points}),
        "points": points,
        "by_label": [{"label": k, "mean_dice": avg(v), "studies": len(v)}
                     for k, v in sorted(by_label.items())],
        "by_reader": [{"reader": r, "label": lab, "studies": len(acc["dice_vs_consensus"]),
                       "mean_dice_vs_consensus": avg(acc["dice_vs_consensus"]),
                       "mean_sensitivity": avg(acc["sensitivity"]),
                       "mean_specificity": avg(acc["specificity"])}
                      for (r, lab), acc in sorted(by_reader.items(), key=lambda kv: (
                          str(kv[0][0]), kv[0][1]))],
        "flagged": flagged,
    }
