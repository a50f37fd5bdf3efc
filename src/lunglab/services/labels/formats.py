"""Label maps as files: parse an uploaded label map (NIfTI or raw) or slice edit, check its
values and shape against the study, encode a label map as NIfTI with the study's geometry."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any
from pathlib import Path

import numpy as np

from lunglab.db.models import Study
from lunglab.domain.labels import MAX_LABEL
from lunglab.services.errors import InvalidInput
from lunglab.services.labels import slices as labelslices


def validate_labels(labels: np.ndarray, study: Study, source: str = "label map") -> np.ndarray:
    """Check shape and values; return a C-contiguous uint8 array.

    Raises:
        InvalidInput: wrong shape or label values outside 0..3.
    """
    return _validated(labels, tuple(int(v) for v in study.shape), source)


def _validated(labels: np.ndarray, expect: tuple[int, ...], source: str) -> np.ndarray:
    if labels.ndim == 2 and expect[0] == 1:
        labels = labels[None]
    if tuple(labels.shape) != expect:
        raise InvalidInput(
            f"shape {tuple(labels.shape)} (z, y, x) does not match the study's {expect}", source)
    if labels.dtype.kind not in "iub":
        raise InvalidInput("label values must be integers", source)
    if labels.dtype == np.uint8 and (labels.size == 0 or int(labels.max()) <= MAX_LABEL):
        return np.ascontiguousarray(labels)  # fast path: no sort needed
    bad = np.setdiff1d(np.unique(labels), np.arange(MAX_LABEL + 1))
    if bad.size:
        raise InvalidInput(f"unknown label values {bad[:10].tolist()}; allowed 0..{MAX_LABEL}",
                           source)
    return np.ascontiguousarray(labels, dtype=np.uint8)


def _gunzip(data: bytes, name: str) -> bytes:
    """Raw upload bytes, inflated when the file name ends ``.gz``."""
    if not name.endswith(".gz"):
        return data
    try:
        return labelslices.inflate(data)
    except ValueError as exc:
        raise InvalidInput(f"not valid gzip data ({exc})", name) from None


def parse_upload(data: bytes, filename: str, fmt: str, study: Study) -> np.ndarray:
    """Decode an uploaded label map: NIfTI (.nii/.nii.gz) or raw uint8 ``[z, y, x]`` bytes."""
    name = Path(filename or "labels").name
    if fmt == "raw":
        data = _gunzip(data, name)
        expect = int(np.prod(study.shape))
        if len(data) != expect:
            raise InvalidInput(f"{len(data)} bytes, expected {expect} for shape "
                               f"{tuple(study.shape)} (z, y, x) uint8", name)
        return validate_labels(np.frombuffer(data, np.uint8).reshape(study.shape), study, name)
    if not name.endswith((".nii", ".nii.gz")):
        raise InvalidInput("label map must be .nii, .nii.gz or format=raw", name)
    import SimpleITK as sitk

    suffix = ".nii.gz" if name.endswith(".gz") else ".nii"
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            arr = sitk.GetArrayFromImage(sitk.ReadImage(tmp.name))
        except RuntimeError as exc:
            msg = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else "unreadable"
            raise InvalidInput(f"not a readable NIfTI label map ({msg})", name) from None
    return validate_labels(arr, study, name)


@dataclass(frozen=True)
class SliceEdit:
    """Axial slices that changed against a base version: indices and their new voxels."""

    z: tuple[int, ...]
    planes: np.ndarray  # uint8 [len(z), y, x]


def parse_slice_edit(data: bytes, filename: str, slices: str, study: Study) -> SliceEdit:
    """Decode a slice edit upload: raw uint8 ``[k, y, x]`` bytes (gzip when the name ends
    ``.gz``) for the comma-separated z indices in ``slices``, in that order."""
    name = Path(filename or "slices").name
    try:
        zs = tuple(int(t) for t in slices.split(",") if t.strip())
    except ValueError:
        raise InvalidInput("slices must be comma-separated slice indices (z)", name) from None
    data = _gunzip(data, name)
    _, ny, nx = (int(v) for v in study.shape)
    if len(data) != len(zs) * ny * nx:
        raise InvalidInput(f"{len(data)} bytes, expected {len(zs) * ny * nx} for {len(zs)} "
                           f"slice(s) of {ny}x{nx} uint8", name)
    planes = np.frombuffer(data, np.uint8).reshape(len(zs), ny, nx)
    return validate_edit(SliceEdit(zs, planes), study, name)


def validate_edit(edit: SliceEdit, study: Study, source: str = "slice edit") -> SliceEdit:
    """Check indices (in range, no repeats), slice shape and label values.

    Raises:
        InvalidInput: naming the first problem.
    """
    nz, ny, nx = (int(v) for v in study.shape)
    if not edit.z:
        raise InvalidInput("a slice edit must name at least one slice", source)
    bad = [z for z in edit.z if not 0 <= z < nz]
    if bad:
        raise InvalidInput(f"slice indices {bad[:10]} outside 0..{nz - 1}", source)
    if len(set(edit.z)) != len(edit.z):
        raise InvalidInput("a slice index is repeated", source)
    if edit.planes.shape != (len(edit.z), ny, nx):
        raise InvalidInput(f"slices of shape {tuple(edit.planes.shape)}, expected "
                           f"{(len(edit.z), ny, nx)} (k, y, x)", source)
    return SliceEdit(tuple(edit.z), _validated(edit.planes, (len(edit.z), ny, nx), source))


def encode_labelmap(labels: np.ndarray, study: Study) -> bytes:
    """The label map as gzip NIfTI bytes with the study's geometry (no identifying text)."""
    from lunglab.domain.volume import CTVolume
    from lunglab.io.nifti import encode_nifti_gz

    grid = CTVolume(np.empty((0, 0, 0), np.int16), tuple(study.spacing),  # type: ignore[arg-type]
                    tuple(study.origin), tuple(study.direction))  # type: ignore[arg-type]
    return encode_nifti_gz(labels.astype(np.uint8, copy=False), grid)


EDIT_COUNT_KEYS = ("smart_clicks", "brush_strokes", "region_grows", "other_edits")
"""How a reader's edit was made, as the client counts it (correction-effort figures)."""


def edit_counts_details(text: str) -> dict[str, Any]:
    """``{"edit_counts": {...}}`` for a version's details from the save form's JSON (empty: {}).

    Raises:
        InvalidInput: not a JSON object of known keys with counts 0..1,000,000.
    """
    if not text.strip():
        return {}
    import json

    try:
        raw = json.loads(text)
    except ValueError:
        raise InvalidInput("edit_counts must be a JSON object") from None
    if not isinstance(raw, dict) or any(
            k not in EDIT_COUNT_KEYS or isinstance(v, bool) or not isinstance(v, int)
            or not 0 <= v <= 1_000_000 for k, v in raw.items()):
        raise InvalidInput(f"edit_counts: counts 0..1000000 of {', '.join(EDIT_COUNT_KEYS)}")
    return {"edit_counts": {k: int(v) for k, v in raw.items()}}
