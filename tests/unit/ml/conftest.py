"""A tiny randomly initialised checkpoint, so inference tests do not need shipped weights."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lunglab.ml.models import build_model
from lunglab.ml.train import TrainConfig, save_checkpoint


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    cfg = TrainConfig(arch="unet2d-small", model_mm=1.5)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(build_model(cfg.arch), {"config": cfg.__dict__, "num_classes": 4}, path)
    return path
