"""Read and write NIfTI-1/2 volumes and label maps with LungLab's LPS geometry.

Geometry follows SimpleITK (and so :meth:`CTVolume.to_sitk`): the NIfTI affine is in RAS, the
volume in LPS, so the first two rows of the affine are negated. Arrays are ``[z, y, x]`` in
memory and ``[x, y, z]`` (i, j, k) in the file. Files written here carry no free text: the
``descrip``, ``aux_file``, ``db_name`` and ``intent_name`` header fields are empty.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from lunglab.domain.errors import InvalidInput
from lunglab.domain.volume import CTVolume

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])
NIFTI_SUFFIXES = (".nii", ".nii.gz")


def is_nifti_name(name: str) -> bool:
    """Whether a file name ends in ``.nii`` or ``.nii.gz`` (case-insensitive)."""
    return name.lower().endswith(NIFTI_SUFFIXES)


def _validated_header(path: Path, name: str) -> Any:
    """Load and check a NIfTI header; return the nibabel image (data not read)."""
    try:
        img = nib.load(str(path))
    except Exception as exc:  # nibabel raises many kinds on broken headers
        raise InvalidInput(f"not a readable NIfTI file ({type(exc).__name__})", name) from None
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise InvalidInput("not a NIfTI-1/2 image", name)
    shape = img.header.get_data_shape()
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) == 2:
        shape = (*shape, 1)
    if len(shape) != 3:
        raise InvalidInput(f"a 3-D volume is required, the file has shape {tuple(shape)}", name)
    if any(int(d) <= 0 for d in shape):
        raise InvalidInput(f"invalid dimensions {tuple(shape)}", name)
    zooms = _raw_zooms(path, type(img.header))  # nibabel silently "fixes" zero spacing
    if not all(math.isfinite(z) and z > 0 for z in zooms):
        raise InvalidInput(f"invalid voxel spacing {zooms}", name)
    if not np.all(np.isfinite(img.affine)):
        raise InvalidInput("invalid (non-finite) orientation matrix", name)
    offset = getattr(img.dataobj, "offset", None)
    if offset is not None and not str(path).lower().endswith(".gz"):
        need = int(offset) + int(np.prod(img.header.get_data_shape())) * \
            img.header.get_data_dtype().itemsize
        if path.stat().st_size < need:
            raise InvalidInput(
                f"truncated data ({path.stat().st_size} of {need} bytes)", name)
    return img


def _raw_zooms(path: Path, header_class: Any) -> list[float]:
    """Voxel spacing as stored in the file, before nibabel's automatic header fixes."""
    from nibabel.openers import ImageOpener

    with ImageOpener(str(path)) as fh:
        raw = header_class.from_fileobj(fh, check=False)
    ndim = max(1, min(int(raw["dim"][0]), 3))
    zooms = [float(z) for z in raw["pixdim"][1:ndim + 1]]
    return zooms + [1.0] * (3 - len(zooms))


def _read_sitk(path: Path, name: str) -> Any:
    """Read voxels with SimpleITK (same geometry rules as CTVolume.to_sitk) as a 3-D image."""
    import SimpleITK as sitk

    try:
        img = sitk.ReadImage(str(path))
    except RuntimeError:
        raise InvalidInput("cannot read the image data (truncated or corrupt file?)",
                           name) from None
    if img.GetDimension() == 4:
        size = list(img.GetSize())
        img = sitk.Extract(img, [*size[:3], 0], [0, 0, 0, 0])
    elif img.GetDimension() == 2:
        img = sitk.JoinSeries(img)
    if img.GetNumberOfComponentsPerPixel() != 1:
        raise InvalidInput("vector or RGB voxels: a scalar volume is required", name)
    return img


def read_nifti(path: Path, name: str | None = None) -> CTVolume:
    """Read a CT volume from a ``.nii`` or ``.nii.gz`` file.

    Float voxels are rounded to integers and clipped to int16. ``meta`` gets
    ``{"Modality": "CT", "SourceFormat": "NIfTI"}`` and a warning when the intensities do not
    look like Hounsfield units.

    Args:
        path: the local file.
        name: name used in messages (defaults to the file name).

    Returns:
        The volume with LPS geometry.

    Raises:
        InvalidInput: broken header, bad dimensions or spacing, truncated data, NaN voxels.
    """
    import SimpleITK as sitk

    name = name or path.name
    _validated_header(path, name)
    img = _read_sitk(path, name)
    arr = sitk.GetArrayFromImage(img)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise InvalidInput("NaN or infinite voxel values", name)
        arr = np.rint(arr)
    arr = np.clip(arr, -32768, 32767).astype(np.int16, copy=False)
    meta: dict[str, Any] = {"Modality": "CT", "SourceFormat": "NIfTI"}
    lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
    if lo >= 0 and hi <= 255:
        meta["warnings"] = [f"intensities {lo}..{hi} do not look like Hounsfield units"]
    return CTVolume(
        np.ascontiguousarray(arr),
        tuple(float(s) for s in img.GetSpacing()),  # type: ignore[arg-type]
        tuple(float(o) for o in img.GetOrigin()),  # type: ignore[arg-type]
        tuple(float(d) for d in img.GetDirection()),
        meta,
    )


