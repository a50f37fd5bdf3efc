"""Tiny approved studies and tiny training settings for the training tests (seconds on CPU)."""
from __future__ import annotations


import numpy as np

from tests.helpers import add_study, wait_job  # noqa: F401  (wait_job: used by the training tests)

SHAPE = (6, 32, 40)
TINY = {"epochs": 2, "from_scratch": True, "arch": "unet2d-small", "patch": 32, "batch_size": 4,
        "slices_per_epoch": 8, "val_slices_per_case": 2, "device": "cpu", "seed": 0,
        "smartclick_iterations": 3}


def lung_labels(shape=SHAPE, lesion: bool = True) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Labels matching ``tests.helpers.synthetic_volume``: two lungs, a GGO and a consolidation."""
    _, y, x = shape
    lab = np.zeros(shape, np.uint8)
    lab[:, 6:y - 6, 5:x // 2 - 2] = 1
    lab[:, 6:y - 6, x // 2 + 2:x - 5] = 1
    if lesion:
        lab[1:4, 9:14, 7:11] = 2
        lab[2:4, 16:20, x // 2 + 4:x // 2 + 8] = 3
    return lab


def add_approved_study(app, project_id: int, uid: str, kind: str = "imported") -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A synthetic study with an approved (imported/consensus) label map: ``(study, version)``."""
    from lunglab.db.session import session_scope
    from lunglab.services.labels.labelmaps import save_version

    sid = add_study(app, project_id, uid=uid, shape=SHAPE)
    with session_scope(app.state.settings.resolved_database_url) as db:
        v = save_version(db, app.state.store, None, sid, lung_labels(), base_version_id=None,
                         kind=kind, check_base=False, message="reference")
        return sid, v.id
