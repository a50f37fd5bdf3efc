"""Group DICOM files into CT series and read each series into a :class:`CTVolume`.

Each file is parsed once (header, pixel data deferred) and its pixel bytes are read once,
directly into the volume. Enhanced and Legacy Converted Enhanced CT (multi-frame) objects are
split into frames that go through the same checks. Non-CT series, Secondary Captures, and
stacks that cannot form a regular volume are refused with a reason naming the series or file.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lunglab.domain.errors import InvalidInput, TooLarge
from lunglab.domain.volume import CTVolume
from lunglab.io.dicom.geometry import stack_geometry
from lunglab.io.dicom.header import (
    CT_IMAGE_STORAGE,
    MULTIFRAME_CT_STORAGE,
    SECONDARY_CAPTURE_PREFIX,
    SliceHeader,
    read_dicom_header,
)
from lunglab.io.dicom.multiframe import expand_frames
from lunglab.io.dicom.pixels import fill_hu
from lunglab.io.limits import UploadLimits
from lunglab.io.results import Refusal

_PIXEL_DATA = 0x7FE00010


@dataclass
class DicomSeries:
    """One CT series read from DICOM files (not yet de-identified: keep inside lunglab.io)."""

    label: str
    slices: list[SliceHeader]
    volume: CTVolume
    warnings: list[str] = field(default_factory=list)

    @property
    def first(self) -> SliceHeader:
        """The first slice in sorted order (source of the series-level attributes)."""
        return self.slices[0]


def read_headers(files: Iterable[tuple[str, Path]]) -> tuple[list[SliceHeader], list[Refusal]]:
    """Parse the headers of many files; files that are not DICOM images are refused."""
    headers: list[SliceHeader] = []
    refused: list[Refusal] = []
    for name, path in files:
        try:
            headers.append(read_dicom_header(path, name))
        except InvalidInput as exc:
            refused.append(Refusal(name, _reason(exc)))
    return headers, refused


def _reason(exc: InvalidInput) -> str:
    text = str(exc)
    prefix = f"{exc.source}: " if exc.source else ""
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


def group_series(headers: list[SliceHeader]) -> list[list[SliceHeader]]:
    """Group headers by (StudyInstanceUID, SeriesInstanceUID), in order of first appearance."""
    groups: dict[tuple[str, str], list[SliceHeader]] = {}
    for h in headers:
        groups.setdefault((h.study_uid, h.series_uid), []).append(h)
    return list(groups.values())


def series_label(slices: list[SliceHeader]) -> str:
    """A label for messages: modality, file count and one file name (no UIDs, no PHI)."""
    names = sorted(h.name for h in slices)
    more = f" and {len(names) - 1} more" if len(names) > 1 else ""
    return f"{slices[0].modality or 'unknown-modality'} series ({names[0]}{more})"


def _check_kind(slices: list[SliceHeader], label: str) -> None:
    """Refuse series that are not single-frame CT images."""
    modalities = sorted({h.modality for h in slices})
    if modalities != ["CT"]:
        raise InvalidInput(
            f"modality {'/'.join(m or 'missing' for m in modalities)} is not CT", label)
    classes = {h.sop_class for h in slices}
    for sop_class in classes:
        if sop_class.startswith(SECONDARY_CAPTURE_PREFIX):
            raise InvalidInput("Secondary Capture (screenshot), not an original CT image", label)
        if sop_class not in (CT_IMAGE_STORAGE, "", *MULTIFRAME_CT_STORAGE):
            raise InvalidInput(f"SOP class {sop_class} is not a CT image storage class", label)
    multi = [h for h in slices if h.frames > 1 and h.sop_class not in MULTIFRAME_CT_STORAGE]
    if multi:
        raise InvalidInput(f"{multi[0].frames} frames in a single-frame CT Image object",
                           multi[0].name)


def _expand_multiframe(slices: list[SliceHeader]) -> list[SliceHeader]:
    out: list[SliceHeader] = []
    for h in slices:
        out.extend(expand_frames(h) if h.sop_class in MULTIFRAME_CT_STORAGE else [h])
    return out


def _dedupe(slices: list[SliceHeader], warnings: list[str]) -> list[SliceHeader]:
    """Keep one copy of each SOP instance (the same file uploaded twice)."""
    seen: dict[str, SliceHeader] = {}
    for h in slices:
        seen.setdefault(h.sop_uid, h)
    dropped = len(slices) - len(seen)
    if dropped:
        warnings.append(f"{dropped} duplicate cop{'y' if dropped == 1 else 'ies'} of the same "
                        "slice (same SOP Instance UID) ignored")
    return list(seen.values())


def _drop_localizers(slices: list[SliceHeader], warnings: list[str]) -> list[SliceHeader]:
    kept = [h for h in slices if not h.localizer]
    if kept and len(kept) < len(slices):
        warnings.append(f"{len(slices) - len(kept)} localizer (scout) image(s) ignored")
        return kept
    return slices


def build_series(slices: list[SliceHeader], limits: UploadLimits) -> DicomSeries:
    """Validate one series and read its pixels into a CTVolume (HU, int16).

    Args:
        slices: headers of one series, any order.
        limits: caps on slices and voxels.

    Returns:
        The series with its volume; ``volume.meta`` is left empty (see
        :mod:`lunglab.io.deid.pseudonyms`).

    Raises:
        InvalidInput: not CT, broken multi-frame functional groups, inconsistent geometry,
            undecodable pixels.
        TooLarge: more slices or voxels than the limits allow.
    """
    label = series_label(slices)
    warnings: list[str] = []
    _check_kind(slices, label)
    slices = _drop_localizers(_expand_multiframe(_dedupe(slices, warnings)), warnings)
    if len(slices) > limits.max_slices_per_series:
        raise TooLarge(f"{label}: {len(slices)} slices, more than the limit of "
                       f"{limits.max_slices_per_series}")
    geo = stack_geometry(slices, label)
    rows, cols = geo.slices[0].rows, geo.slices[0].cols
    if len(slices) * rows * cols > limits.max_voxels_per_series:
        raise TooLarge(f"{label}: {len(slices)}x{rows}x{cols} voxels, more than the limit of "
                       f"{limits.max_voxels_per_series}")
    array = np.empty((len(geo.slices), rows, cols), dtype=np.int16)
    for k, h in enumerate(geo.slices):
        fill_hu(h, array[k])
        if h.frame_index is None:  # the bytes now live in the volume: do not keep two copies
            del h.dataset[_PIXEL_DATA]
    for ds in {id(h.dataset): h.dataset for h in geo.slices if h.frame_index is not None}.values():
        del ds[_PIXEL_DATA]
    volume = CTVolume(array, geo.spacing, geo.origin, geo.direction, {})
    return DicomSeries(label, geo.slices, volume, warnings + geo.warnings)


def read_dicom_series(
    files: Iterable[tuple[str, Path]], limits: UploadLimits | None = None
) -> tuple[list[DicomSeries], list[Refusal]]:
    """Read every CT series found among ``files``.

    Args:
        files: ``(display name, local path)`` pairs of candidate DICOM files.
        limits: caps; defaults to :class:`UploadLimits` defaults.

    Returns:
        The series read, and refusals for files and series that could not be read. A refused
        series is reported once, under its label, not once per file.

    Raises:
        TooLarge: a series exceeds the limits (the whole upload should be refused).
    """
    limits = limits or UploadLimits()
    headers, refused = read_headers(files)
    series: list[DicomSeries] = []
    for group in group_series(headers):
        try:
            series.append(build_series(group, limits))
        except InvalidInput as exc:
            refused.append(Refusal(exc.source or series_label(group), _reason(exc)))
    return series, refused
