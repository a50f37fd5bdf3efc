"""A 3D SegResNet recipe for sites with GPUs, on a LungLab Decathlon export.

Reads ``dataset.json`` and ``splits_final.json`` (nnU-Net fold 0: the frozen split) written by
:func:`lunglab.io.export.decathlon.write_decathlon`, streams volumes from disk
(``monai.data.Dataset``, no cache: memory stays at a few volumes), trains on random
foreground/background patches and validates with sliding-window inference. Seeded,
checkpointed each epoch, resumable.

Example:
    >>> cfg = Recipe3D(epochs=300, device="cuda")
    >>> data = Path("exports/Dataset501_COVID")
    >>> train_segresnet3d(data, Path("runs/seg3d"), cfg)  # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lunglab.domain.labels import FOREGROUND, LABEL_KEYS
from lunglab.ml.run_config import RunConfig


@dataclass
class Recipe3D(RunConfig):
    """Settings of the 3D recipe (the defaults suit one 16-24 GB GPU); seed, learning rate,
    weight decay and batch size are those of :class:`lunglab.ml.run_config.RunConfig`, with
    the 3D recipe's own defaults."""

    lr: float = 2e-4
    weight_decay: float = 1e-5
    batch_size: int = 2
    roi: tuple[int, int, int] = (128, 128, 64)
    pixdim: tuple[float, float, float] = (1.5, 1.5, 2.5)
    hu_window: tuple[float, float] = (-1100.0, 300.0)
    init_filters: int = 16
    epochs: int = 300
    samples_per_volume: int = 2
    device: str = "cuda"
    max_val_cases: int = 20


def _transforms(cfg: Recipe3D, train: bool) -> Any:
    from monai import transforms as T

    keys = ("image", "label")
    base = [
        T.LoadImaged(keys=keys, image_only=True), T.EnsureChannelFirstd(keys=keys),
        T.Orientationd(keys=keys, axcodes="RAS"),
        T.Spacingd(keys=keys, pixdim=cfg.pixdim, mode=("bilinear", "nearest")),
        T.ScaleIntensityRanged(keys="image", a_min=cfg.hu_window[0], a_max=cfg.hu_window[1],
                               b_min=0.0, b_max=1.0, clip=True),
    ]
    if not train:
        return T.Compose([*base, T.EnsureTyped(keys=keys, track_meta=False)])
    t = T.Compose([
        *base, T.SpatialPadd(keys=keys, spatial_size=cfg.roi),
        T.RandCropByPosNegLabeld(keys=keys, label_key="label", spatial_size=cfg.roi, pos=2,
                                 neg=1, num_samples=cfg.samples_per_volume),
        T.RandFlipd(keys=keys, prob=0.5, spatial_axis=0),
        T.RandFlipd(keys=keys, prob=0.5, spatial_axis=1),
        T.RandScaleIntensityd(keys="image", factors=0.1, prob=0.3),
        T.EnsureTyped(keys=keys, track_meta=False),
    ])
    t.set_random_state(seed=cfg.seed)
    return t


