"""The one-cycle schedule of both training commands, down to one-iteration runs."""
from __future__ import annotations

import pytest
import torch

from lunglab.ml.schedules import one_cycle


def _lrs(total: int, pct: float, fn) -> list[float]:
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=1e-3)
    sched = fn(opt, total, pct)
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def _ours(opt, total, pct):
    return one_cycle(opt, 1e-3, total, pct)


def _torch(opt, total, pct):
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=total, pct_start=pct)


def test_plain_onecycle_fails_on_short_runs_that_one_cycle_handles() -> None:
    # the bug: 20 iterations at 5 % warm-up (train.py), 10 at 10 % (interactive_train.py)
    with pytest.raises(ZeroDivisionError):
        _lrs(20, 0.05, _torch)
    for pct in (0.05, 0.1):
        for total in range(1, 80):
            lrs = _lrs(total, pct, _ours)
            assert len(lrs) == total
            assert all(0 < v <= 1e-3 + 1e-12 for v in lrs), (pct, total, lrs)


@pytest.mark.parametrize(("total", "pct"), [(6000, 0.05), (1500, 0.1), (40, 0.05), (20, 0.1)])
def test_normal_runs_get_exactly_the_torch_schedule(total: int, pct: float) -> None:
    assert _lrs(total, pct, _ours) == _lrs(total, pct, _torch)


def test_warm_up_then_decay_on_a_short_run() -> None:
    lrs = _lrs(20, 0.05, _ours)
    peak = lrs.index(max(lrs))
    assert 0 < peak < 5
    assert lrs[-1] < lrs[peak] / 100


def test_zero_iterations_is_refused_by_name() -> None:
    p = torch.nn.Parameter(torch.zeros(1))
    with pytest.raises(ValueError, match="at least one iteration"):
        one_cycle(torch.optim.AdamW([p]), 1e-3, 0, 0.05)
