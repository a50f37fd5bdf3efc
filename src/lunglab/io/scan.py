"""Scan one upload: expand archives, find CT series and NIfTI volumes, de-identify them.

This is the entry point of the ingest service::

    result = scan_upload(files, project_secret=key, limits=UploadLimits(), workdir=tmp)
    for series in result.series: ...   # store series.volume, series.meta, pseudonyms
    for refusal in result.refused: ... # report refusal.name, refusal.reason

Nothing is written except archive entries expanded under ``workdir`` (the caller removes it).
The returned objects hold no PHI except ``ParsedSeries.source_names`` (the client's own file
names, to echo back to the uploader only).
"""
from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from lunglab.domain.errors import InvalidInput, TooLarge
from lunglab.io.archive import (
    ExpansionBudget,
    expand_zip,
    is_junk,
    is_zip_name,
    safe_relative_name,
)
from lunglab.io.deid.pseudonyms import burned_in_warning, patient_key, pseudo_uid, technical_meta
from lunglab.io.dicom.series import DicomSeries
from lunglab.io.limits import UploadLimits
from lunglab.io.nifti import is_nifti_name, read_nifti
from lunglab.io.radiograph import (
    RadiographOptions,
    is_picture_file,
    parse_picture,
    read_dicom_and_radiographs,
)
from lunglab.io.results import ParsedSeries, Refusal, ScanResult

__all__ = ["ParsedSeries", "Refusal", "ScanResult", "UploadLimits", "scan_upload"]

_ZIP_MAGIC = b"PK\x03\x04"
_GZIP_MAGIC = b"\x1f\x8b"
_NIFTI_PATIENT_NOTE = "NIfTI input: the patient is unknown, so this volume gets its own patient key"


def _sniff(path: Path) -> str:
    """Guess a file's kind from its first bytes: ``zip``, ``nifti``, ``gzip`` or ``other``."""
    try:
        with path.open("rb") as fh:
            head = fh.read(352)
    except OSError:
        return "other"
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head[344:348] == b"n+1\x00" or head[4:8] == b"n+2\x00":  # NIfTI-1 / NIfTI-2 magic
        return "nifti"
    return "other"


def series_display_name(modality: str, slices: int, description: str | None) -> str:
    """A display name with no PHI: modality, slice count, and a screened description."""
    name = f"{modality or 'CT'} {slices} slice{'s' if slices != 1 else ''}"
    return f"{name} - {description}" if description else name


def _collect(
    files: list[tuple[str, Path]], limits: UploadLimits, workdir: Path,
    refused: list[Refusal],
) -> tuple[list[tuple[str, Path]], list[tuple[str, Path]], list[tuple[str, Path]]]:
    """Sort inputs into DICOM candidates, NIfTI files and PNG/JPEG pictures (radiographs),
    expanding archives."""
    budget = ExpansionBudget.from_limits(limits)
    dicom: list[tuple[str, Path]] = []
    nifti: list[tuple[str, Path]] = []
    pictures: list[tuple[str, Path]] = []
    for index, (raw_name, path) in enumerate(files):
        try:
            name = safe_relative_name(raw_name)
        except InvalidInput as exc:
            refused.append(Refusal(raw_name, str(exc).removeprefix(f"{exc.source}: ")))
            continue
        if is_junk(name):
            continue
        kind = _sniff(path)
        if is_zip_name(name) or kind == "zip":
            try:
                entries = expand_zip(path, name, workdir / f"upload-{index:05d}", limits,
                                     budget)
            except InvalidInput as exc:
                refused.append(Refusal(exc.source or name,
                                       str(exc).removeprefix(f"{exc.source}: ")))
                continue
            for entry_name, entry_path in entries:
                if is_zip_name(entry_name):
                    refused.append(Refusal(entry_name, "archive nested deeper than "
                                           f"{limits.max_archive_depth} levels: not expanded"))
                    continue
                (nifti if is_nifti_name(entry_name) else pictures
                 if is_picture_file(entry_path) else dicom).append((entry_name, entry_path))
        elif is_picture_file(path):
            pictures.append((name, path))
        elif is_nifti_name(name) or kind in ("nifti", "gzip"):
            nifti.append((name, path))
        else:
            dicom.append((name, path))
    if len(dicom) + len(nifti) + len(pictures) > limits.max_files:
        raise TooLarge(f"{len(dicom) + len(nifti) + len(pictures)} files in the upload, more "
                       f"than the limit of {limits.max_files}")
    return dicom, nifti, pictures