def _check_same_geometry(img: Any, like: CTVolume, name: str) -> None:
    """Refuse a label map whose grid is not the volume's (beyond float rounding)."""
    spacing = np.asarray(img.GetSpacing(), dtype=np.float64)
    ref = np.asarray(like.spacing, dtype=np.float64)
    if spacing.shape != ref.shape or np.any(np.abs(spacing - ref) > 1e-2 * ref):
        raise InvalidInput(f"label map spacing {tuple(np.round(spacing, 4))} differs from the "
                           f"volume's {tuple(np.round(ref, 4))}", name)
    shift = np.abs(np.asarray(img.GetOrigin()) - np.asarray(like.origin))
    direction = np.abs(np.asarray(img.GetDirection()) - np.asarray(like.direction))
    if np.any(shift > 0.5 * ref.max()) or np.any(direction > 1e-3):
        raise InvalidInput("label map position or orientation differs from the volume's", name)


def read_labelmap_nifti(
    path: Path,
    expect_shape: tuple[int, int, int],
    *,
    like: CTVolume | None = None,
    name: str | None = None,
) -> np.ndarray:
    """Read a label map as uint8 ``[z, y, x]``.

    Args:
        path: ``.nii``/``.nii.gz`` file.
        expect_shape: required ``(z, y, x)`` shape.
        like: the volume the labels belong to; when given, a label map stored in another axis
            order or flip (e.g. RAS-canonical) is reoriented to the volume's orientation, and
            a label map on another grid (spacing, origin, direction) is refused.
        name: name used in messages.

    Returns:
        The label values, uint8, C-contiguous.

    Raises:
        InvalidInput: unreadable file, wrong shape or grid, non-integer or out-of-range values.
    """
    import SimpleITK as sitk

    name = name or path.name
    _validated_header(path, name)
    img = _read_sitk(path, name)
    if like is not None:
        orient = sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines
        want = orient([float(d) for d in like.direction])
        if orient(img.GetDirection()) != want:
            img = sitk.DICOMOrient(img, want)
        _check_same_geometry(img, like, name)
    arr = sitk.GetArrayFromImage(img)
    if tuple(arr.shape) != tuple(expect_shape):
        raise InvalidInput(
            f"label map shape {tuple(int(s) for s in arr.shape)} (z, y, x) does not match the "
            f"volume {tuple(expect_shape)}", name)
    if arr.dtype.kind == "f" and (
            not np.all(np.isfinite(arr)) or not np.all(arr == np.rint(arr))):
        raise InvalidInput("label values must be integers", name)
    if arr.size and (arr.min() < 0 or arr.max() > 255):
        raise InvalidInput(f"label values out of range {arr.min()}..{arr.max()}", name)
    return np.ascontiguousarray(arr.astype(np.uint8, copy=False))


def ras_affine(vol: CTVolume) -> np.ndarray:
    """The NIfTI (RAS) 4x4 affine of a volume's LPS geometry, as SimpleITK writes it."""
    direction = np.asarray(vol.direction, dtype=np.float64).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = _LPS_TO_RAS @ direction @ np.diag(np.asarray(vol.spacing, np.float64))
    affine[:3, 3] = _LPS_TO_RAS @ np.asarray(vol.origin, dtype=np.float64)
    return affine


def _image(array_zyx: np.ndarray, like: CTVolume) -> nib.Nifti1Image:
    affine = ras_affine(like)
    img = nib.Nifti1Image(np.asarray(array_zyx).transpose(2, 1, 0), affine)
    hdr = img.header
    hdr.set_qform(affine, code=1)
    hdr.set_sform(affine, code=1)
    hdr.set_xyzt_units("mm", "sec")
    for key in ("descrip", "aux_file", "db_name", "intent_name"):
        hdr[key] = b""
    hdr.set_intent("none")
    img.extra.clear()
    hdr.extensions.clear()
    return img


def encode_nifti_gz(array_zyx: np.ndarray, like: CTVolume) -> bytes:
    """A ``.nii.gz`` file's bytes for ``array_zyx`` on ``like``'s grid (no identifying text).

    ISA-L's gzip at level 1 is about 4x faster than zlib for CT volumes (``bench/ingest.py``).
    """
    from isal import igzip

    return igzip.compress(_image(array_zyx, like).to_bytes(), 1)


def _write(array_zyx: np.ndarray, like: CTVolume, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if str(path).endswith(".gz"):
        path.write_bytes(encode_nifti_gz(array_zyx, like))
    else:
        nib.save(_image(array_zyx, like), str(path))


def write_volume_nifti(vol: CTVolume, path: Path) -> None:
    """Write a CT volume (int16 HU) to ``.nii`` or ``.nii.gz`` with no identifying text.

    Args:
        vol: the volume; ``vol.meta`` is not written.
        path: destination; ``.gz`` suffix means gzip-compressed.
    """
    _write(vol.array.astype(np.int16, copy=False), vol, path)


def write_labelmap_nifti(array: np.ndarray, like: CTVolume, path: Path) -> None:
    """Write a uint8 label map ``[z, y, x]`` with the geometry of ``like``.

    Raises:
        InvalidInput: the shape differs from ``like`` or values do not fit uint8.
    """
    if tuple(array.shape) != like.shape:
        raise InvalidInput(f"label map shape {tuple(array.shape)} != volume {like.shape}")
    if array.dtype != np.uint8:
        if array.size and (array.min() < 0 or array.max() > 255):
            raise InvalidInput("label values do not fit in uint8")
        array = array.astype(np.uint8)
    _write(array, like, path)
