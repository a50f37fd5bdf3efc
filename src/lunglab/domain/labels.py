"""The one label map of a study: 0 background, 1 lung (not lesion), 2 GGO, 3 consolidation."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Label(IntEnum):
    """Voxel values of a LungLab label map. Lung is every label from 1 to 3."""

    BACKGROUND = 0
    LUNG = 1
    GGO = 2
    CONSOLIDATION = 3


@dataclass(frozen=True)
class LabelSpec:
    """One entry of a project's label schema."""

    value: int
    name: str
    color: str  # "#rrggbb"


DEFAULT_LABEL_SCHEMA: tuple[LabelSpec, ...] = (
    LabelSpec(1, "lung without lesion", "#3c8dde"),  # lung is labels 1-3
    LabelSpec(2, "ground-glass opacity", "#f2c12e"),
    LabelSpec(3, "consolidation", "#e0403a"),
)

MAX_LABEL = int(Label.CONSOLIDATION)

FOREGROUND: tuple[int, ...] = (int(Label.LUNG), int(Label.GGO), int(Label.CONSOLIDATION))
"""The voxel values of the lung, each on its own (lung is all of them together)."""

LABEL_KEYS: dict[int, str] = {int(Label.LUNG): "lung", int(Label.GGO): "ggo",
                              int(Label.CONSOLIDATION): "consolidation"}
"""Key of each value in per-label figures (Dice, volume errors): one voxel value each, so
``"lung"`` there is label 1 alone, the lung without lesion."""

SHORT_NAMES: dict[int, str] = {int(Label.LUNG): "lung", int(Label.GGO): "GGO",
                               int(Label.CONSOLIDATION): "consolidation"}
"""Short names of the values for legends and exported label tables (label 1 is the lung
without lesion; :data:`DEFAULT_LABEL_SCHEMA` has the full names)."""