def datalists(dataset_dir: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Training and validation items of a Decathlon export (fold 0 of ``splits_final.json``).

    Raises:
        ValueError: no labelled training cases.
    """
    meta = json.loads((dataset_dir / "dataset.json").read_text())
    items = [{"image": str(dataset_dir / d["image"]), "label": str(dataset_dir / d["label"])}
             for d in meta["training"]]
    if not items:
        raise ValueError(f"{dataset_dir} has no labelled training cases")
    val_ids: set[str] = set()
    split_file = dataset_dir / "splits_final.json"
    if split_file.is_file():
        val_ids = set(json.loads(split_file.read_text())[0].get("val", []))
    val = [i for i in items if Path(i["label"]).name.removesuffix(".nii.gz") in val_ids]
    train = [i for i in items if i not in val]
    if not val:
        val, train = train[-1:], train[:-1] or train
    return train, val


def build_network(cfg: Recipe3D) -> torch.nn.Module:
    """The 3D SegResNet (4 outputs: background, lung, GGO, consolidation)."""
    from monai.networks.nets import SegResNet

    return SegResNet(spatial_dims=3, in_channels=1, out_channels=4,
                     init_filters=cfg.init_filters, blocks_down=(1, 2, 2, 4),
                     blocks_up=(1, 1, 1), dropout_prob=0.1)


def _validate(net: torch.nn.Module, items: list[dict[str, str]], cfg: Recipe3D) -> dict:
    from monai.data import Dataset
    from monai.inferers import sliding_window_inference

    inter, total = np.zeros(len(FOREGROUND)), np.zeros(len(FOREGROUND))
    net.eval()
    with torch.inference_mode():
        data = Dataset(items[:cfg.max_val_cases], _transforms(cfg, train=False))
        for i in range(len(data)):
            item = data[i]
            x = item["image"][None].to(cfg.device)
            logits = sliding_window_inference(x, cfg.roi, 2, net, overlap=0.25)
            assert isinstance(logits, torch.Tensor)
            pred = logits.argmax(1)[0].cpu()
            ref = item["label"][0].long()
            for k, v in enumerate(FOREGROUND):
                p, r = pred == v, ref == v
                inter[k] += float((p & r).sum())
                total[k] += float(p.sum() + r.sum())
    return {LABEL_KEYS[v]: (round(2 * inter[k] / total[k], 4) if total[k] else None)
            for k, v in enumerate(FOREGROUND)}


def train_segresnet3d(dataset_dir: Path, run_dir: Path, cfg: Recipe3D,
                      on_epoch: Any = None) -> dict[str, Any]:
    """Train (or resume) the 3D recipe; checkpoints go to ``run_dir/epoch-NNNN.pt``.

    Returns:
        ``{"history": [...], "resumed_from_epoch": int | None, "weights": path}``.
    """
    from monai.data import DataLoader, Dataset
    from monai.losses import DiceCELoss
    from monai.utils import set_determinism

    set_determinism(seed=cfg.seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    train_items, val_items = datalists(dataset_dir)
    net = build_network(cfg).to(cfg.device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    history: list[dict[str, Any]] = []
    start, resumed = 1, None
    ckpts = sorted(run_dir.glob("epoch-*.pt"))
    if ckpts:
        ck = torch.load(ckpts[-1], map_location=cfg.device, weights_only=True)
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        history, resumed = json.loads(ck["history_json"]), int(ck["epoch"])
        start = resumed + 1
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True, include_background=False)
    for epoch in range(start, cfg.epochs + 1):
        t0 = time.perf_counter()
        transform = _transforms(Recipe3D(**{**asdict(cfg), "seed": cfg.seed * 1009 + epoch}),
                                train=True)
        loader = DataLoader(Dataset(train_items, transform), batch_size=cfg.batch_size,
                            shuffle=True, num_workers=0,
                            generator=torch.Generator().manual_seed(cfg.seed * 1009 + epoch))
        net.train()
        losses = []
        for batch in loader:
            loss = loss_fn(net(batch["image"].to(cfg.device)), batch["label"].to(cfg.device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        entry = {"epoch": epoch, "loss": round(float(np.mean(losses)), 5),
                 "val_dice": _validate(net, val_items, cfg),
                 "seconds": round(time.perf_counter() - t0, 2)}
        history.append(entry)
        tmp = run_dir / "checkpoint.tmp"
        torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                    "history_json": json.dumps(history), "config_json": json.dumps(asdict(cfg))},
                   tmp)
        os.replace(tmp, run_dir / f"epoch-{epoch:04d}.pt")
        for old in sorted(run_dir.glob("epoch-*.pt"))[:-2]:
            old.unlink(missing_ok=True)
        if on_epoch is not None:
            on_epoch(history)
    weights = run_dir / "segresnet3d.pt"
    torch.save({"state_dict": net.state_dict(), "config_json": json.dumps(asdict(cfg))}, weights)
    return {"history": history, "resumed_from_epoch": resumed, "weights": str(weights)}
