"""Slice order and volume geometry of one DICOM stack, computed as SimpleITK/GDCM would.

- the in-plane axes come from ImageOrientationPatient (row direction, column direction);
- the slice normal is their cross product; slices are sorted by ImagePositionPatient projected
  on the normal, ascending;
- spacing (x, y) comes from PixelSpacing (row spacing is y, column spacing is x), spacing z from
  the distance between consecutive positions; the origin is the first sorted slice's position;
- the direction matrix has the row direction, column direction and normal as its columns.

Gantry tilt policy: a stack whose positions drift sideways from the normal (gantry tilt, or a
sheared reconstruction) is **refused** when the drift over the whole stack reaches half a pixel,
because a regular CTVolume cannot represent it without resampling. Smaller drifts are accepted
silently; a non-zero GantryDetectorTilt with unsheared positions only gives a warning.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lunglab.domain.errors import InvalidInput
from lunglab.io.dicom.header import SliceHeader

IDENTITY_IOP = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
_IOP_TOL = 1e-3  # differences between direction cosines of slices in one stack
_SPACING_REL_TOL = 0.02  # allowed relative deviation of a slice step from the median step
_SPACING_ABS_TOL = 0.01  # mm


@dataclass
class StackGeometry:
    """Sorted slices of one stack with the volume geometry they define."""

    slices: list[SliceHeader]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...]
    warnings: list[str] = field(default_factory=list)


def orientation_axes(iop: tuple[float, ...], name: str) -> tuple[np.ndarray, ...]:
    """Return unit row, column and normal vectors from an ImageOrientationPatient value.

    Raises:
        InvalidInput: the two direction cosines are zero or not perpendicular.
    """
    row = np.asarray(iop[:3], dtype=np.float64)
    col = np.asarray(iop[3:6], dtype=np.float64)
    nr, nc = np.linalg.norm(row), np.linalg.norm(col)
    if nr < 0.5 or nc < 0.5 or abs(float(row @ col)) / (nr * nc) > 0.01:
        raise InvalidInput(f"invalid ImageOrientationPatient {list(iop)}", name)
    row, col = row / nr, col / nc
    col = col - (row @ col) * row  # re-orthogonalise rounding noise
    col /= np.linalg.norm(col)
    return row, col, np.cross(row, col)


def _check_same_frame(slices: list[SliceHeader], series: str) -> None:
    """Refuse a stack whose slices differ in size, orientation or pixel spacing."""
    first = slices[0]
    sizes = {(h.rows, h.cols) for h in slices}
    if len(sizes) > 1:
        raise InvalidInput(
            "slices of different sizes in one series: "
            + ", ".join(f"{r}x{c}" for r, c in sorted(sizes)), series)
    ref_iop = np.asarray(first.iop or IDENTITY_IOP)
    for h in slices[1:]:
        if np.max(np.abs(np.asarray(h.iop or IDENTITY_IOP) - ref_iop)) > _IOP_TOL:
            raise InvalidInput(
                f"mixed slice orientations in one series ({first.name} vs {h.name})", series)
    ref_ps = np.asarray(first.pixel_spacing or (1.0, 1.0))
    for h in slices[1:]:
        ps = np.asarray(h.pixel_spacing or (1.0, 1.0))
        if np.max(np.abs(ps - ref_ps)) > 1e-3 * max(1.0, float(ref_ps.max())):
            raise InvalidInput(
                f"mixed pixel spacings in one series ({first.name} vs {h.name})", series)


def _single_slice_z(h: SliceHeader) -> float:
    for value in (h.spacing_between, h.slice_thickness):
        if value is not None and math.isfinite(value) and abs(value) > 0:
            return abs(float(value))
    return 1.0


def _check_steps(steps: np.ndarray, ordered: list[SliceHeader], series: str) -> float:
    """Validate consecutive slice distances; return the slice spacing in mm."""
    if np.any(steps < _SPACING_ABS_TOL):
        i = int(np.argmax(steps < _SPACING_ABS_TOL))
        raise InvalidInput(
            f"two slices at the same position ({ordered[i].name}, {ordered[i + 1].name}): "
            "several acquisitions or phases mixed in one series", series)
    median = float(np.median(steps))
    tol = max(_SPACING_REL_TOL * median, _SPACING_ABS_TOL)
    bad = np.flatnonzero(np.abs(steps - median) > tol)
    if bad.size == 0:
        return float(np.mean(steps))
    base = float(np.min(steps))  # with gaps, the smallest step is the true spacing
    base_tol = max(_SPACING_REL_TOL * base, _SPACING_ABS_TOL)
    multiples = np.rint(steps / base)
    if np.all(np.abs(steps - multiples * base) <= base_tol * multiples):
        gaps = np.flatnonzero(multiples >= 2)
        i = int(gaps[0])
        missing = int(np.sum(multiples[gaps] - 1))
        raise InvalidInput(
            f"missing slice(s): gap of {steps[i]:.3f} mm between {ordered[i].name} and "
            f"{ordered[i + 1].name} where the spacing is {base:.3f} mm "
            f"({missing} slice(s) missing in the series)", series)
    i = int(bad[0])
    raise InvalidInput(
        f"inconsistent slice spacing: steps from {steps.min():.3f} to {steps.max():.3f} mm "
        f"(first irregular step between {ordered[i].name} and {ordered[i + 1].name})", series)


def _check_tilt(ipps: np.ndarray, normal: np.ndarray, pixel: float, series: str) -> None:
    """Refuse stacks whose positions drift off the slice normal by half a pixel or more."""
    offsets = ipps - ipps[0]
    along = offsets @ normal
    sideways = offsets - np.outer(along, normal)
    drift = float(np.max(np.linalg.norm(sideways, axis=1)))
    if drift >= 0.5 * pixel:
        extent = float(abs(along[-1])) or 1.0
        angle = math.degrees(math.atan2(float(np.linalg.norm(sideways[-1])), extent))
        raise InvalidInput(
            f"gantry tilt or sheared slices: positions drift {drift:.2f} mm off the slice "
            f"normal (about {angle:.1f} degrees); resample the series to an orthogonal grid "
            "before importing", series)


def stack_geometry(slices: list[SliceHeader], series: str) -> StackGeometry:
    """Sort the slices of one stack and compute its geometry.

    Args:
        slices: headers of one series (duplicates of a SOP instance already removed).
        series: a safe display name used in error messages.

    Returns:
        The sorted slices and the volume geometry.

    Raises:
        InvalidInput: mixed sizes/orientations/spacings, duplicate positions, missing slices,
            irregular spacing, gantry tilt, or missing geometry attributes.
    """
    _check_same_frame(slices, series)
    first = slices[0]
    warnings: list[str] = []
    if first.iop is None:
        if len(slices) > 1:
            raise InvalidInput("no ImageOrientationPatient: cannot order the slices", series)
        warnings.append("no ImageOrientationPatient: assumed axial orientation")
    row, col, normal = orientation_axes(first.iop or IDENTITY_IOP, first.name)
    if first.pixel_spacing is None:
        warnings.append("no PixelSpacing: assumed 1 mm pixels")
    ps_row, ps_col = first.pixel_spacing or (1.0, 1.0)
    if not (ps_row > 0 and ps_col > 0):
        raise InvalidInput(f"invalid PixelSpacing {[ps_row, ps_col]}", first.name)
    if len(slices) == 1:
        ordered = slices
        dz = _single_slice_z(first)
        if first.ipp is None:
            warnings.append("no ImagePositionPatient: origin set to (0, 0, 0)")
    else:
        lacking = [h.name for h in slices if h.ipp is None]
        if lacking:
            raise InvalidInput(
                f"no ImagePositionPatient in {lacking[0]}: cannot order the slices", series)
        ordered = sorted(slices, key=lambda h: float(np.dot(h.ipp, normal)))  # type: ignore
        ipps = np.asarray([h.ipp for h in ordered], dtype=np.float64)
        steps = np.diff(ipps @ normal)
        dz = _check_steps(steps, ordered, series)
        _check_tilt(ipps, normal, min(ps_row, ps_col), series)
    tilt = first.dataset.get("GantryDetectorTilt")
    try:
        if tilt not in (None, "") and abs(float(tilt)) > 0.01:
            warnings.append(
                f"GantryDetectorTilt is {float(tilt):.1f} degrees but the slice positions are "
                "orthogonal: read as an untilted volume")
    except (TypeError, ValueError):
        pass
    origin = tuple(float(v) for v in (ordered[0].ipp or (0.0, 0.0, 0.0)))
    direction = tuple(float(v) for v in np.column_stack([row, col, normal]).ravel())
    spacing = (float(ps_col), float(ps_row), float(dz))
    return StackGeometry(ordered, spacing, origin, direction, warnings)  # type: ignore[arg-type]
