"""The ``train`` job on several processes with DDP (``world_size`` > 1).

``mp.spawn`` starts one process per GPU (``nccl``) or CPU slot (``gloo``); each runs
:func:`lunglab.ml.train_loop.fine_tune` on its share of every batch; rank 0 validates,
checkpoints and reports to the job. The parent then loads the final weights from the last
checkpoint. Needs a non-daemonic worker process: the local runner, ``lunglab train``, or a
Celery worker started with ``--pool=solo`` or ``--pool=threads``.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import torch

from lunglab.services.jobs import JobCancelled, JobContext
from lunglab.ml.train_loop import FineTuneConfig, fine_tune, latest_checkpoint
from lunglab.ml.cases import CaseRef


def _worker(rank: int, world: int, port: int, state: dict[str, Any], train_refs: list[CaseRef],
            val_refs: list[CaseRef], config: FineTuneConfig, run_dir: Path, store: Any,
            ctx: JobContext, run_id: int) -> None:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    from lunglab.ml import build_model
    from lunglab.services.training.progress import EpochReporter

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    cuda = config.device == "cuda"
    dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world)
    try:
        if not cuda:
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
        device = f"cuda:{rank}" if cuda else "cpu"
        net = build_model(config.arch)
        net.load_state_dict(state)
        if cuda:
            torch.cuda.set_device(rank)
            net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        net = net.to(device)
        model = DDP(net, device_ids=[rank] if cuda else None)
        cfg = FineTuneConfig(**{**config.__dict__, "device": device})
        out = fine_tune(model, train_refs, val_refs, cfg, run_dir, store, rank=rank, world=world,
                        on_epoch=EpochReporter(ctx, run_id, config) if rank == 0 else None)
        if rank == 0:
            (run_dir / "ddp-result.json").write_text(json.dumps(out))
        # leave together: a rank that tears gloo down while its peer is still writing makes
        # the peer abort (SIGABRT, seen once in CI runs)
        dist.barrier()
    finally:
        dist.destroy_process_group()
    # Done: leave at once. A normal interpreter exit still aborted a rank now and then
    # ("terminate called without an active exception", SIGABRT, in two CI runs: a C++ thread
    # torn down by the exit-time destructors), which failed a finished run. Everything this
    # rank wrote is closed; an exception above still reaches ``mp.spawn`` the normal way.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def fine_tune_ddp(world: int, net: torch.nn.Module, train_refs: list[CaseRef],
                  val_refs: list[CaseRef], config: FineTuneConfig, run_dir: Path, store: Any,
                  ctx: JobContext, run_id: int) -> dict[str, Any]:
    """Run :func:`fine_tune` under DDP in ``world`` processes; ``net`` receives the result.

    Raises:
        ValueError: more processes than GPUs, or a batch smaller than ``world``.
        JobCancelled: the job was cancelled during training.
    """
    import torch.multiprocessing as mp

    from lunglab.ml.distributed import free_port

    if config.device == "cuda" and world > torch.cuda.device_count():
        raise ValueError(f"world_size {world} > {torch.cuda.device_count()} GPUs")
    if config.batch_size < world:
        raise ValueError("batch_size must be at least world_size")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "ddp-result.json").unlink(missing_ok=True)
    state = {k: v.cpu() for k, v in net.state_dict().items()}
    try:
        mp.spawn(_worker, args=(world, free_port(), state, train_refs, val_refs, config,
                                run_dir, store, ctx, run_id), nprocs=world, join=True)
    except mp.ProcessRaisedException as exc:
        if "JobCancelled" in str(exc):
            raise JobCancelled("cancelled by the user") from None
        raise
    out = json.loads((run_dir / "ddp-result.json").read_text())
    ckpt = latest_checkpoint(run_dir)
    if ckpt is not None:
        net.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=True)["model"])
    out["world_size"] = world
    return out
