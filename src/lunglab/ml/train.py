"""Deterministic training loop for the 2D lung/lesion network (CPU or GPU).

Example:
    python -m lunglab.ml.train --arch unet2d --iterations 2000 --seed 0 --out model.pt --onnx
"""
from __future__ import annotations

import argparse
import functools
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from monai.losses import DiceCELoss
from monai.utils import set_determinism

from lunglab.ml.dataset import list_ids, load_slice, split_ids
from lunglab.ml.lesion_paste import lesion_bank, paste_lesions
from lunglab.ml.models import NUM_CLASSES, build_model
from lunglab.ml.run_config import SliceModelConfig
from lunglab.ml.schedules import one_cycle
from lunglab.ml.semi import MeanTeacher, ramp
from lunglab.ml.targets import training_pair
from lunglab.ml.transforms import train_transforms


@dataclass
class TrainConfig(SliceModelConfig):
    """Everything that determines a training run (recorded in the checkpoint).

    Seed, weight decay, batch size, architecture, pixel size and patch come from
    :class:`lunglab.ml.run_config.SliceModelConfig`; training from scratch takes a larger
    learning rate than fine-tuning."""

    lr: float = 2e-3
    iterations: int = 1500
    val_fraction: float = 0.2
    split_seed: int = 0
    train_ids: list[str] = field(default_factory=list)
    val_ids: list[str] = field(default_factory=list)
    pseudo_fraction: float = 0.0
    """Share of each batch drawn from the pseudo-labelled slices
    (:mod:`lunglab.ml.pseudo_labels`); 0 trains on the expert slices alone."""
    pseudo_until: int = 0
    """When > 0, pseudo-labelled slices are drawn only in the first ``pseudo_until`` iterations
    (pretraining on them, then expert slices alone)."""
    consistency: float = 0.0
    """Weight of the mean-teacher loss on unlabelled slices (:mod:`lunglab.ml.semi`: the
    pseudo-labelled slices' images, labels ignored); 0 turns it off. The checkpoint then holds
    the teacher."""
    consistency_threshold: float = 0.9
    ema_decay: float = 0.99
    strong_augment: bool = False
    """Stronger geometric and intensity augmentation (:func:`train_transforms` ``strong``)."""
    batch_dice: bool = False
    """Dice over the whole batch per class instead of per sample: a patch without
    consolidation then no longer makes any consolidation prediction cost a full Dice term."""
    lesion_paste: float = 0.0
    """Share of expert samples that get 1-2 expert lesions of other training slices pasted into
    their lung (:mod:`lunglab.ml.lesion_paste`); 0 turns it off."""


def make_split(config: TrainConfig) -> TrainConfig:
    """Fill ``train_ids``/``val_ids`` from the seeded split if they are empty."""
    if not config.train_ids:
        train_ids, val_ids = split_ids(list_ids(), config.val_fraction, config.split_seed)
        if config.val_fraction <= 0:
            train_ids, val_ids = list_ids(), []
        config.train_ids, config.val_ids = train_ids, val_ids
    return config


