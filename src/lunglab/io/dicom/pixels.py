"""Decode the pixels of one CT slice into Hounsfield units, once, straight into the volume."""
from __future__ import annotations

import numpy as np
from pydicom.pixels import pixel_array
from pydicom.uid import UID

from lunglab.domain.errors import InvalidInput
from lunglab.io.dicom.header import SliceHeader

_NATIVE_LE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}
_INT16_MIN, _INT16_MAX = -32768, 32767


def _stored_values(h: SliceHeader) -> np.ndarray:
    """Return the stored pixel values of one slice as a 2-D array ``(rows, cols)``."""
    ds = h.dataset
    bits_alloc = int(ds.get("BitsAllocated", 16))
    bits_stored = int(ds.get("BitsStored", bits_alloc))
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    spp = int(ds.get("SamplesPerPixel", 1))
    if spp != 1:
        raise InvalidInput(f"{spp} samples per pixel: not a grayscale CT image", h.name)
    tsyntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    frame = h.frame_index or 0
    try:
        if tsyntax in _NATIVE_LE and bits_alloc in (8, 16, 32):
            raw = ds.PixelData
            dtype = np.dtype(f"<{'i' if signed else 'u'}{bits_alloc // 8}")
            size = h.rows * h.cols * dtype.itemsize
            need = size * (frame + 1)
            if len(raw) < need:
                raise InvalidInput(
                    f"truncated pixel data ({len(raw)} of {need} bytes)", h.name)
            arr = np.frombuffer(raw, dtype=dtype, count=h.rows * h.cols, offset=size * frame)
            arr = arr.reshape(h.rows, h.cols)
            if bits_stored < bits_alloc:
                arr = _mask_unused_bits(arr, bits_stored, signed)
            return arr
        if tsyntax and not UID(tsyntax).is_transfer_syntax:
            raise InvalidInput(f"unknown transfer syntax {tsyntax}", h.name)
        # compressed or big endian: pydicom decodes it (only this frame of a multi-frame)
        arr = pixel_array(ds, index=h.frame_index)
    except InvalidInput:
        raise
    except Exception as exc:  # decoders raise many kinds on bad data
        raise InvalidInput(
            f"cannot decode pixel data ({type(exc).__name__}: {str(exc)[:120]}); "
            "the file may be truncated or use an unsupported compression", h.name) from None
    if arr.shape != (h.rows, h.cols):
        raise InvalidInput(f"pixel data shape {arr.shape} != ({h.rows}, {h.cols})", h.name)
    return arr


def _mask_unused_bits(arr: np.ndarray, bits_stored: int, signed: bool) -> np.ndarray:
    """Drop bits above BitsStored (overlay bits in old files) and sign-extend signed data."""
    bits = arr.dtype.itemsize * 8
    if signed:
        shift = bits - bits_stored
        return (arr << shift) >> shift
    mask = np.array((1 << bits_stored) - 1, dtype=arr.dtype)
    if int(arr.max(initial=0)) <= int(mask):
        return arr
    return arr & mask


def fill_hu(h: SliceHeader, out: np.ndarray) -> None:
    """Decode one slice and write its HU values (int16, clipped) into ``out``.

    Args:
        h: the slice header (its deferred pixel data is read now).
        out: a 2-D int16 view of the volume, shape ``(rows, cols)``.

    Raises:
        InvalidInput: truncated or undecodable pixel data.
    """
    stored = _stored_values(h)
    slope, intercept = h.slope, h.intercept
    if slope == 1.0 and intercept == int(intercept) and stored.dtype.itemsize <= 2:
        hu = stored.astype(np.int32)
        hu += int(intercept)
    else:
        hu = np.rint(stored.astype(np.float64) * slope + intercept)
    np.clip(hu, _INT16_MIN, _INT16_MAX, out=hu)
    out[...] = hu