def _parsed_dicom(series: DicomSeries, secret: bytes) -> ParsedSeries:
    ds = series.first.dataset
    meta = technical_meta(ds)
    warnings = list(series.warnings)
    burned = burned_in_warning(ds)
    if burned:
        warnings.append(burned)
    n = series.volume.shape[0]
    series.volume.meta = dict(meta)
    frame = ds.get("FrameOfReferenceUID")
    return ParsedSeries(
        volume=series.volume,
        study_uid_pseudo=pseudo_uid(series.first.study_uid, secret),
        series_uid_pseudo=pseudo_uid(series.first.series_uid, secret),
        patient_key=patient_key(ds, secret),
        name=series_display_name(str(meta.get("Modality", "CT")), n,
                                 meta.get("SeriesDescription")),
        source_names=list(dict.fromkeys(h.source or h.name for h in series.slices)),
        meta=meta,
        warnings=warnings,
        slice_count=n,
        kind="dicom",
        frame_of_reference_uid_pseudo=pseudo_uid(str(frame), secret) if frame else None,
        sop_instance_uids_pseudo=[pseudo_uid(h.sop_uid, secret) for h in series.slices],
    )


def _parsed_nifti(name: str, path: Path, secret: bytes) -> ParsedSeries:
    vol = read_nifti(path, name)
    warnings = list(vol.meta.pop("warnings", []))
    digest = hashlib.sha256()
    digest.update(repr((vol.shape, vol.spacing, vol.origin, vol.direction)).encode())
    digest.update(vol.array.tobytes())
    content = digest.hexdigest()
    n = vol.shape[0]
    return ParsedSeries(
        volume=vol,
        study_uid_pseudo=pseudo_uid("nifti-study:" + content, secret),
        series_uid_pseudo=pseudo_uid("nifti-series:" + content, secret),
        patient_key=hmac.new(secret, b"patient:nifti:" + content.encode(),
                             hashlib.sha256).hexdigest()[:32],
        name=series_display_name("CT", n, "NIfTI"),
        source_names=[name],
        meta=dict(vol.meta),
        warnings=[*warnings, _NIFTI_PATIENT_NOTE],
        slice_count=n,
        kind="nifti",
    )


def scan_upload(
    files: list[tuple[str, Path]],
    *,
    project_secret: bytes,
    limits: UploadLimits,
    workdir: Path,
    radiograph_options: RadiographOptions | None = None,
) -> ScanResult:
    """Find every CT volume in an upload and de-identify it.

    Args:
        files: ``(client-provided relative name, local temporary path)`` for each uploaded
            file; DICOM files, ``.zip`` archives, ``.nii`` and ``.nii.gz`` may be mixed.
        project_secret: the project's key for pseudonyms (same key, same pseudonyms).
        limits: size caps.
        workdir: an empty folder for expanded archives, owned and removed by the caller.
        radiograph_options: how CR/DX DICOM and PNG/JPEG radiographs are read
            (:mod:`lunglab.io.radiograph`); each becomes a one-slice series.

    Returns:
        The series found (one per DICOM series or NIfTI file) and the refused inputs.

    Raises:
        TooLarge: the upload as a whole exceeds the limits (expanded size, file count,
            slices or voxels of a series, zip bomb).
    """
    if not project_secret:
        raise ValueError("project_secret must not be empty")
    refused: list[Refusal] = []
    dicom, nifti, pictures = _collect(files, limits, workdir, refused)
    result = ScanResult(refused=refused)
    if dicom:
        found, radiographs, dicom_refused = read_dicom_and_radiographs(
            dicom, limits, project_secret, radiograph_options)
        result.refused.extend(dicom_refused)
        result.series.extend(_parsed_dicom(s, project_secret) for s in found)
        result.series.extend(radiographs)
    for name, path in pictures:
        try:
            result.series.append(parse_picture(name, path, project_secret, limits,
                                               radiograph_options))
        except InvalidInput as exc:
            result.refused.append(Refusal(name, str(exc).removeprefix(f"{exc.source}: ")))
    for name, path in nifti:
        try:
            result.series.append(_parsed_nifti(name, path, project_secret))
        except InvalidInput as exc:
            result.refused.append(Refusal(name, str(exc).removeprefix(f"{exc.source}: ")))
    return result