def train(config: TrainConfig, out_path: Path, device: str = "cpu", log_every: int = 50) -> dict:
    """Train a network and save a checkpoint (fp16 weights + config + log).

    Args:
        config: the run's settings; ids are filled in from the seeded split when empty.
        out_path: checkpoint file to write.
        device: ``cpu`` or ``cuda``.
        log_every: iterations between loss prints.

    Returns:
        The checkpoint's metadata (config, seconds, final loss).
    """
    config = make_split(config)
    set_determinism(seed=config.seed)
    torch.manual_seed(config.seed)
    pairs = [training_pair(load_slice(i), config.model_mm) for i in config.train_ids]
    transform = train_transforms(config.patch, config.seed, config.strong_augment)
    rng = np.random.default_rng(config.seed)
    pseudo = pseudo_pairs(config.model_mm) if config.pseudo_fraction > 0 else []
    unlabelled = pseudo_pairs(config.model_mm) if config.consistency > 0 else []
    urng, ugen = np.random.default_rng(config.seed + 2), torch.Generator().manual_seed(config.seed)
    utransform = train_transforms(config.patch, config.seed + 7)
    prng = np.random.default_rng(config.seed + 1)  # keeps the expert draws of a run unchanged
    bank = lesion_bank(pairs) if config.lesion_paste > 0 else []
    lrng = np.random.default_rng(config.seed + 3)
    model = build_model(config.arch).to(device)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True, include_background=False,
                         lambda_dice=1.0, lambda_ce=1.0, batch=config.batch_dice)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = one_cycle(opt, config.lr, config.iterations, pct_start=0.05)
    start, running, confident, log = time.time(), 0.0, 0.0, []
    teacher = MeanTeacher(model, config.ema_decay) if unlabelled else None
    model.train()
    for it in range(1, config.iterations + 1):
        idx = rng.integers(0, len(pairs), config.batch_size)
        chosen = [pairs[i] for i in idx]
        if bank:
            chosen = [paste_lesions(c, bank, lrng, exclude_source=int(i))
                      if lrng.random() < config.lesion_paste else c
                      for c, i in zip(chosen, idx, strict=True)]
        if pseudo and (not config.pseudo_until or it <= config.pseudo_until):
            use = prng.random(config.batch_size) < config.pseudo_fraction
            pidx = prng.integers(0, len(pseudo), config.batch_size)
            chosen = [pseudo[p] if u else c for c, u, p in zip(chosen, use, pidx, strict=True)]
        batch = [transform(dict(c)) for c in chosen]
        x = torch.stack([b["image"] for b in batch]).float().to(device)
        y = torch.stack([b["label"] for b in batch]).long().to(device)
        loss = loss_fn(model(x), y)
        if teacher is not None:
            uidx = urng.integers(0, len(unlabelled), config.batch_size)
            weak = torch.stack([utransform(dict(unlabelled[i]))["image"] for i in uidx])
            u_loss, conf = teacher.consistency(model, weak.float().to(device), ugen,
                                            config.consistency_threshold)
            loss = loss + config.consistency * ramp(it, config.iterations) * u_loss
            confident += conf
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if teacher is not None:
            teacher.update(model)
        running += float(loss.detach())
        if it % log_every == 0:
            log.append({"it": it, "loss": running / log_every, "s": round(time.time() - start, 1)})
            if teacher is not None:
                log[-1]["confident"] = round(confident / log_every, 3)
                confident = 0.0
            print(json.dumps(log[-1]), flush=True)
            running = 0.0
    meta = {"config": asdict(config), "train_seconds": round(time.time() - start, 1),
            "device": device, "torch_threads": torch.get_num_threads(), "log": log,
            "num_classes": NUM_CLASSES}
    save_checkpoint(teacher.net if teacher is not None else model, meta, out_path)
    return meta


@functools.lru_cache(maxsize=2)
def pseudo_pairs(model_mm: float) -> list[dict[str, np.ndarray]]:
    """Training pairs of every pseudo-labelled slice (built once per process and pixel size)."""
    from tqdm import tqdm

    from lunglab.ml.pseudo_labels import list_pseudo_ids, load_pseudo_slice

    return [training_pair(load_pseudo_slice(n), model_mm)
            for n in tqdm(list_pseudo_ids(), desc="pseudo-labelled slices", unit="slice")]


def save_checkpoint(model: torch.nn.Module, meta: dict, out_path: Path) -> None:
    """Save fp16 weights, fp32 buffers and metadata (loadable with
    ``torch.load(weights_only=True)``; :func:`lunglab.ml.checkpoints.compact_state`)."""
    from lunglab.ml.checkpoints import compact_state

    state = compact_state(model)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"meta_json": json.dumps(meta), "state_dict": state}, out_path)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    d = TrainConfig()
    p.add_argument("--arch", default=d.arch)
    p.add_argument("--model-mm", type=float, default=d.model_mm)
    p.add_argument("--iterations", type=int, default=d.iterations)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--patch", type=int, default=d.patch)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--val-fraction", type=float, default=d.val_fraction)
    p.add_argument("--pseudo-fraction", type=float, default=d.pseudo_fraction,
                   help="share of each batch from the pseudo-labelled slices")
    p.add_argument("--pseudo-until", type=int, default=d.pseudo_until,
                   help="draw pseudo-labelled slices only in the first N iterations")
    p.add_argument("--consistency", type=float, default=d.consistency,
                   help="mean-teacher weight on the unlabelled slices (0: off)")
    p.add_argument("--strong-augment", action="store_true",
                   help="stronger geometric and intensity augmentation")
    p.add_argument("--batch-dice", action="store_true",
                   help="Dice over the whole batch per class instead of per sample")
    p.add_argument("--lesion-paste", type=float, default=d.lesion_paste,
                   help="share of samples with expert lesions of other slices pasted in")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--onnx", action="store_true", help="also export OUT with .onnx suffix")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg = TrainConfig(arch=a.arch, model_mm=a.model_mm, iterations=a.iterations,
                      batch_size=a.batch_size, patch=a.patch, lr=a.lr, seed=a.seed,
                      val_fraction=a.val_fraction, pseudo_fraction=a.pseudo_fraction,
                      pseudo_until=a.pseudo_until, consistency=a.consistency,
                      strong_augment=a.strong_augment, batch_dice=a.batch_dice,
                      lesion_paste=a.lesion_paste)
    meta = train(cfg, a.out, a.device)
    if a.onnx:
        from lunglab.ml.checkpoints import export_onnx

        export_onnx(a.out)
    print(json.dumps({"saved": str(a.out), "train_seconds": meta["train_seconds"]}))


if __name__ == "__main__":
    main()
