"""The 1,600 pseudo-labelled slices of COVID-SemiSeg as extra training slices (issue 14).

``unlabeled_pseudo/`` holds cropped slices of the 20 volumes of the COVID-19 CT Lung and
Infection Segmentation Dataset (Ma et al.) with Inf-Net's **model-generated** infection maps.
They are turned into LungLab training slices like the expert ones:

- HU per source: the ``radiopaedia_*`` slices use the labelled slices' lung window
  (``HU = v / 255 * 1400 - 1100``); the ``coronacases_*`` slices a wide window, read as
  ``HU = v * 10.34 - 992`` (anchored on the same two tissue peaks: lung parenchyma at v 13 ->
  -858 HU, soft tissue at v 100 -> 42 HU; air then falls at v 0 -> -992 HU).
- Lesion = the pseudo map >= 128 **inside the slice's lung** (the classical lung mask with its
  holes filled, not closed against the crop's edge): Inf-Net's false positives on the chest wall
  and bone drop out (and with them some dense lesion along the pleura). The lung target is
  then built from that lesion as for the expert slices. Lesion components that touch the crop's
  edge are dropped too (chest wall cut by the crop, which the lung mask can hold).
- GGO or consolidation by density: lesion pixels whose HU, smoothed over 1.5 px, is above
  :data:`CONSOLIDATION_HU` are consolidation, the others GGO (the pseudo maps have one class).

Example:
    >>> from lunglab.ml.pseudo_labels import list_pseudo_ids, load_pseudo_slice
    >>> item = load_pseudo_slice(list_pseudo_ids()[0])  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lunglab.domain.labels import Label
from lunglab.imaging.hu import pixels_to_hu
from lunglab.imaging.lungs import lung_mask
from lunglab.ml.dataset import MEDSEG_PIXEL_MM, MEDSEG_SLICE_MM, LabelledSlice, medseg_dir

CORONACASES_HU = (10.34, -992.0)
"""``HU = a * v + b`` of the coronacases slices (estimated; see the module docstring)."""
CONSOLIDATION_HU = -300.0
"""Pseudo lesion pixels denser than this (smoothed) become consolidation."""
MIN_LESION_PX = 150
"""Slices with a smaller pseudo lesion are not listed (Inf-Net's specks)."""


def _root(root: Path | None = None) -> Path:
    return medseg_dir(root) / "unlabeled_pseudo"


def list_pseudo_ids(root: Path | None = None, sources: tuple[str, ...] = ("radiopaedia",
                                                                          "coronacases")
                    ) -> list[str]:
    """Names (file stems) of the pseudo-labelled slices of ``sources`` with a lesion of at least
    :data:`MIN_LESION_PX` pixels, sorted.

    Raises:
        FileNotFoundError: when the shared data folder is absent.
    """
    from PIL import Image

    base = _root(root)
    out = []
    for p in sorted((base / "images").glob("*.jpg")):
        if not any(s in p.name for s in sources):
            continue
        lab = np.asarray(Image.open(base / "pseudo_infection" / f"{p.stem}.png").convert("L"))
        if int((lab >= 128).sum()) >= MIN_LESION_PX:
            out.append(p.stem)
    return out


def source_hu(name: str, pixels: np.ndarray) -> np.ndarray:
    """HU of a pseudo-labelled slice's 8-bit pixels, by its source's window."""
    if "coronacases" in name:
        return (pixels.astype(np.float32) * CORONACASES_HU[0] + CORONACASES_HU[1])
    return pixels_to_hu(pixels)


def classes_by_density(hu: np.ndarray, lesion: np.ndarray) -> np.ndarray:
    """uint8 labels ``[y, x]``: 0, :data:`Label.GGO` or :data:`Label.CONSOLIDATION` by the
    smoothed HU of each lesion pixel."""
    from scipy.ndimage import gaussian_filter

    dense = gaussian_filter(hu.astype(np.float32), 1.5) > CONSOLIDATION_HU
    out = np.zeros(lesion.shape, np.uint8)
    out[lesion & ~dense] = Label.GGO
    out[lesion & dense] = Label.CONSOLIDATION
    return out


def load_pseudo_slice(name: str, root: Path | None = None) -> LabelledSlice:
    """One pseudo-labelled slice as HU and LungLab lesion labels (0, 2, 3).

    Raises:
        ValueError: when image and pseudo map differ in size.
    """
    from PIL import Image
    from scipy.ndimage import binary_fill_holes, label

    base = _root(root)
    pixels = np.asarray(Image.open(base / "images" / f"{name}.jpg").convert("L"))
    pseudo = np.asarray(Image.open(base / "pseudo_infection" / f"{name}.png").convert("L")) >= 128
    if pseudo.shape != pixels.shape:
        raise ValueError(f"{name}: image {pixels.shape} and pseudo map {pseudo.shape} differ")
    hu = source_hu(name, pixels)
    lung = binary_fill_holes(lung_mask(hu[None], (MEDSEG_PIXEL_MM, MEDSEG_PIXEL_MM,
                                                  MEDSEG_SLICE_MM))[0])
    lesion = pseudo & lung
    comp, _ = label(lesion)
    edge = np.unique(np.concatenate([comp[0], comp[-1], comp[:, 0], comp[:, -1]]))
    lesion &= ~np.isin(comp, edge[edge > 0])
    return LabelledSlice(name, hu, classes_by_density(hu, lesion))
