"""Read a local copy of a catalog dataset into volumes with LungLab label maps.

Example:
    >>> for case in read_local("zenodo-3757476", Path("/data/zenodo")):  # doctest: +SKIP
    ...     print(case.name, case.volume.shape, case.labelmap is not None)
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lunglab.domain.errors import InvalidInput
from lunglab.domain.labels import Label
from lunglab.domain.volume import CTVolume
from lunglab.io.catalog.entries import get_entry
from lunglab.io.dicom.series import read_dicom_series
from lunglab.io.load import folder_files, volume_with_meta
from lunglab.io.nifti import read_labelmap_nifti, read_nifti


@dataclass
class ImportCase:
    """One case read from a local dataset copy: a volume and, if labelled, its label map."""

    name: str
    volume: CTVolume
    labelmap: np.ndarray | None


def _case_key(path: Path) -> str:
    """Match image and mask names of the Zenodo layout (``coronacases_org_001`` ~
    ``coronacases_001``, ``radiopaedia_org_covid-19-pneumonia-4_85506_1-dcm`` ~
    ``radiopaedia_4_85506_1``)."""
    key = path.name.lower().removesuffix(".gz").removesuffix(".nii")
    for noise in ("_org", "-dcm", "covid-19-pneumonia-", "_mask", "_ct", "_seg"):
        key = key.replace(noise, "")
    key = re.sub(r"_im$", "", key)  # MedSeg: tr_im / tr_mask
    return re.sub(r"[^a-z0-9]+", "_", key).strip("_")


def _nifti_files(folder: Path) -> dict[str, Path]:
    return {_case_key(p): p for p in sorted(folder.glob("*.nii*")) if p.is_file()}


def _find_dir(root: Path, *names: str) -> Path | None:
    for name in names:
        hits = [p for p in root.rglob(name) if p.is_dir()]
        if hits:
            return min(hits, key=lambda p: len(p.parts))
    return None


def _read_zenodo(root: Path) -> Iterator[ImportCase]:
    images = _find_dir(root, "COVID-19-CT-Seg_20cases")
    if images is None:
        raise InvalidInput("folder COVID-19-CT-Seg_20cases not found", root.name)
    lungs = _nifti_files(d) if (d := _find_dir(root, "Lung_Mask")) else {}
    infections = _nifti_files(d) if (d := _find_dir(root, "Infection_Mask")) else {}
    for key, path in _nifti_files(images).items():
        vol = read_nifti(path)
        labels: np.ndarray | None = None
        if key in lungs or key in infections:
            labels = np.zeros(vol.shape, np.uint8)
            if key in lungs:
                labels[read_labelmap_nifti(lungs[key], vol.shape, like=vol) > 0] = Label.LUNG
            if key in infections:
                infection = read_labelmap_nifti(infections[key], vol.shape, like=vol) > 0
                labels[infection] = Label.GGO
        yield ImportCase(key, vol, labels)


def _read_pairs(root: Path, mapping: dict[int, int], mask_dirs: tuple[str, ...] = (),
                lung_dirs: tuple[str, ...] = ()) -> Iterator[ImportCase]:
    """Images with ``*_ct``/``*_seg`` pairs, or images with masks in sibling folders."""
    masks: dict[str, Path] = {}
    lungs: dict[str, Path] = {}
    for name in mask_dirs:
        if (d := _find_dir(root, name)) is not None:
            masks.update(_nifti_files(d))
    for name in lung_dirs:
        if (d := _find_dir(root, name)) is not None:
            lungs.update(_nifti_files(d))
    images = []
    for path in sorted(root.rglob("*.nii*")):
        lower = path.name.lower()
        if "_seg." in lower or "_mask." in lower:
            masks.setdefault(_case_key(path), path)
        elif not any(part in mask_dirs + lung_dirs for part in path.parent.parts):
            images.append(path)
    lut = np.zeros(256, np.uint8)
    for source, target in mapping.items():
        lut[source] = target
    for path in images:
        key = _case_key(path)
        vol = read_nifti(path)
        labels = None
        if key in masks or key in lungs:
            labels = np.zeros(vol.shape, np.uint8)
            if key in lungs:
                labels[read_labelmap_nifti(lungs[key], vol.shape, like=vol) > 0] = Label.LUNG
            if key in masks:
                lesion = lut[read_labelmap_nifti(masks[key], vol.shape, like=vol)]
                labels = np.where(lesion > 0, lesion, labels).astype(np.uint8)
        yield ImportCase(key, vol, labels)


def _split_slices(cases: Iterator[ImportCase]) -> Iterator[ImportCase]:
    """MedSeg dataset 1 stacks 100 unrelated slices in one file: yield them one by one."""
    for case in cases:
        if case.name not in ("tr", "val"):
            yield case
            continue
        vol = case.volume
        for k in range(vol.shape[0]):
            one = CTVolume(vol.array[k:k + 1].copy(), vol.spacing, vol.origin, vol.direction,
                           dict(vol.meta))
            lab = None if case.labelmap is None else case.labelmap[k:k + 1].copy()
            yield ImportCase(f"{case.name}_slice{k:03d}", one, lab)


def _read_dicom_folder(root: Path) -> Iterator[ImportCase]:
    series, _ = read_dicom_series(folder_files(root))
    for k, s in enumerate(series):
        yield ImportCase(f"series{k:04d}", volume_with_meta(s), None)


_READERS: dict[str, Callable[[Path], Iterator[ImportCase]]] = {
    "zenodo-3757476": _read_zenodo,
    "medseg-covid19": lambda root: _split_slices(_read_pairs(
        root, {1: Label.GGO, 2: Label.CONSOLIDATION, 3: Label.BACKGROUND},
        mask_dirs=("rp_msk",), lung_dirs=("rp_lung_msk",))),
    "mosmeddata": lambda root: _read_pairs(root, {1: Label.GGO}, mask_dirs=("masks",)),
    "ct-seg-pairs": lambda root: _read_pairs(root, {1: Label.GGO}),
    "dicom-folder": _read_dicom_folder,
}


def read_local(entry_name: str, path: Path) -> Iterator[ImportCase]:
    """Read a local copy of a catalog dataset as volumes with LungLab label maps.

    Args:
        entry_name: the catalog entry (its ``layout`` picks the reader).
        path: the folder holding the extracted dataset.

    Yields:
        One :class:`ImportCase` per case; ``labelmap`` is uint8 ``[z, y, x]`` in LungLab
        values (see the entry's ``label_mapping``) or None for unlabelled cases.

    Raises:
        NotFound: unknown entry.
        InvalidInput: the folder does not have the expected layout or a file is broken.
    """
    entry = get_entry(entry_name)
    if not path.is_dir():
        raise InvalidInput("not a folder", path.name)
    yield from _READERS[entry.layout](path)
