"""Training cases streamed from disk: where a case lives, an LRU cache of its preprocessed
slices, and the seeded order in which an epoch draws them (no database, no server).

A case's files are found through any object with ``local_path(key) -> Path`` (the
``VolumeStore`` of :mod:`lunglab.io.store` is one).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from lunglab.domain.errors import InvalidInput
from lunglab.imaging.hu import hu_window
from lunglab.imaging.resample import inplane_shape, resize_slices


class CaseFiles(Protocol):
    """Where a case's stored files are on local disk."""

    def local_path(self, key: str) -> Path: ...


@dataclass(frozen=True)
class CaseRef:
    """Where one training case lives: the study volume, its label map, and its lung slices."""

    study_id: int
    version_id: int
    volume_key: str
    labels_key: str
    spacing: tuple[float, float, float]  # x, y, z
    slices: tuple[int, ...]  # z indices with lung
    modality: str = "ct"  # "xr": a chest radiograph (one slice, no HU; lunglab.ml.radiograph)


class CaseCache:
    """Least-recently-used cache of preprocessed cases (windowed, resampled lung slices).

    At most ``max_cases`` cases are held; the rest are read again from the store on demand.

    Args:
        store: the volume store (anything with ``local_path``).
        model_mm: in-plane pixel size of the network (CT).
        max_cases: cases kept in memory.
        xr_grid: square size radiographs are resized to (they have no HU and may have no
            pixel size: :func:`lunglab.ml.radiograph.prepare_radiograph`).
    """

    def __init__(self, store: CaseFiles, model_mm: float, max_cases: int = 3,
                 xr_grid: int = 256) -> None:
        self.store, self.model_mm, self.max_cases = store, model_mm, max(1, max_cases)
        self.xr_grid = xr_grid
        self._cases: OrderedDict[int, tuple[dict[int, int], np.ndarray, np.ndarray]] = OrderedDict()
        self.loads = 0

    def _load(self, ref: CaseRef) -> tuple[dict[int, int], np.ndarray, np.ndarray]:
        import SimpleITK as sitk

        zs = list(ref.slices)
        hu = sitk.GetArrayFromImage(sitk.ReadImage(str(self.store.local_path(ref.volume_key))))
        lab = sitk.GetArrayFromImage(sitk.ReadImage(str(self.store.local_path(ref.labels_key))))
        if ref.modality == "xr":
            from lunglab.ml.radiograph import prepare_radiograph

            grid = (self.xr_grid, self.xr_grid)
            image = np.stack([prepare_radiograph(hu[z], self.xr_grid) for z in zs])
            label = resize_slices(lab[zs].astype(np.uint8), grid, labels=True)
            self.loads += 1
            return {z: i for i, z in enumerate(zs)}, image.astype(np.float16), label
        shape = inplane_shape(hu.shape[1:], (ref.spacing[1], ref.spacing[0]), self.model_mm)
        image = resize_slices(hu_window(hu[zs].astype(np.float32)), shape).astype(np.float16)
        label = resize_slices(lab[zs].astype(np.uint8), shape, labels=True)
        del hu, lab
        self.loads += 1
        return {z: i for i, z in enumerate(zs)}, image, label

    def get(self, ref: CaseRef, z: int) -> dict[str, np.ndarray]:
        """``{"image": float32 [1, y, x] in [0, 1], "label": uint8 [1, y, x]}`` of one slice."""
        if ref.study_id in self._cases:
            self._cases.move_to_end(ref.study_id)
        else:
            self._cases[ref.study_id] = self._load(ref)
            while len(self._cases) > self.max_cases:
                self._cases.popitem(last=False)
        index, image, label = self._cases[ref.study_id]
        i = index[z]
        return {"image": image[i][None].astype(np.float32), "label": label[i][None].copy()}

    @property
    def held(self) -> int:
        """Cases currently in memory."""
        return len(self._cases)


def epoch_order(refs: list[CaseRef], n_slices: int, seed: int, epoch: int,
                repeat: bool = False) -> list[tuple[int, int]]:
    """Deterministic ``(case index, z)`` draws for one epoch, grouped by case for the cache.

    Cases come in a seeded random order; within a case, slices are shuffled. With
    ``n_slices`` below the total, a seeded subset is drawn (without replacement). With
    ``repeat`` (radiographs: one slice per case), a total below ``n_slices`` is repeated until
    the epoch has ``n_slices`` draws, each seen again under other augmentations.
    """
    rng = np.random.default_rng([seed, epoch])
    pool = [(ci, z) for ci, r in enumerate(refs) for z in r.slices]
    if not pool:
        raise InvalidInput("the approved label maps contain no lung voxels")
    if repeat and n_slices > len(pool):
        pool = (pool * -(-n_slices // len(pool)))[:n_slices]
    take = pool if n_slices >= len(pool) else [pool[i] for i in
                                               rng.choice(len(pool), n_slices, replace=False)]
    rank = {int(c): k for k, c in enumerate(rng.permutation(len(refs)))}
    jitter = rng.random(len(take))
    order = sorted(range(len(take)), key=lambda k: (rank[take[k][0]], jitter[k]))
    return [take[k] for k in order]


def val_slices(refs: list[CaseRef], per_case: int) -> list[tuple[int, int]]:
    """Evenly spaced lung slices of each validation case (deterministic)."""
    out: list[tuple[int, int]] = []
    for ci, r in enumerate(refs):
        if not r.slices:
            continue
        idx = np.unique(np.linspace(0, len(r.slices) - 1, min(per_case, len(r.slices)))
                        .round().astype(int))
        out.extend((ci, r.slices[i]) for i in idx)
    return out
