"""Read the header of one DICOM file into a :class:`SliceHeader` (pixels stay on disk).

The pixel data element is deferred (``defer_size``), so each file is parsed once for its header
and its pixel bytes are read once, later, by :mod:`lunglab.io.dicom.pixels`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom
import pydicom.config
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from lunglab.domain.errors import InvalidInput

# Some scanners write private elements with a length that does not match their VR (the real
# test series has one in (01F1,1026)). Reading them as UN keeps the rest of the file usable.
pydicom.config.convert_wrong_length_to_UN = True
# pydicom's validation warnings quote the offending value, which may be a patient's name or
# a UID: uploaded headers must never reach the log, so reading does not validate values.
pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE

#: SOP classes of single-frame CT images that LungLab reads.
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
#: Multi-frame CT SOP classes, read frame by frame (see :mod:`lunglab.io.dicom.multiframe`).
MULTIFRAME_CT_STORAGE = {
    "1.2.840.10008.5.1.4.1.1.2.1": "Enhanced CT Image Storage",
    "1.2.840.10008.5.1.4.1.1.2.2": "Legacy Converted Enhanced CT Image Storage",
}
DICOMDIR_STORAGE = "1.2.840.10008.1.3.10"
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"

_DEFER = 16 * 1024


@dataclass
class SliceHeader:
    """What the series builder needs from one DICOM file, read from its header only.

    ``dataset`` holds the full header (pixel data deferred); it is used for the de-identified
    technical attributes and the pseudonyms and must never leave :mod:`lunglab.io`.
    """

    name: str
    path: Path
    dataset: Dataset
    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class: str
    modality: str
    rows: int
    cols: int
    frames: int
    iop: tuple[float, ...] | None
    ipp: tuple[float, float, float] | None
    pixel_spacing: tuple[float, float] | None
    slice_thickness: float | None
    spacing_between: float | None
    slope: float
    intercept: float
    frame_index: int | None = None  # set for one frame of a multi-frame object
    source: str | None = None  # for a frame: the file's display name (``name`` labels the frame)
    localizer: bool = False


def parse_floats(value: Any, n: int) -> tuple[float, ...] | None:
    """Return ``n`` floats from a multi-valued DS element, or None when absent or malformed."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        value = [value]
    try:
        items = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    if len(items) != n or not all(math.isfinite(v) for v in items):
        return None
    return tuple(items)


def parse_float(value: Any) -> float | None:
    """Return a finite float from a DS/IS value, or None when absent or malformed."""
    try:
        out = float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return out if out is None or math.isfinite(out) else None


def _get(ds: Dataset, keyword: str) -> Any:
    """Read one element, treating a malformed value as absent."""
    try:
        return ds.get(keyword)
    except Exception:  # a broken value must not stop the import
        return None


def read_dicom_header(path: Path, name: str) -> SliceHeader:
    """Parse the header of one DICOM file.

    Args:
        path: local file to read.
        name: the name shown to the user (the client's relative file name).

    Returns:
        The slice header; pixel data is not read yet.

    Raises:
        InvalidInput: when the file is not DICOM, is truncated in its header, is a DICOMDIR,
            or lacks the attributes every image needs (UIDs, rows, columns).
    """
    ds: Dataset
    try:
        ds = pydicom.dcmread(path, defer_size=_DEFER)
    except InvalidDicomError:
        ds = _read_without_preamble(path, name)
    except (EOFError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(f"unreadable or truncated DICOM file ({type(exc).__name__})",
                           name) from None
    except Exception as exc:  # pydicom raises many kinds on garbage input
        raise InvalidInput(f"unreadable DICOM file ({type(exc).__name__})", name) from None
    return _header_from_dataset(ds, path, name)


def _read_without_preamble(path: Path, name: str) -> Dataset:
    """Accept old files without the 128-byte preamble only when they look like images."""
    try:
        ds = pydicom.dcmread(path, defer_size=_DEFER, force=True)
        ok = "SOPClassUID" in ds and "Rows" in ds and "SeriesInstanceUID" in ds
    except Exception:  # anything failing here means "not DICOM"
        ok = False
    if not ok:
        raise InvalidInput("not a DICOM file", name)
    return ds


def _ensure_transfer_syntax(ds: Dataset) -> None:
    """Files without file meta (old ACR-NEMA style) get the syntax they were parsed with."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID"):
        return
    implicit, little = ds.original_encoding
    if meta is None:
        ds.file_meta = meta = FileMetaDataset()
    if implicit is None:
        implicit, little = True, True
    meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                              ExplicitVRLittleEndian if little else ExplicitVRBigEndian)


def _header_from_dataset(ds: Dataset, path: Path, name: str) -> SliceHeader:
    _ensure_transfer_syntax(ds)
    meta = getattr(ds, "file_meta", None)
    sop_class = str(_get(ds, "SOPClassUID") or (meta.get("MediaStorageSOPClassUID")
                                                if meta is not None else "") or "")
    if sop_class == DICOMDIR_STORAGE or "DirectoryRecordSequence" in ds:
        raise InvalidInput("DICOMDIR index file, not an image (ignored)", name)
    missing = [k for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
               if not _get(ds, k)]
    if missing:
        raise InvalidInput(f"DICOM file without {', '.join(missing)}", name)
    if "PixelData" not in ds and "FloatPixelData" not in ds:
        raise InvalidInput("DICOM file without pixel data (not an image)", name)
    rows, cols = _get(ds, "Rows"), _get(ds, "Columns")
    if not rows or not cols:
        raise InvalidInput("DICOM image without Rows/Columns", name)
    try:
        frames = int(_get(ds, "NumberOfFrames") or 1)
    except (TypeError, ValueError):
        frames = 1
    return SliceHeader(
        name=name,
        path=path,
        dataset=ds,
        study_uid=str(ds.StudyInstanceUID),
        series_uid=str(ds.SeriesInstanceUID),
        sop_uid=str(ds.SOPInstanceUID),
        sop_class=sop_class,
        modality=str(_get(ds, "Modality") or "").upper(),
        rows=int(rows),
        cols=int(cols),
        frames=frames,
        iop=parse_floats(_get(ds, "ImageOrientationPatient"), 6),
        ipp=parse_floats(_get(ds, "ImagePositionPatient"), 3),  # type: ignore[arg-type]
        pixel_spacing=parse_floats(_get(ds, "PixelSpacing"), 2),  # type: ignore[arg-type]
        slice_thickness=parse_float(_get(ds, "SliceThickness")),
        spacing_between=parse_float(_get(ds, "SpacingBetweenSlices")),
        slope=parse_float(_get(ds, "RescaleSlope")) or 1.0,
        intercept=parse_float(_get(ds, "RescaleIntercept")) or 0.0,
        localizer=_is_localizer(ds),
    )


def _is_localizer(ds: Dataset) -> bool:
    image_type = _get(ds, "ImageType") or []
    values = [image_type] if isinstance(image_type, str) else list(image_type)
    return any(str(v).upper() == "LOCALIZER" for v in values)
