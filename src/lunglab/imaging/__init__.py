"""Array maths for chest CT: HU windowing, resampling, lung mask, metrics, volumes.

No server, database or file I/O here.
"""
from __future__ import annotations

from lunglab.imaging.hu import hu_to_pixels, hu_window, pixels_to_hu
from lunglab.imaging.lungs import lung_mask
from lunglab.imaging.metrics import dice, lesion_inside_lung, slice_scores
from lunglab.imaging.resample import resize_slices
from lunglab.imaging.volumes import summarize

__all__ = [
    "dice",
    "hu_to_pixels",
    "hu_window",
    "lesion_inside_lung",
    "lung_mask",
    "pixels_to_hu",
    "resize_slices",
    "slice_scores",
    "summarize",
]
