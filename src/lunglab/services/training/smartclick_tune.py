"""Fine-tune the Smart click model on a training run's approved label maps (issue 18).

Retraining from the UI runs this after the automatic model: the run's training studies give
their lesion slices (a bounded number per study), mixed with the MedSeg slices when the shared
data is present; the result is stored beside the run's automatic model
(``<name>.smartclick.pt``), and the smart click endpoint uses it while that model is active.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from lunglab.io.store import VolumeStore
from lunglab.ml.cases import CaseRef

MAX_SLICES_PER_STUDY = 24
ITERATIONS = 150


def smartclick_key(weights_key: str) -> str:
    """Store key of the Smart click weights that go with an automatic model's weights."""
    return weights_key.removesuffix(".pt") + ".smartclick.pt"


def lesion_slices(store: VolumeStore, refs: list[CaseRef], seed: int = 0
                  ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """``(hu, lesion, pixel mm)`` for up to :data:`MAX_SLICES_PER_STUDY` lesion slices a study."""
    import SimpleITK as sitk

    rng = np.random.default_rng(seed)
    out = []
    for ref in refs:
        labels = sitk.GetArrayFromImage(sitk.ReadImage(str(store.local_path(ref.labels_key))))
        lesion = np.isin(labels, (2, 3))
        zs = np.nonzero(lesion.reshape(lesion.shape[0], -1).any(1))[0]
        if len(zs) == 0:
            continue
        zs = np.sort(rng.permutation(zs)[:MAX_SLICES_PER_STUDY])
        hu = sitk.GetArrayFromImage(sitk.ReadImage(str(store.local_path(ref.volume_key))))
        mm = float(np.mean(ref.spacing[:2]))
        out += [(hu[z].astype(np.float32), lesion[z], mm) for z in zs]
    return out


def fine_tune_smartclick(store: VolumeStore, refs: list[CaseRef], weights_key: str,
                         base: str | None = None, iterations: int = ITERATIONS,
                         log: Any = print) -> dict[str, Any] | None:
    """Fine-tune the click model on ``refs`` and store it beside ``weights_key``.

    Args:
        base: the click model to start from (default: the shipped one).

    Returns:
        The checkpoint metadata, or None when the studies hold no lesion slices.
    """
    from lunglab.ml.interactive_train import ClickTrainConfig, train_click_model

    extra = lesion_slices(store, refs)
    if not extra:
        log("smart click: no lesion slices in the training studies; not fine-tuned")
        return None
    cfg = ClickTrainConfig(iterations=iterations, batch_size=8, lr=3e-4, init=base,
                           extra=extra, pseudo_fraction=0.1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "smartclick.pt"
        meta = train_click_model(cfg, path, log=lambda m: None)
        store.put_file(smartclick_key(weights_key), path)
    log(f"smart click: fine-tuned on {len(extra)} lesion slices of {len(refs)} studies "
        f"({iterations} iterations, {meta['seconds']} s)")
    return meta


def tune_smartclick(ctx: Any, store: VolumeStore, refs: list[CaseRef], mv_id: int,
                    base: Any, epochs: int, iterations: int | None = None) -> None:
    """The train job's step: fine-tune beside model version ``mv_id`` (starting from the Smart
    click weights of ``base``, the run's base version, when it has some); a failure only logs.

    Args:
        iterations: the run's ``smartclick_iterations``; None: 25 per epoch, at most
            :data:`ITERATIONS`; 0: no fine-tune: the base version's click model, when it has
            one, is stored beside the new model unchanged (else Smart click uses the shipped
            one while the new model is active).
    """
    from lunglab.db.models_training import ModelVersion
    from lunglab.db.session import session_scope
    from lunglab.services.jobs import job_row

    if iterations is None:
        iterations = min(ITERATIONS, 25 * max(1, epochs))
    try:
        with session_scope(ctx.url) as db:
            key = job_row(db, ModelVersion, mv_id).weights_key
        prev = smartclick_key(base.weights_key) if base is not None else None
        init = str(store.local_path(prev)) if prev and store.exists(prev) else None
        if int(iterations) <= 0:
            if init:
                store.put_file(smartclick_key(key), Path(init))
            ctx.log("smart click: not fine-tuned (smartclick_iterations 0); " +
                    (f"keeps the click model of {base.name}" if init else
                     "the shipped click model serves this model"))
            return
        fine_tune_smartclick(store, refs, key, base=init, iterations=int(iterations),
                             log=ctx.log)
    except Exception as exc:
        ctx.log(f"smart click fine-tune skipped: {exc}")
