"""Radiograph pixels for display: Modality LUT, VOI LUT or window, MONOCHROME1 inversion.

:func:`dicom_display_pixels` returns what a reader should see, brighter = denser, as int16 with
a default window:

- the Modality LUT (rescale or LUT sequence) is applied first (pydicom ``apply_modality_lut``);
- a VOI LUT Sequence (a non-linear LUT) or a SIGMOID VOI LUT Function is applied at ingest
  (pydicom ``apply_voi_lut``) and the window covers its output; a linear window (Window
  Center/Width) is kept as the default window over the modality values, so a reader can
  still re-window;
- MONOCHROME1 (minimum is white) is inverted, ``lo + hi - value``, and the window centre with
  it;
- values are fitted into int16 when they do not fit (16-bit unsigned detectors).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from lunglab.domain.errors import InvalidInput

_I16_MAX = 32767


@dataclass
class DisplayPixels:
    """A radiograph ready to store and show: int16 ``(rows, cols)`` and a default window."""

    array: np.ndarray
    window: tuple[float, float]  # centre, width
    notes: list[str] = field(default_factory=list)


def _first(value: object) -> float | None:
    try:
        if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
            value = next(iter(value))  # type: ignore[call-overload]  # multi-valued: the first
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, StopIteration):
        return None


def full_window(arr: np.ndarray) -> tuple[float, float]:
    """A window over the 0.5-99.5th percentiles (robust to a few hot pixels)."""
    lo, hi = (float(v) for v in np.percentile(arr, (0.5, 99.5)))
    if hi <= lo:
        lo, hi = float(arr.min()), float(arr.max()) + 1.0
    return (lo + hi) / 2.0, hi - lo


def dicom_display_pixels(ds: Dataset, name: str) -> DisplayPixels:
    """Decode a CR/DX image (pixel data loaded) into :class:`DisplayPixels`.

    Raises:
        InvalidInput: colour or multi-frame images, undecodable pixel data.
    """
    if int(ds.get("SamplesPerPixel", 1)) != 1:
        raise InvalidInput("colour radiograph: only grayscale (MONOCHROME1/2) is read", name)
    if int(ds.get("NumberOfFrames", 1) or 1) != 1:
        raise InvalidInput("multi-frame radiograph: only single images are read", name)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    try:
        stored = ds.pixel_array
    except Exception as exc:  # decoders raise many kinds on bad data
        raise InvalidInput(f"cannot decode pixel data ({type(exc).__name__})", name) from None
    values = np.asarray(apply_modality_lut(stored, ds), dtype=np.float64)
    notes: list[str] = []
    nonlinear = "VOILUTSequence" in ds or str(ds.get("VOILUTFunction", "")).upper() == "SIGMOID"
    center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    if nonlinear:
        lut_input = values.astype(np.int64) if np.all(values == np.rint(values)) else values
        values = np.asarray(apply_voi_lut(lut_input, ds, index=0), dtype=np.float64)
        window = full_window(values)
        notes.append("VOI LUT applied at import")
    elif center is not None and width is not None and width > 0:
        window = (center, width)
    else:
        window = full_window(values)
    if photometric == "MONOCHROME1":
        lo, hi = float(values.min()), float(values.max())
        values = lo + hi - values
        window = (lo + hi - window[0], window[1])
        notes.append("MONOCHROME1 inverted for display")
    return _as_int16(values, window, notes)


def _as_int16(values: np.ndarray, window: tuple[float, float], notes: list[str]
              ) -> DisplayPixels:
    lo, hi = float(values.min()), float(values.max())
    if lo >= -32768 and hi <= _I16_MAX:
        return DisplayPixels(np.rint(values).astype(np.int16), window, notes)
    scale = _I16_MAX / max(hi - lo, 1.0)
    out = np.rint((values - lo) * scale).astype(np.int16)
    notes.append("pixel values rescaled to fit 16 bits")
    return DisplayPixels(out, ((window[0] - lo) * scale, window[1] * scale), notes)


def picture_display_pixels(img: object, name: str) -> DisplayPixels:
    """A PIL image (PNG/JPEG) as grayscale :class:`DisplayPixels`; colour is averaged."""
    from PIL import Image

    assert isinstance(img, Image.Image)
    notes: list[str] = []
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
    else:
        rgb = np.asarray(img.convert("RGB"), dtype=np.int16)
        if int(np.abs(rgb - rgb[..., :1]).max(initial=0)) > 8:
            notes.append("colour picture converted to grayscale")
        arr = np.asarray(img.convert("L"), dtype=np.float64)
    if arr.ndim != 2:
        raise InvalidInput("not a 2D picture", name)
    return _as_int16(arr, full_window(arr), notes)
