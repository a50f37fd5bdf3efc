"""Active learning: rank the project's unannotated studies by model uncertainty.

Uncertainty is the test-time-augmentation entropy over the lungs: the network sees each
sampled slice in four rotations; the mean softmax's entropy (normalised to 0..1) is averaged
over the lung pixels. Studies the model is least sure about come first.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sqlalchemy import select
from sqlalchemy.orm import Session

from lunglab.db.models import LabelMapVersion, Study, User
from lunglab.db.models_training import UncertaintyScore
from lunglab.services.access.projects import require_role
from lunglab.services.training.data import approved_versions

METHOD = "tta-entropy"


def tta_entropy(loaded: Any, hu: np.ndarray, spacing: tuple[float, float, float],
                lung: np.ndarray, views: int = 4) -> float:
    """Mean normalised entropy of the rotation-averaged softmax over ``lung`` pixels.

    Args:
        loaded: a ``LoadedModel`` (network, arch, model_mm).
        hu: HU slices ``[z, y, x]``.
        spacing: voxel size ``(x, y, z)``.
        lung: boolean lung mask with the shape of ``hu``.
        views: rotations averaged (1..4).

    Returns:
        Entropy in 0..1 (0: every view certain and agreeing); 0 when there is no lung.
    """
    from lunglab.imaging.hu import hu_window
    from lunglab.imaging.resample import inplane_shape, resize_probabilities, resize_slices
    from lunglab.ml.models import size_divisor

    _, h, w = hu.shape
    shape = inplane_shape((h, w), (spacing[1], spacing[0]), loaded.model_mm)
    div = size_divisor(loaded.arch)
    x = torch.from_numpy(resize_slices(hu_window(hu.astype(np.float32)), shape))[:, None]
    x = F.pad(x, (0, (-shape[1]) % div, 0, (-shape[0]) % div))
    size = max(x.shape[-2:])
    x = F.pad(x, (0, size - x.shape[-1], 0, size - x.shape[-2]))  # square: rotations keep shape
    prob = torch.zeros(())
    with torch.inference_mode():
        for k in range(views):
            view = torch.rot90(x, k, (-2, -1)).contiguous().to(loaded.device)
            p = torch.softmax(torch.rot90(loaded.forward(view), -k, (-2, -1)).float(),
                              dim=1).cpu()
            prob = p if k == 0 else prob + p
    prob = resize_probabilities(prob[:, :, :shape[0], :shape[1]] / views, (h, w))
    ent = -(prob * torch.log(prob.clamp_min(1e-8))).sum(1) / np.log(prob.shape[1])
    mask = torch.from_numpy(lung)
    return float(ent[mask].mean()) if mask.any() else 0.0


def unannotated(db: Session, project_id: int) -> list[int]:
    """Studies with neither an approved label map nor any reader's version."""
    done = set(approved_versions(db, project_id))
    done |= set(db.scalars(select(LabelMapVersion.study_id).join(Study)
                           .where(Study.project_id == project_id,
                                  LabelMapVersion.kind != "ai")))
    ids = db.scalars(select(Study.id).where(Study.project_id == project_id).order_by(Study.id))
    return [s for s in ids if s not in done]


def score_study(loaded: Any, volume: Any, max_slices: int = 8) -> dict[str, Any]:
    """Uncertainty of one study from up to ``max_slices`` evenly spaced lung slices."""
    from lunglab.imaging.lungs import lung_mask

    hu = np.asarray(volume.array)
    lung = lung_mask(hu, volume.spacing)
    zs = np.nonzero(lung.any(axis=(1, 2)))[0]
    if zs.size == 0:
        return {"score": 0.0, "slices": []}
    pick = np.unique(np.linspace(0, zs.size - 1, min(max_slices, zs.size)).round().astype(int))
    z = zs[pick]
    return {"score": round(tta_entropy(loaded, hu[z], volume.spacing, lung[z]), 5),
            "slices": [int(v) for v in z]}


def ranked_study_ids(db: Session, project_id: int) -> list[int]:
    """Unannotated studies, most uncertain first (for auto-assignment); unscored ones last."""
    todo = unannotated(db, project_id)
    scores = dict(db.execute(select(UncertaintyScore.study_id, UncertaintyScore.score)
                             .where(UncertaintyScore.project_id == project_id)).all())
    return sorted(todo, key=lambda s: (-scores.get(s, -1.0), s))


def annotate_next(db: Session, user: User, project_id: int,
                  limit: int = 50) -> list[dict[str, Any]]:
    """The "what to annotate next" list for project admins."""
    require_role(db, user, project_id, "admin")
    rows = {r.study_id: r for r in db.scalars(
        select(UncertaintyScore).where(UncertaintyScore.project_id == project_id))}
    out = []
    for rank, sid in enumerate(ranked_study_ids(db, project_id)[:limit], start=1):
        study = db.get(Study, sid)
        r = rows.get(sid)
        out.append({"rank": rank, "study_id": sid, "name": study.name if study else None,
                    "score": r.score if r else None, "method": r.method if r else None,
                    "model": r.model_name if r else None,
                    "computed_at": r.computed_at if r else None})
    return out
