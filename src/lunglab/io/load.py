"""Load one CT volume from a path, for the command line (``lunglab segment`` ...).

Accepts a folder of DICOM files (searched recursively), a ``.zip`` of DICOM files, a single
DICOM file, or a ``.nii``/``.nii.gz`` file. The volume's ``meta`` holds only whitelisted
technical attributes (see ``DEID.md``) and a ``warnings`` list.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from lunglab.domain.errors import InvalidInput
from lunglab.domain.volume import CTVolume
from lunglab.io.archive import expand_zip, is_junk, is_zip_name
from lunglab.io.deid.pseudonyms import burned_in_warning, technical_meta
from lunglab.io.dicom.series import DicomSeries, read_dicom_series
from lunglab.io.limits import UploadLimits
from lunglab.io.nifti import is_nifti_name, read_nifti
from lunglab.io.results import Refusal


def folder_files(folder: Path) -> list[tuple[str, Path]]:
    """``(relative name, path)`` of every file under ``folder``, clutter skipped."""
    files = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and not is_junk(rel):
            files.append((rel, path))
    return files


def volume_with_meta(series: DicomSeries) -> CTVolume:
    """The series volume with whitelisted ``meta`` and its ``warnings`` list."""
    vol = series.volume
    meta = technical_meta(series.first.dataset)
    warnings = list(series.warnings)
    burned = burned_in_warning(series.first.dataset)
    if burned:
        warnings.append(burned)
    meta["warnings"] = warnings
    vol.meta = meta
    return vol


def _pick(series: list[DicomSeries], refused: list[Refusal], source: str) -> CTVolume:
    if not series:
        detail = "; ".join(f"{r.name}: {r.reason}" for r in refused[:3])
        more = f" (and {len(refused) - 3} more)" if len(refused) > 3 else ""
        raise InvalidInput(f"no readable CT series found. {detail}{more}".strip(), source)
    best = max(series, key=lambda s: s.volume.shape[0])
    vol = volume_with_meta(best)
    if len(series) > 1:
        vol.meta["warnings"].append(
            f"{len(series)} CT series found; using the one with the most slices "
            f"({best.volume.shape[0]}: {best.label})")
    if refused:
        vol.meta["warnings"].append(f"{len(refused)} file(s) or series skipped, e.g. "
                                    f"{refused[0].name}: {refused[0].reason}")
    return vol


def load_ct(path: Path, limits: UploadLimits | None = None) -> CTVolume:
    """Load a CT volume in HU from a DICOM folder, a zip of DICOM, a DICOM file or NIfTI.

    When several CT series are found, the one with the most slices is returned and
    ``meta["warnings"]`` says so.

    Args:
        path: the input path.
        limits: size caps (defaults are generous).

    Returns:
        The volume (int16 HU, ``[z, y, x]``, LPS geometry) with de-identified ``meta``.

    Raises:
        InvalidInput: the path does not exist or holds no readable CT series.
        TooLarge: an archive or series exceeds the limits.

    Example:
        >>> vol = load_ct(Path("scans/patient1/"))  # doctest: +SKIP
        >>> vol.shape, vol.spacing  # doctest: +SKIP
        ((141, 512, 512), (0.977, 0.977, 2.0))
    """
    path = Path(path)
    limits = limits or UploadLimits()
    if not path.exists():
        raise InvalidInput("no such file or folder", path.name or str(path))
    if path.is_dir():
        series, refused = read_dicom_series(folder_files(path), limits)
        nifti = [p for _, p in folder_files(path) if is_nifti_name(p.name)]
        if not series and len(nifti) == 1:
            return read_nifti(nifti[0])
        return _pick(series, refused, path.name)
    if is_nifti_name(path.name):
        return read_nifti(path)
    if is_zip_name(path.name):
        with tempfile.TemporaryDirectory(prefix="lunglab-zip-") as tmp:
            files = expand_zip(path, path.name, Path(tmp), limits)
            if len(files) == 1 and is_nifti_name(files[0][0]):
                return read_nifti(files[0][1], files[0][0])
            series, refused = read_dicom_series(files, limits)
            return _pick(series, refused, path.name)
    series, refused = read_dicom_series([(path.name, path)], limits)
    return _pick(series, refused, path.name)
