"""K-fold cross-validation of a training recipe over the labelled MedSeg slices.

Every fold trains a fresh network on the other folds' slices and scores its own slices through
the full blind-test pipeline (:func:`lunglab.ml.evaluate.evaluate`). Nothing is selected on the
held-out folds: the recipe is fixed before the run, so the mean ± sd is an honest estimate of
the recipe (not of any one checkpoint).

Example:
    >>> from lunglab.ml.kfold import cross_validate
    >>> from lunglab.ml.train import TrainConfig
    >>> result = cross_validate(TrainConfig(arch="unet2d", iterations=300), k=5)  # doctest: +SKIP
    >>> result["mean"]["infection_dice"], result["sd"]["infection_dice"]  # doctest: +SKIP
"""
from __future__ import annotations

import copy
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

METRICS = ("infection_dice", "ggo_dice", "consolidation_dice", "lesion_in_lung")


def kfold_ids(ids: Sequence[str], k: int = 5, seed: int = 0) -> list[list[str]]:
    """``k`` disjoint folds covering ``ids`` (seeded shuffle, sizes differ by at most one).

    Raises:
        ValueError: if ``k`` < 2 or there are fewer ids than folds.
    """
    if k < 2 or len(ids) < k:
        raise ValueError(f"need 2 <= k <= {len(ids)} ids, got k={k}")
    order = np.random.default_rng(seed).permutation(len(ids))
    return [sorted((ids[i] for i in order[f::k]), key=_id_key) for f in range(k)]


def _id_key(case_id: str) -> Any:
    return (0, int(case_id)) if case_id.isdigit() else (1, case_id)


def summarize_folds(per_fold: Sequence[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and sample standard deviation over folds of each metric (NaN folds skipped)."""
    mean, sd = {}, {}
    for key in METRICS:
        vals = np.array([f[key] for f in per_fold if not np.isnan(f[key])], float)
        mean[key] = float(vals.mean()) if vals.size else float("nan")
        sd[key] = float(vals.std(ddof=1)) if vals.size > 1 else float("nan")
    return {"mean": mean, "sd": sd}


def cross_validate(config: Any, k: int = 5, seed: int = 0, ids: Sequence[str] | None = None,
                   device: str = "cpu", tta: bool | None = None,
                   out_dir: Path | None = None, log_every: int = 100,
                   only: Sequence[int] | None = None) -> dict[str, Any]:
    """Train and score ``k`` folds of a recipe.

    Args:
        config: a :class:`lunglab.ml.train.TrainConfig` (its ids are replaced per fold).
        k: number of folds.
        seed: fold shuffle seed.
        ids: labelled slice ids (default: all of them).
        device: ``cpu`` or ``cuda``.
        tta: test-time augmentation at scoring (None: on, as for single slices).
        out_dir: where fold checkpoints go (default: a temporary folder, deleted after).
        log_every: training loss print interval.
        only: run just these fold numbers (the others are skipped; the folds are the same),
            so that processes can share a run; None: all of them.

    Returns:
        ``{"folds": [{"ids", "summary", "train_seconds"}...], "mean", "sd", "per_slice"}``.
    """
    from lunglab.ml.dataset import list_ids
    from lunglab.ml.evaluate import aggregate, evaluate
    from lunglab.ml.train import train

    ids = list(ids) if ids is not None else list_ids()
    folds = kfold_ids(ids, k, seed)
    tmp = None if out_dir is not None else tempfile.TemporaryDirectory()
    root = Path(out_dir) if out_dir is not None else Path(tmp.name)  # type: ignore[union-attr]
    results, rows = [], []
    try:
        for f, held_out in enumerate(folds):
            if only is not None and f not in only:
                continue
            cfg = copy.deepcopy(config)
            cfg.train_ids = [i for i in ids if i not in held_out]
            cfg.val_ids = list(held_out)
            ckpt = root / f"fold{f}.pt"
            meta = _finished_fold(ckpt, cfg)  # a rerun scores a fold trained before
            if meta is None:
                meta = train(cfg, ckpt, device, log_every=log_every)
            res = evaluate(held_out, str(ckpt), device, tta=tta)
            rows.extend(res["per_slice"])
            results.append({"fold": f, "ids": list(held_out), "summary": res["summary"],
                            "train_seconds": meta["train_seconds"]})
            print({"fold": f, **{m: round(res["summary"][m], 3) for m in METRICS}}, flush=True)
    finally:
        if tmp is not None:
            tmp.cleanup()
    out: dict[str, Any] = {"folds": results, "per_slice": rows, "pooled": aggregate(rows)}
    out.update(summarize_folds([r["summary"] for r in results]))
    return out


def _finished_fold(ckpt: Path, config: Any) -> dict[str, Any] | None:
    """The metadata of ``ckpt`` when it holds a finished run of exactly ``config``, else None.

    So a k-fold process that stopped after training (killed, or its scoring failed) can be
    rerun with the same ``out_dir`` and scores the saved folds instead of training them again.
    """
    import json
    from dataclasses import asdict

    import torch

    if not ckpt.is_file():
        return None
    try:
        meta = json.loads(torch.load(ckpt, map_location="cpu", weights_only=True)["meta_json"])
    except Exception:  # unreadable or partial file: train again
        return None
    same = meta.get("config") == json.loads(json.dumps(asdict(config)))
    return meta if same else None
