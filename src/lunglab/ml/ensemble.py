"""Ensembles of shipped checkpoints, described by a small JSON manifest in ``weights/``.

``weights/<name>.json``::

    {"members": ["lunglab-segresnet2d-v1", "lunglab-unet2d-v1"], "version": "1"}

The ensemble averages the members' softmax. Members must share the pixel size.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lunglab.ml.models import size_divisor
from lunglab.ml.checkpoints import WEIGHTS_DIR, LoadedModel, load_model, manifest_members


@dataclass(frozen=True)
class EnsembleModel:
    """Members run on the same batch; ``forward`` returns log of the mean softmax."""

    name: str
    members: tuple[LoadedModel, ...]
    version: str = "1"

    @property
    def device(self) -> str:
        return self.members[0].device

    @property
    def model_mm(self) -> float:
        return self.members[0].model_mm

    @property
    def arch(self) -> str:
        """The member architecture with the largest size divisor (input padding)."""
        return max((m.arch for m in self.members), key=size_divisor)

    @property
    def meta(self) -> dict[str, Any]:
        first = dict(self.members[0].meta)
        first["config"] = dict(first["config"], arch="+".join(m.arch for m in self.members))
        first["version"] = self.version
        first["members"] = [m.name for m in self.members]
        return first

    def first_member(self) -> LoadedModel:
        """The first member alone (used for volumes, where speed matters)."""
        return self.members[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        prob = torch.softmax(self.members[0].forward(x).float(), dim=1)
        for m in self.members[1:]:
            prob = prob + torch.softmax(m.forward(x).float(), dim=1)
        return torch.log(prob / len(self.members) + 1e-8)


def manifest_path(model: str | None) -> Path | None:
    """The manifest of a shipped ensemble name, or None."""
    if model is None:
        return None
    path = WEIGHTS_DIR / f"{model}.json"
    return path if path.is_file() else None


def load_ensemble(manifest: Path, device: str) -> EnsembleModel:
    """Load every member of an ensemble manifest.

    Raises:
        ValueError: empty member list or members at different pixel sizes.
    """
    spec = json.loads(manifest.read_text())
    members = tuple(load_model(name, device) for name in manifest_members(manifest))
    if not members:
        raise ValueError(f"{manifest.name}: no members")
    if len({m.model_mm for m in members}) != 1:
        raise ValueError(f"{manifest.name}: members use different pixel sizes")
    return EnsembleModel(manifest.stem, members, str(spec.get("version", "1")))
