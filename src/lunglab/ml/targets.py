"""Training targets: expert lesions plus a lung label taught by the classical lung mask."""
from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from lunglab.domain.labels import Label
from lunglab.imaging.hu import hu_window
from lunglab.imaging.lungs import lung_mask
from lunglab.imaging.resample import inplane_shape, resize_slices
from lunglab.ml.dataset import MEDSEG_PIXEL_MM, MEDSEG_SLICE_MM, LabelledSlice


def lung_target(hu: np.ndarray, lesions: np.ndarray,
                pixel_mm: float = MEDSEG_PIXEL_MM) -> np.ndarray:
    """Lung mask of one slice: teacher mask joined with the expert lesions, closed and filled.

    Args:
        hu: HU slice ``[y, x]``.
        lesions: boolean expert lesion mask ``[y, x]``.
        pixel_mm: pixel size.

    Returns:
        Boolean lung mask (labels 1..3) ``[y, x]``.
    """
    teacher = lung_mask(hu[None], (pixel_mm, pixel_mm, MEDSEG_SLICE_MM))[0]
    lung = teacher | lesions
    r = max(1, round(4.0 / pixel_mm))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disk = yy**2 + xx**2 <= r * r
    padded = np.pad(lung, r + 1, mode="edge")
    closed = ndi.binary_closing(padded, structure=disk)[r + 1:-r - 1, r + 1:-r - 1]
    return ndi.binary_fill_holes(closed | lung)


def training_pair(item: LabelledSlice, model_mm: float) -> dict[str, np.ndarray]:
    """Network input and 4-class target of one slice at the model's pixel size.

    Returns:
        ``{"image": float32 [1, y, x] in [0, 1], "label": uint8 [1, y, x] in 0..3}``.
    """
    lesions = item.labels >= Label.GGO
    target = np.where(lung_target(item.hu, lesions), Label.LUNG, Label.BACKGROUND).astype(np.uint8)
    target[lesions] = item.labels[lesions]
    shape = inplane_shape(item.hu.shape, (MEDSEG_PIXEL_MM, MEDSEG_PIXEL_MM), model_mm)
    image = resize_slices(hu_window(item.hu)[None], shape)
    label = resize_slices(target[None], shape, labels=True)
    return {"image": image.astype(np.float32), "label": label.astype(np.uint8)}
