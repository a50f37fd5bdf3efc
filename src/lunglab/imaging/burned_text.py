"""Find burned-in text on a radiograph without OCR, and black it out.

Text and side markers burned into radiographs ("AP PORTATIL", "L", a date) are small, bright,
high-contrast marks near the image borders, lying side by side on a line. The detector looks
for exactly that:

1. work on a copy scaled to about 1024 pixels on its long side, intensities scaled to 0-1
   between the 1st and the 99.9th percentile;
2. a white top-hat (scikit-image) keeps bright structures narrower than a glyph's box and
   drops bone, soft tissue and the mediastinum;
3. connected components (scipy.ndimage) that are bright, contrast strongly with their
   surroundings and have a glyph's size and fill are kept when they lie in the border band
   (the outer :data:`BORDER_FRACTION` of the width or height);
4. glyphs closer than a glyph's height are merged into one text region (a word or a line).

It flags candidates for a person to review; it never reads the text. Regions are returned in
the full image's pixel coordinates.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

WORK_SIZE = 1024
BORDER_FRACTION = 0.22
MIN_GLYPH, MAX_GLYPH = 0.008, 0.09  # glyph height as a fraction of the long side


@dataclass(frozen=True)
class TextRegion:
    """A rectangle ``[y0, y1) x [x0, x1)`` with likely burned-in text, and its glyph count."""

    y0: int
    x0: int
    y1: int
    x1: int
    glyphs: int

    def as_list(self) -> list[int]:
        return [self.y0, self.x0, self.y1, self.x1]


def _normalised(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image, dtype=np.float32)
    lo, hi = np.percentile(img, (1.0, 99.9))
    if hi <= lo:
        hi = lo + 1.0
    return np.clip((img - lo) / (hi - lo), 0.0, 1.0)


def _shrunk(img: np.ndarray) -> tuple[np.ndarray, float]:
    scale = min(1.0, WORK_SIZE / max(img.shape))
    if scale >= 1.0:
        return img, 1.0
    from skimage.transform import resize

    shape = (max(1, round(img.shape[0] * scale)), max(1, round(img.shape[1] * scale)))
    return resize(img, shape, order=1, anti_aliasing=True, preserve_range=True), scale


def detect_text_regions(image: np.ndarray) -> list[TextRegion]:
    """Likely burned-in text regions of a 2D radiograph (display orientation, bright = dense).

    Args:
        image: 2D array ``(rows, columns)``, any numeric type; higher values are brighter.

    Returns:
        Regions in the input's pixel coordinates, largest first; empty when none is found.
    """
    if image.ndim != 2 or min(image.shape) < 16:
        return []
    small, scale = _shrunk(_normalised(image))
    ny, nx = small.shape
    side = max(ny, nx)
    # burned-in text is drawn at (or near) full white, usually with a dark outline or on a
    # dark background: bright pixels with a much darker pixel within a stroke's width
    near = max(3, int(0.004 * side) | 1)
    bright = (small >= 0.8) & (ndimage.minimum_filter(small, size=near) < small - 0.25)
    bright = ndimage.binary_closing(bright, structure=np.ones((3, 3), bool))
    lab, n = ndimage.label(bright)
    if n == 0:
        return []
    areas = ndimage.sum_labels(bright, lab, index=np.arange(1, n + 1))
    lo_h, hi_h = MIN_GLYPH * side, MAX_GLYPH * side
    border_y, border_x = BORDER_FRACTION * ny, BORDER_FRACTION * nx
    keep = np.zeros(n + 1, bool)
    heights = np.zeros(n + 1)
    for i, box in enumerate(ndimage.find_objects(lab), start=1):
        if box is None:
            continue
        h, w = box[0].stop - box[0].start, box[1].stop - box[1].start
        if not (lo_h <= h <= hi_h and w <= 8 * h):
            continue
        if not 0.1 <= areas[i - 1] / float(h * w) <= 0.85:
            continue
        cy, cx = (box[0].start + box[0].stop) / 2, (box[1].start + box[1].stop) / 2
        if cy < border_y or cy > ny - border_y or cx < border_x or cx > nx - border_x:
            keep[i], heights[i] = True, h
    if not keep.any():
        return []
    glyphs = keep[lab]
    # the glyphs of one word or line: joined across gaps of about a glyph's height
    gap = max(2, int(0.015 * side))
    joined = ndimage.binary_dilation(glyphs, structure=np.ones((max(1, gap // 2), 2 * gap),
                                                                 bool))
    words, _ = ndimage.label(joined)
    regions = []
    for j, box in enumerate(ndimage.find_objects(words), start=1):
        if box is None:
            continue
        members = np.unique(lab[box][(words[box] == j) & glyphs[box]])
        if members.size < 2 and not _marker_like(small, lab, int(members[0]) if members.size
                                                  else 0):
            continue
        ys, xs = np.nonzero((words[box] == j) & glyphs[box])
        pad = max(2, int(0.004 * side))
        y0, y1 = box[0].start + ys.min() - pad, box[0].start + ys.max() + 1 + pad
        x0, x1 = box[1].start + xs.min() - pad, box[1].start + xs.max() + 1 + pad
        regions.append(TextRegion(max(0, int(y0 / scale)), max(0, int(x0 / scale)),
                                  min(image.shape[0], int(np.ceil(y1 / scale))),
                                  min(image.shape[1], int(np.ceil(x1 / scale))),
                                  int(members.size)))
    regions.sort(key=lambda r: (r.y1 - r.y0) * (r.x1 - r.x0), reverse=True)
    return regions


def _marker_like(small: np.ndarray, lab: np.ndarray, index: int) -> bool:
    """A lone glyph counts only as a side marker: roughly square and drawn at full white."""
    if index == 0:
        return False
    box = ndimage.find_objects((lab == index).astype(np.int32))[0]
    h, w = box[0].stop - box[0].start, box[1].stop - box[1].start
    return 0.6 <= w / h <= 1.4 and float(small[box][lab[box] == index].mean()) >= 0.97


def black_out(image: np.ndarray, regions: list[TextRegion], value: float | None = None
              ) -> np.ndarray:
    """A copy of ``image`` with every region filled with ``value`` (default: its minimum)."""
    out = np.array(image, copy=True)
    fill = out.min() if value is None else value
    for r in regions:
        out[r.y0:r.y1, r.x0:r.x1] = fill
    return out
