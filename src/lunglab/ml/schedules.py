"""Learning-rate schedules shared by the training commands."""
from __future__ import annotations

import torch


def one_cycle(opt: torch.optim.Optimizer, max_lr: float, total_steps: int, pct_start: float
              ) -> torch.optim.lr_scheduler.OneCycleLR:
    """``OneCycleLR`` that also works for very short runs.

    PyTorch divides by zero when the warm-up ends exactly on the first step
    (``pct_start * total_steps == 1``, e.g. 20 iterations at 5 %) or when both phases end on the
    same step (2 iterations). The warm-up is therefore stretched to at least two steps; runs of
    normal length (``pct_start * total_steps >= 2``) get exactly the schedule they ask for.

    Args:
        opt: the optimiser.
        max_lr: peak learning rate.
        total_steps: iterations of the run (>= 1).
        pct_start: share of the run spent warming up.
    """
    if total_steps < 1:
        raise ValueError(f"a training run needs at least one iteration, got {total_steps}")
    pct = pct_start
    if pct_start * total_steps < 2:
        pct = 2.0 / total_steps if total_steps >= 3 else 0.25 / total_steps
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=total_steps,
                                               pct_start=pct)
