"""Consensus of several readers' label maps, stored as a ``consensus`` version.

Methods: ``staple`` (SimpleITK multi-label STAPLE; undecided voxels by majority) and
``majority`` (per-voxel vote, ties to the lower label). The inputs, the method and each
reader's STAPLE sensitivity/specificity per label are kept in the version's ``details``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from lunglab.db.lookup import get_or_404
from lunglab.db.models import LabelMapVersion, Study, User
from lunglab.domain.labels import FOREGROUND, MAX_LABEL
from lunglab.io.store import VolumeStore
from lunglab.imaging import agreement as am
from lunglab.services.access import audit
from lunglab.services.labels import labelmaps
from lunglab.services.errors import InvalidInput
from lunglab.services.collab.review import review_study, submitted

METHODS = ("staple", "majority")
LABELS = (*(str(v) for v in FOREGROUND), am.LESION)


def input_versions(db: Session, study: Study,
                   version_ids: list[int] | None) -> list[LabelMapVersion]:
    """The versions to combine: the given ids (of this study) or every submitted version."""
    if version_ids is None:
        ids = [p.submitted_version_id for _, p in submitted(db, study.id)]
    else:
        ids = list(dict.fromkeys(version_ids))
    versions = []
    for vid in ids:
        v = get_or_404(db, LabelMapVersion, vid, "version",
                       where=lambda v: v.study_id == study.id,
                       context=" for this study")
        versions.append(v)
    return versions


def reader_name(db: Session, v: LabelMapVersion) -> str | None:
    if v.author_id is None:
        return v.model_name
    u = db.get(User, v.author_id)
    return u.username if u else None


def staple_stats(stack: list[np.ndarray]) -> dict[str, list[dict[str, float | None]]]:
    """Binary STAPLE per label; specificity measured inside the readers' joint lung field."""
    region = np.logical_or.reduce([s > 0 for s in stack])
    return {label: am.staple_rater_stats([am.label_mask(s, label) for s in stack], region)
            for label in LABELS}


def combine(stack: list[np.ndarray], method: str) -> np.ndarray:
    if method == "staple":
        return am.multilabel_staple(stack, MAX_LABEL)
    return am.majority_vote(stack, MAX_LABEL)


def build(db: Session, store: VolumeStore, user: User, study_id: int, method: str = "staple",
          version_ids: list[int] | None = None, message: str = "") -> dict[str, Any]:
    """Combine readers' versions into a new ``consensus`` version (reviewers, project admins).

    Args:
        version_ids: inputs (default: every submitted version of the study); at least two.

    Returns:
        ``{"version", "method", "inputs": [{version_id, reader}], "staple": {label: [...]}}``.

    Raises:
        InvalidInput: unknown method or fewer than two inputs. NotFound: a version not here.
    """
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}")
    study = review_study(db, user, study_id)
    versions = input_versions(db, study, version_ids)
    if len(versions) < 2:
        raise InvalidInput("a consensus needs at least two versions (submitted or listed)")
    stack = [labelmaps.read_labels(store, v) for v in versions]
    result = combine(stack, method)
    stats = staple_stats(stack)
    inputs = [{"version_id": v.id, "reader": reader_name(db, v)} for v in versions]
    details = {"consensus": {"method": method, "inputs": [v.id for v in versions],
                             "input_readers": [i["reader"] for i in inputs], "staple": stats}}
    ids = ", ".join(str(v.id) for v in versions)
    version = labelmaps.save_version(
        db, store, user, study.id, result, base_version_id=None, kind="consensus",
        message=message or f"{method} consensus of versions {ids}", details=details,
        check_base=False)
    audit.record(db, user, "review.consensus", "study", study.id, version=version.id,
                 method=method, inputs=[v.id for v in versions])
    return {"version": version, "method": method, "inputs": inputs, "staple": stats}
