"""Split multi-frame (Enhanced / Legacy Converted Enhanced) CT objects into per-frame slices.

Each frame becomes a :class:`SliceHeader` with ``frame_index`` set; its position, orientation,
pixel spacing and rescale come from the per-frame functional groups, falling back to the shared
functional groups and then to the top-level attributes. The frames then go through the same
sorting and checks as single-frame slices, so a multi-frame object and the equivalent classic
series give the same volume.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydicom.dataset import Dataset

from lunglab.domain.errors import InvalidInput
from lunglab.io.dicom.header import SliceHeader, parse_float, parse_floats


def _group(item: Dataset, shared: Dataset, keyword: str) -> Dataset | None:
    """The first item of a functional group macro, per-frame first, then shared."""
    for source in (item, shared):
        try:
            seq = source.get(keyword)
        except Exception:  # a malformed sequence counts as absent
            seq = None
        if seq:
            return seq[0]
    return None


def _value(group: Dataset | None, keyword: str) -> Any:
    if group is None:
        return None
    try:
        return group.get(keyword)
    except Exception:  # malformed values count as absent
        return None


def is_localizer_frame(item: Dataset, shared: Dataset) -> bool:
    """Whether a frame's CT Image Frame Type says LOCALIZER."""
    frame_type = _value(_group(item, shared, "CTImageFrameTypeSequence"), "FrameType") or []
    values = [frame_type] if isinstance(frame_type, str) else list(frame_type)
    return any(str(v).upper() == "LOCALIZER" for v in values)


def expand_frames(h: SliceHeader) -> list[SliceHeader]:
    """One header per frame of a multi-frame CT object.

    Raises:
        InvalidInput: the functional groups are missing or do not match NumberOfFrames.
    """
    ds = h.dataset
    try:
        shared_seq = ds.get("SharedFunctionalGroupsSequence")
        per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    except Exception:
        shared_seq, per_frame = None, None
    shared = shared_seq[0] if shared_seq else Dataset()
    if not per_frame or len(per_frame) != h.frames:
        raise InvalidInput(
            f"multi-frame image without per-frame functional groups for its {h.frames} "
            "frame(s)", h.name)
    frames = []
    for k, item in enumerate(per_frame):
        position = _group(item, shared, "PlanePositionSequence")
        orientation = _group(item, shared, "PlaneOrientationSequence")
        measures = _group(item, shared, "PixelMeasuresSequence")
        rescale = _group(item, shared, "PixelValueTransformationSequence")
        slope = parse_float(_value(rescale, "RescaleSlope"))
        intercept = parse_float(_value(rescale, "RescaleIntercept"))
        frames.append(replace(
            h,
            name=f"{h.name} frame {k + 1}",
            source=h.name,
            sop_uid=f"{h.sop_uid}#{k + 1}",
            frames=1,
            frame_index=k,
            localizer=is_localizer_frame(item, shared),
            ipp=parse_floats(_value(position, "ImagePositionPatient"), 3) or h.ipp,  # type: ignore
            iop=parse_floats(_value(orientation, "ImageOrientationPatient"), 6) or h.iop,
            pixel_spacing=parse_floats(_value(measures, "PixelSpacing"), 2)  # type: ignore
            or h.pixel_spacing,
            slice_thickness=parse_float(_value(measures, "SliceThickness")) or h.slice_thickness,
            spacing_between=parse_float(_value(measures, "SpacingBetweenSlices"))
            or h.spacing_between,
            slope=slope if slope else h.slope,
            intercept=intercept if intercept is not None else h.intercept,
        ))
    return frames
