"""Shipped and local model checkpoints: find by name or path, load once per process."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lunglab.ml.models import build_model

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_MODEL = "lunglab-lesion2d-v1"
"""Name of the shipped default lung/lesion model (``weights/<name>.pt``)."""


@dataclass(frozen=True)
class LoadedModel:
    """A network ready for inference with the metadata saved by training."""

    name: str
    network: torch.nn.Module
    meta: dict[str, Any]
    device: str

    @property
    def model_mm(self) -> float:
        """In-plane pixel size the network was trained at."""
        return float(self.meta["config"]["model_mm"])

    @property
    def arch(self) -> str:
        return str(self.meta["config"]["arch"])


def resolve_device(device: str = "auto") -> str:
    """``auto`` becomes ``cuda`` when available, else ``cpu``.

    Raises:
        ValueError: for an unknown device or ``cuda`` without a GPU.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but no CUDA GPU is available")
    return device


def model_path(model: str | None) -> Path:
    """Checkpoint file of a shipped model name or an explicit ``.pt`` path.

    Raises:
        FileNotFoundError: if neither exists.
    """
    name = model or DEFAULT_MODEL
    candidate = Path(name)
    if candidate.suffix == ".pt" and candidate.is_file():
        return candidate
    shipped = WEIGHTS_DIR / f"{name}.pt"
    if shipped.is_file():
        return shipped
    available = sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))
    raise FileNotFoundError(f"model {name!r} not found; shipped models: {available}")


@functools.lru_cache(maxsize=4)
def load_model(model: str | None = None, device: str = "cpu") -> LoadedModel:
    """Load a checkpoint written by :func:`lunglab.ml.train.save_checkpoint` (cached).

    Args:
        model: shipped name (default :data:`DEFAULT_MODEL`) or a path to a ``.pt`` file.
        device: ``cpu`` or ``cuda``.

    Returns:
        The network in eval mode, float32, on ``device``.
    """
    path = model_path(model)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    meta = json.loads(ckpt["meta_json"])
    net = build_model(meta["config"]["arch"], out_channels=int(meta.get("num_classes", 4)))
    net.load_state_dict({k: v.float() if v.is_floating_point() else v
                         for k, v in ckpt["state_dict"].items()})
    net.eval().to(device)
    return LoadedModel(name=path.stem, network=net, meta=meta, device=device)
