"""The fine-tuning loop over streamed slices: seeded per epoch, checkpointed each epoch,
resumable. No database here: the ``train`` job wires it to the tables.

Determinism: epoch ``e`` draws its slices and augmentations from ``(seed, e)`` alone, and the
checkpoint holds the network and optimiser state, so a run resumed after epoch ``e`` continues
exactly as the uninterrupted run would have.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lunglab.domain.labels import FOREGROUND, LABEL_KEYS
from lunglab.ml.cases import CaseCache, CaseRef, epoch_order, val_slices
from lunglab.ml.run_config import SliceModelConfig


@dataclass
class FineTuneConfig(SliceModelConfig):
    """Everything that determines a fine-tuning run (recorded with the model version).

    Seed, learning rate, weight decay, batch size, architecture, pixel size and patch come from
    :class:`lunglab.ml.run_config.SliceModelConfig` (with its defaults); ``from_params`` builds
    one from job parameters."""

    epochs: int = 10
    time_budget_s: float | None = None
    slices_per_epoch: int = 200
    val_slices_per_case: int = 8
    cache_cases: int = 3
    device: str = "cpu"
    modality: str = "ct"
    """``ct`` or ``xr`` (chest radiographs: :mod:`lunglab.ml.radiograph`)."""
    xr_grid: int = 256
    """Radiographs only: the square grid the whole image is resized to."""


def _atomic_torch_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete ``epoch-NNNN.pt`` in ``run_dir`` (None when there is none)."""
    found = sorted(run_dir.glob("epoch-*.pt"))
    return found[-1] if found else None


def dice_per_label(pred: np.ndarray, ref: np.ndarray) -> dict[str, float | None]:
    """Global Dice per label over all pixels; None where reference and prediction are empty."""
    out: dict[str, float | None] = {}
    for v in FOREGROUND:
        p, r = pred == v, ref == v
        denom = int(p.sum()) + int(r.sum())
        out[LABEL_KEYS[v]] = None if denom == 0 else round(2 * int((p & r).sum()) / denom, 4)
    return out


def _predict(net: torch.nn.Module, image: np.ndarray, device: str, div: int) -> np.ndarray:
    x = torch.from_numpy(image)[None].float()
    h, w = x.shape[-2:]
    x = F.pad(x, (0, (-w) % div, 0, (-h) % div)).to(device)
    with torch.inference_mode():
        return net(x)[0, :, :h, :w].argmax(0).to(torch.uint8).cpu().numpy()


def sample_png(image: np.ndarray, ref: np.ndarray, pred: np.ndarray, path: Path) -> None:
    """Side by side: the CT slice with the reference (left) and the prediction (right)."""
    from PIL import Image

    colors = np.array([[0, 0, 0], [60, 141, 222], [242, 193, 46], [224, 64, 58]], np.float32)
    gray = np.repeat((np.clip(image, 0, 1) * 255)[..., None], 3, axis=2)

    def overlay(lab: np.ndarray) -> np.ndarray:
        alpha = np.where(lab[..., None] > 0, 0.45, 0.0)
        return (gray * (1 - alpha) + colors[lab] * alpha).astype(np.uint8)

    both = np.concatenate([overlay(ref), np.full((image.shape[0], 4, 3), 255, np.uint8),
                           overlay(pred)], axis=1)
    Image.fromarray(both).save(path)


def _stop_flag(stop: bool, world: int, device: str = "cpu") -> bool:
    """Rank 0's decision to stop, shared with every rank (no-op without DDP)."""
    if world <= 1:
        return stop
    import torch.distributed as dist

    flag = torch.tensor([1.0 if stop else 0.0], device=device)
    dist.broadcast(flag, src=0)
    return bool(flag.item())


EpochCallback = Callable[[list[dict[str, Any]]], None]


