"""Hounsfield-unit windowing and the 8-bit to HU mapping of the MedSeg slices."""
from __future__ import annotations

import numpy as np

MEDSEG_HU_LOW = -1100.0
"""HU of pixel value 0 in the MedSeg 8-bit slices."""
MEDSEG_HU_WIDTH = 1400.0
"""Window width of the MedSeg 8-bit slices: HU = v / 255 * 1400 - 1100."""
MODEL_WINDOW: tuple[float, float] = (-1100.0, 300.0)
"""The HU window the lesion models see (the MedSeg window, so real CT looks like training)."""


def pixels_to_hu(pixels: np.ndarray) -> np.ndarray:
    """Map 8-bit MedSeg pixel values to HU with ``HU = v / 255 * 1400 - 1100``.

    Args:
        pixels: array of values 0..255 (any integer or float dtype).

    Returns:
        float32 HU array of the same shape.
    """
    return (pixels.astype(np.float32) / 255.0 * MEDSEG_HU_WIDTH + MEDSEG_HU_LOW).astype(np.float32)


def hu_to_pixels(hu: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pixels_to_hu`, rounded and clipped to uint8."""
    v = (np.asarray(hu, dtype=np.float32) - MEDSEG_HU_LOW) / MEDSEG_HU_WIDTH * 255.0
    return np.clip(np.rint(v), 0, 255).astype(np.uint8)


def hu_window(hu: np.ndarray, low: float = MODEL_WINDOW[0],
              high: float = MODEL_WINDOW[1]) -> np.ndarray:
    """Clip HU to ``[low, high]`` and scale to ``[0, 1]`` (float32).

    Args:
        hu: HU values, any shape.
        low: HU mapped to 0.
        high: HU mapped to 1.

    Returns:
        float32 array in ``[0, 1]``.

    Raises:
        ValueError: if ``high <= low``.

    Example:
        >>> hu_window(np.array([-2000, -400, 1000])).round(2).tolist()
        [0.0, 0.5, 1.0]
    """
    if high <= low:
        raise ValueError(f"window high ({high}) must exceed low ({low})")
    out = (np.asarray(hu, dtype=np.float32) - low) / float(high - low)
    return np.clip(out, 0.0, 1.0, out=out)
