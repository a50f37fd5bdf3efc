"""Data-parallel training with ``torch.distributed`` (DDP), one process per GPU or CPU slot.

Launched with ``torch.multiprocessing.spawn`` (or ``torchrun``, which sets the same rank
variables). Each step takes a global batch; rank ``r`` trains on samples ``r::world_size``
and DDP averages the gradients, so with equal shards the update equals single-process
training on the whole batch. Use ``gloo`` on CPU and ``nccl`` on GPUs.

BatchNorm statistics are per rank; on GPUs :func:`build_network` converts them to
``SyncBatchNorm``. Networks with ``norm="instance"`` are exactly equivalent on any backend.

Example:
    >>> result = ddp_fit(images, labels, world_size=2, steps=3)  # doctest: +SKIP
    >>> result["max_grad_diff"]  # gradients of the ranks after the all-reduce  # doctest: +SKIP
"""
from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp


@dataclass
class DistConfig:
    """Settings of a data-parallel run (recorded with the result)."""

    arch: str = "unet2d-small"
    norm: str = "batch"
    steps: int = 10
    batch_size: int = 8
    lr: float = 1e-3
    seed: int = 0
    backend: str = "gloo"


def build_network(arch: str, norm: str = "batch") -> torch.nn.Module:
    """A LungLab architecture with the given normalisation (``batch`` is what ships)."""
    from monai.networks.nets import UNet

    from lunglab.ml import ARCHITECTURES, build_model

    if norm == "batch":
        return build_model(arch)
    cfg = ARCHITECTURES[arch]
    if not arch.startswith("unet"):
        raise ValueError(f"norm={norm!r} is offered for the UNet architectures only")
    return UNet(spatial_dims=2, in_channels=1, out_channels=4, channels=cfg["channels"],
                strides=cfg["strides"], num_res_units=cfg["num_res_units"], norm=norm)


def _loss_fn() -> torch.nn.Module:
    from monai.losses import DiceCELoss

    return DiceCELoss(to_onehot_y=True, softmax=True, include_background=False)


def _batches(n: int, cfg: DistConfig) -> list[np.ndarray]:
    rng = np.random.default_rng(cfg.seed)
    return [rng.choice(n, cfg.batch_size, replace=n < cfg.batch_size) for _ in range(cfg.steps)]


def single_fit(images: np.ndarray, labels: np.ndarray, cfg: DistConfig) -> dict[str, Any]:
    """The single-process reference: the same steps on the whole global batch."""
    torch.manual_seed(cfg.seed)
    net = build_network(cfg.arch, cfg.norm)
    opt = torch.optim.SGD(net.parameters(), lr=cfg.lr)
    loss_fn, losses = _loss_fn(), []
    for idx in _batches(len(images), cfg):
        loss = loss_fn(net(torch.from_numpy(images[idx])), torch.from_numpy(labels[idx]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return {"state_dict": net.state_dict(), "losses": losses}


def _worker(rank: int, world: int, port: int, images: np.ndarray, labels: np.ndarray,
            cfg: DistConfig, out: str) -> None:
    from torch.nn.parallel import DistributedDataParallel as DDP

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group(cfg.backend, rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        torch.manual_seed(cfg.seed)
        net = build_network(cfg.arch, cfg.norm)
        device = torch.device("cpu")
        if cfg.backend == "nccl":
            device = torch.device("cuda", rank)
            net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net.to(device))
        model = DDP(net, device_ids=[rank] if device.type == "cuda" else None)
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
        loss_fn, losses, grad_diffs = _loss_fn(), [], []
        for idx in _batches(len(images), cfg):
            mine = idx[rank::world]
            x = torch.from_numpy(images[mine]).to(device)
            y = torch.from_numpy(labels[mine]).to(device)
            loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # DDP all-reduces (averages) the gradients here
            flat = torch.cat([p.grad.reshape(-1) for p in model.parameters()
                              if p.grad is not None])
            gathered = [torch.empty_like(flat) for _ in range(world)]
            dist.all_gather(gathered, flat)
            grad_diffs.append(max(float((g - gathered[0]).abs().max()) for g in gathered))
            opt.step()
            total = loss.detach().clone()
            dist.all_reduce(total)
            losses.append(float(total) / world)
        if rank == 0:
            torch.save({"state_dict": {k: v.cpu() for k, v in model.module.state_dict().items()},
                        "losses": losses, "grad_diffs": grad_diffs}, out)
        # Leave together: a rank that tears gloo down while its peer is still in the last
        # collective aborts with "terminate called without an active exception" (SIGABRT).
        dist.barrier()
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    """A free TCP port on localhost for the rendezvous."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ddp_fit(images: np.ndarray, labels: np.ndarray, world_size: int = 2,
            cfg: DistConfig | None = None, **overrides: Any) -> dict[str, Any]:
    """Train with DDP in ``world_size`` spawned processes.

    Args:
        images: float32 ``[n, 1, y, x]`` windowed slices.
        labels: int64 ``[n, 1, y, x]`` label maps.
        world_size: processes (one per GPU with ``backend="nccl"``).
        cfg: run settings; ``overrides`` replace single fields.

    Returns:
        ``{"state_dict", "losses", "grad_diffs", "max_grad_diff", "config"}``; ``grad_diffs``
        is, per step, the largest difference between any rank's gradient and rank 0's after
        the all-reduce (0 when DDP works).
    """
    cfg = cfg or DistConfig()
    for k, v in overrides.items():
        setattr(cfg, k, v)
    if cfg.batch_size % world_size:
        raise ValueError("batch_size must be a multiple of world_size (equal shards)")
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "rank0.pt")
        mp.spawn(_worker, args=(world_size, free_port(), images, labels, cfg, out),
                 nprocs=world_size, join=True)
        res = torch.load(out, weights_only=True)
    res["max_grad_diff"] = max(res["grad_diffs"]) if res["grad_diffs"] else 0.0
    res["config"] = asdict(cfg)
    return res
