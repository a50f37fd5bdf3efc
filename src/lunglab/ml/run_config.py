"""The settings every LungLab training run shares, declared once.

:class:`RunConfig` holds what any run records (seed, optimiser, batch size);
:class:`SliceModelConfig` adds what the 2D slice networks share (architecture, pixel size,
patch). The training configs build on them: :class:`lunglab.ml.train.TrainConfig` (the
shipped model's recipe), :class:`lunglab.ml.train_loop.FineTuneConfig` (a project's
fine-tuning) and :class:`lunglab.ml.recipes.segresnet3d.Recipe3D` (the 3D recipe). A subclass
may give a field another default by declaring it again.

Example:
    >>> @dataclass
    ... class MyRun(RunConfig):
    ...     epochs: int = 5
    >>> MyRun.from_params({"epochs": 2, "lr": None, "unknown": 1})
    MyRun(seed=0, lr=0.0005, weight_decay=0.0001, batch_size=8, epochs=2)
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

C = TypeVar("C", bound="RunConfig")


@dataclass
class RunConfig:
    """What every training run records and is reproduced from."""

    seed: int = 0
    lr: float = 5e-4
    weight_decay: float = 1e-4
    batch_size: int = 8

    @classmethod
    def from_params(cls: type[C], params: dict[str, Any]) -> C:
        """Build from job parameters, ignoring unknown keys and ``None`` values."""
        known = {f.name: params[f.name] for f in fields(cls) if params.get(f.name) is not None}
        return cls(**known)


@dataclass
class SliceModelConfig(RunConfig):
    """What the 2D slice networks share: architecture, in-plane pixel size, patch."""

    arch: str = "unet2d"
    model_mm: float = 1.5
    patch: int = 160
