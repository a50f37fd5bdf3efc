"""A training run's progress after each epoch: curves and ETA to its row, progress and log to
its job. Shared by the single-process ``train`` job and its DDP workers (rank 0)."""
from __future__ import annotations

from typing import Any

from lunglab.db.models_training import TrainingRun
from lunglab.db.session import session_scope
from lunglab.ml.train_loop import FineTuneConfig
from lunglab.services.jobs import JobContext, job_row

TRAIN_SHARE = 0.85
"""Share of the job's progress bar for training; the rest is registration and evaluation."""


class EpochReporter:
    """After each epoch: the run's curves, epoch and ETA to the table; progress and log to the
    job (raises ``JobCancelled`` when a cancel was requested). Picklable for DDP workers."""

    def __init__(self, ctx: JobContext, run_id: int, config: FineTuneConfig) -> None:
        self.ctx, self.run_id, self.config = ctx, run_id, config

    def __call__(self, history: list[dict[str, Any]]) -> None:
        ctx, config, entry = self.ctx, self.config, history[-1]
        done = entry["epoch"]
        with session_scope(ctx.url) as db:
            run = job_row(db, TrainingRun, self.run_id, what="training run")
            run.history = list(history)
            mean_s = sum(h["seconds"] for h in run.history) / len(run.history)
            left = config.epochs - done
            if config.time_budget_s:
                spent = sum(h["seconds"] for h in run.history)
                left = min(left, max(0, int((config.time_budget_s - spent) // mean_s)))
            run.checkpoint_epoch, run.eta_seconds = done, round(left * mean_s, 1)
        ctx.log(f"epoch {done}/{config.epochs}: loss {entry['loss']:.4f}, "
                f"val Dice {entry['val_dice']}, {entry['seconds']:.1f}s")
        ctx.progress(TRAIN_SHARE * done / config.epochs,
                     f"epoch {done}/{config.epochs}, loss {entry['loss']:.3f}")