def fine_tune(net: torch.nn.Module, train_refs: list[CaseRef], val_refs: list[CaseRef],
              config: FineTuneConfig, run_dir: Path, store: Any,
              on_epoch: EpochCallback | None = None, keep: int = 2,
              rank: int = 0, world: int = 1) -> dict[str, Any]:
    """Fine-tune ``net`` on streamed slices, resuming from ``run_dir`` when it holds a checkpoint.

    Args:
        net: the starting network (base weights); modified in place.
        train_refs: training cases.
        val_refs: frozen validation cases.
        config: run settings.
        run_dir: checkpoint folder of this run (created).
        store: the volume store cases are read from.
        on_epoch: called after each epoch with the history so far (may raise to stop).
        keep: checkpoints kept on disk.
        rank: this process's rank under DDP (``net`` is then the ``DistributedDataParallel``
            wrapper); rank 0 validates, writes checkpoints and reports.
        world: number of DDP processes; each takes every ``world``-th slice of a batch.

    Returns:
        ``{"history": [...], "resumed_from_epoch": int | None, "epochs_done": int,
        "cache_loads": int, "seconds": float}``.

    Example:
        >>> cfg = FineTuneConfig(epochs=2)
        >>> fine_tune(net, train, val, cfg, Path("run"), store)  # doctest: +SKIP
    """
    from monai.losses import DiceCELoss

    from lunglab.ml.models import size_divisor
    from lunglab.ml.transforms import radiograph_transforms, train_transforms

    run_dir.mkdir(parents=True, exist_ok=True)
    device = config.device
    torch.manual_seed(config.seed)
    module = getattr(net, "module", net)  # the bare network under DDP
    net.to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history: list[dict[str, Any]] = []
    start_epoch, resumed = 1, None
    ckpt_path = latest_checkpoint(run_dir)
    if ckpt_path is not None:
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)
        module.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        history = json.loads(ckpt["history_json"])
        resumed = int(ckpt["epoch"])
        start_epoch = resumed + 1
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True, include_background=False)
    cache = CaseCache(store, config.model_mm, config.cache_cases, xr_grid=config.xr_grid)
    val_cache = CaseCache(store, config.model_mm, 1, xr_grid=config.xr_grid)
    augment = radiograph_transforms if config.modality == "xr" else train_transforms
    val_items = val_slices(val_refs, config.val_slices_per_case)
    div = size_divisor(config.arch)
    t_start = time.perf_counter()
    for epoch in range(start_epoch, config.epochs + 1):
        t0 = time.perf_counter()
        order = epoch_order(train_refs, config.slices_per_epoch, config.seed, epoch,
                            repeat=config.modality == "xr")
        transform = augment(config.patch, config.seed * 100_003 + epoch)
        net.train()
        losses = []
        for b in range(0, len(order), config.batch_size):
            chunk = order[b:b + config.batch_size]
            if len(chunk) < world:
                continue  # every rank needs a share, or the gradient all-reduce would hang
            batch = [transform(cache.get(train_refs[ci], z)) for ci, z in chunk[rank::world]]
            x = torch.stack([torch.as_tensor(s["image"]) for s in batch]).float().to(device)
            y = torch.stack([torch.as_tensor(s["label"]) for s in batch]).long().to(device)
            loss = loss_fn(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        train_s = time.perf_counter() - t0
        if rank > 0:
            if _stop_flag(False, world, device):
                break
            continue
        module.eval()
        preds, refs, sample = [], [], None
        for k, (ci, z) in enumerate(val_items):
            item = val_cache.get(val_refs[ci], z)
            pred = _predict(module, item["image"], device, div)
            preds.append(pred.ravel())
            refs.append(item["label"][0].ravel())
            if k == 0:
                sample = (item["image"][0], item["label"][0], pred, val_refs[ci].study_id, z)
        entry: dict[str, Any] = {
            "epoch": epoch, "loss": round(float(np.mean(losses)), 5), "slices": len(order),
            "train_seconds": round(train_s, 2),
            "seconds": round(time.perf_counter() - t0, 2),
            "val_dice": dice_per_label(np.concatenate(preds), np.concatenate(refs))
            if preds else {},
        }
        if sample is not None:
            name = f"sample-{epoch:04d}.png"
            sample_png(sample[0], sample[1], sample[2], run_dir / name)
            entry["sample"] = {"file": name, "study_id": sample[3], "z": sample[4]}
        history.append(entry)
        _atomic_torch_save({"model": module.state_dict(), "optimizer": opt.state_dict(),
                            "epoch": epoch, "history_json": json.dumps(history),
                            "config_json": json.dumps(asdict(config))},
                           run_dir / f"epoch-{epoch:04d}.pt")
        for old in sorted(run_dir.glob("epoch-*.pt"))[:-keep]:
            old.unlink(missing_ok=True)
        if on_epoch is not None:
            on_epoch(history)
        spent = sum(h["seconds"] for h in history)
        stop = bool(config.time_budget_s) and epoch < config.epochs and \
            spent + spent / len(history) > float(config.time_budget_s or 0)
        if _stop_flag(stop, world, device):
            history[-1]["stopped"] = "time budget"
            break
    return {"history": history, "resumed_from_epoch": resumed,
            "epochs_done": history[-1]["epoch"] if history else 0,
            "cache_loads": cache.loads, "seconds": round(time.perf_counter() - t_start, 2)}
