"""Chest radiographs in LungLab: which studies are radiographs, and a reader's findings.

A radiograph is a study with one 2D "slice": ``shape`` is ``(1, rows, columns)`` and its label
map uses the CT values (1 lung, 2 GGO-like hazy opacity, 3 consolidation), so versions,
assignments, review and audit work unchanged. What a radiograph adds is a small per-reader
form (:class:`RadiographFindings`): the RSNA consensus category for COVID-19 and a severity
score, Brixia (6 zones, 0-3 each, 0-18) and/or RALE (each lung 0-4, 0-8).

No I/O here.
"""
from __future__ import annotations

from dataclasses import dataclass

from lunglab.domain.errors import InvalidInput

RADIOGRAPH_MODALITIES = frozenset({"CR", "DX", "XR"})
"""DICOM CR and DX, and ``XR``: LungLab's modality for a radiograph read from a PNG/JPEG
picture, where the acquisition (CR or DX) is unknown."""
PICTURE_MODALITY = "XR"

CATEGORIES = ("normal", "typical", "indeterminate", "atypical")
"""RSNA consensus categories for COVID-19 on chest imaging (Simpson et al., Radiology:
Cardiothoracic Imaging 2020): negative for pneumonia, typical, indeterminate and atypical
appearance. Order matters: it is the ordinal order used by the agreement statistics."""
CATEGORY_NAMES = {"normal": "Negative for pneumonia", "typical": "Typical appearance",
                  "indeterminate": "Indeterminate appearance",
                  "atypical": "Atypical appearance"}
BRIXIA_ZONES = ("A", "B", "C", "D", "E", "F")
"""Brixia zones: A-C the right lung (upper, middle, lower), D-F the left; 0-3 each."""
RALE_SIDES = ("right", "left")
"""RALE: the extent of consolidation/opacity per lung, 0-4 each (0, <25 %, 25-50 %, 50-75 %,
>75 %)."""


def is_radiograph(modality: str | None) -> bool:
    """Whether a study of this modality is a radiograph (2D) rather than a CT volume."""
    return (modality or "").upper() in RADIOGRAPH_MODALITIES


@dataclass(frozen=True)
class RadiographFindings:
    """One reader's study-level findings on a radiograph.

    Attributes:
        category: one of :data:`CATEGORIES`.
        brixia: six zone scores (0-3) in :data:`BRIXIA_ZONES` order, or None when not scored.
        rale: two lung scores (0-4), right then left, or None when not scored.
        note: free text of the reader.
    """

    category: str
    brixia: tuple[int, ...] | None = None
    rale: tuple[int, ...] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise InvalidInput(f"category must be one of {', '.join(CATEGORIES)}")
        _check_scores("brixia", self.brixia, len(BRIXIA_ZONES), 3)
        _check_scores("rale", self.rale, len(RALE_SIDES), 4)
        if len(self.note) > 2000:
            raise InvalidInput("note is longer than 2000 characters")

    @property
    def brixia_total(self) -> int | None:
        """The Brixia score, 0-18."""
        return sum(self.brixia) if self.brixia is not None else None

    @property
    def rale_total(self) -> int | None:
        """The RALE score, 0-8."""
        return sum(self.rale) if self.rale is not None else None


def _check_scores(name: str, values: tuple[int, ...] | None, n: int, top: int) -> None:
    if values is None:
        return
    if len(values) != n or any(not isinstance(v, int) or not 0 <= v <= top for v in values):
        raise InvalidInput(f"{name} needs {n} whole numbers from 0 to {top}")
