"""The labelled MedSeg slices (COVID-SemiSeg training part) as HU arrays and LungLab labels.

Data: ``<shared>/data/covid-semiseg-medseg`` (non-commercial use only; see its README).
Pixels become HU with ``HU = v / 255 * 1400 - 1100``; the slices are read as 0.75 mm pixels.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lunglab.domain.labels import Label
from lunglab.imaging.hu import pixels_to_hu

MEDSEG_PIXEL_MM = 0.75
"""Pixel size the MedSeg slices are read at (as in the blind test)."""
MEDSEG_SLICE_MM = 5.0


@dataclass(frozen=True)
class LabelledSlice:
    """One labelled slice.

    Args:
        case_id: the MedSeg id (file stem).
        hu: float32 HU ``[y, x]``.
        labels: uint8 LungLab lesion labels ``[y, x]``: 0 (not lesion), 2 GGO, 3 consolidation.
    """

    case_id: str
    hu: np.ndarray
    labels: np.ndarray


def shared_dir() -> Path | None:
    """The shared data folder: ``$LUNGLAB_SHARED_DIR`` or ``<repo>/../shared``; None if absent."""
    env = os.environ.get("LUNGLAB_SHARED_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3].parent / "shared")
    for c in candidates:
        if (c / "data").is_dir():
            return c
    return None


def medseg_dir(root: Path | None = None) -> Path:
    """Folder of the labelled MedSeg slices.

    Raises:
        FileNotFoundError: when the shared data folder is absent.
    """
    base = root if root is not None else shared_dir()
    if base is None:
        raise FileNotFoundError("shared data not found; set LUNGLAB_SHARED_DIR")
    path = base / "data" / "covid-semiseg-medseg" if (base / "data").is_dir() else base
    if not (path / "images").is_dir():
        raise FileNotFoundError(f"no MedSeg images under {path}")
    return path


def list_ids(root: Path | None = None) -> list[str]:
    """Ids of the labelled slices, in ``splits.csv`` order."""
    path = medseg_dir(root)
    with open(path / "splits.csv", newline="") as fh:
        return [row["id"] for row in csv.DictReader(fh)]


def load_slice(case_id: str, root: Path | None = None) -> LabelledSlice:
    """Read one labelled slice as HU and LungLab labels."""
    from PIL import Image

    path = medseg_dir(root)
    pixels = np.asarray(Image.open(path / "images" / f"{case_id}.jpg").convert("L"))
    classes = np.asarray(Image.open(path / "lesion_classes" / f"{case_id}.png"))
    if classes.shape != pixels.shape:
        raise ValueError(f"{case_id}: image {pixels.shape} and labels {classes.shape} differ")
    labels = np.zeros(classes.shape, np.uint8)
    labels[classes == 1] = Label.GGO
    labels[classes == 2] = Label.CONSOLIDATION
    return LabelledSlice(case_id, pixels_to_hu(pixels), labels)


def load_all(root: Path | None = None) -> list[LabelledSlice]:
    """All labelled slices."""
    return [load_slice(i, root) for i in list_ids(root)]


def split_ids(ids: list[str], val_fraction: float = 0.2,
              seed: int = 0) -> tuple[list[str], list[str]]:
    """Deterministic train/validation split of ``ids``.

    Returns:
        ``(train_ids, val_ids)``.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ids))
    n_val = max(1, round(len(ids) * val_fraction))
    val = sorted((ids[i] for i in order[:n_val]), key=int)
    train = sorted((ids[i] for i in order[n_val:]), key=int)
    return train, val
