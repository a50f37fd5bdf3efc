"""Synthetic CT DICOM series and planted PHI for tests (no pytest import: usable anywhere).

Example:
    >>> s = make_ct_series(tmp_path, shape=(5, 8, 8))  # doctest: +SKIP
    >>> markers = plant_phi(pydicom.dcmread(s.paths[0]))  # doctest: +SKIP
"""
from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

from lunglab.io.deid.profile import BASIC_PROFILE

MARKER = "PHIMARK"
REAL_SERIES = Path("data") / "chest-ct-dicom-series" / "series"
_STRUCTURAL_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                    "FrameOfReferenceUID")
_TEXT_VRS = {"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UT", "UR"}


def shared_dir() -> Path | None:
    """The shared data folder (``LUNGLAB_SHARED_DIR`` or ``<repo>/../shared``), if present."""
    env = os.environ.get("LUNGLAB_SHARED_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared"
    return path.resolve() if path.is_dir() else None


@dataclass
class FactorySeries:
    """A generated series and the volume a correct reader must return."""

    paths: list[Path]
    hu: np.ndarray  # expected [z, y, x] int16, slices in ascending position order
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...]
    study_uid: str
    series_uid: str


def make_ct_series(
    folder: Path,
    *,
    shape: tuple[int, int, int] = (6, 12, 10),
    spacing: tuple[float, float, float] = (0.75, 0.8, 2.5),
    origin: tuple[float, float, float] = (-120.0, -110.0, -300.0),
    iop: Sequence[float] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    tilt_deg: float = 0.0,
    missing: Sequence[int] = (),
    modality: str = "CT",
    sop_class: str = CTImageStorage,
    transfer_syntax: str = ExplicitVRLittleEndian,
    rescale: tuple[float, float] = (1.0, -1024.0),
    signed: bool = False,
    study_uid: str | None = None,
    series_uid: str | None = None,
    patient_id: str = "PAT-0001",
    patient_name: str = "Doe^Jane",
    series_description: str = "CHEST 2.5",
    burned_in: str | None = None,
    prefix: str = "slice",
    seed: int = 0,
) -> FactorySeries:
    """Write a CT series, one file per slice, and return what a reader should produce.

    Args:
        folder: destination (created).
        shape: ``(z, y, x)`` before removing ``missing`` slices.
        spacing: ``(x, y, z)`` mm; z is the step along the slice normal.
        origin: position of the first slice (LPS mm).
        iop: ImageOrientationPatient (row cosines, column cosines).
        tilt_deg: gantry tilt: each slice shifts along the column direction by
            ``dz * tan(tilt)``.
        missing: slice indices not written.
        modality, sop_class, transfer_syntax: header values; RLE Lossless is encoded by
            pydicom, JPEG Lossless / JPEG-LS / JPEG 2000 Lossless by GDCM (python-gdcm).
        rescale: (RescaleSlope, RescaleIntercept).
        signed: PixelRepresentation 1 (signed stored values).
        study_uid, series_uid: fixed UIDs (new ones when None).
        patient_id, patient_name, series_description, burned_in: header values.
        prefix: file name prefix.
        seed: random seed of the pixel values.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    nz, ny, nx = shape
    slope, intercept = rescale
    hu = rng.integers(-1024, 2000, size=shape).astype(np.int16)
    stored = np.rint((hu.astype(np.float64) - intercept) / slope)
    hu = np.rint(stored * slope + intercept).astype(np.int16)
    stored_dtype = np.int16 if signed else np.uint16
    if not signed and stored.min() < 0:
        raise ValueError("unsigned pixels cannot hold these HU with this rescale")
    row = np.asarray(iop[:3], float)
    col = np.asarray(iop[3:], float)
    normal = np.cross(row, col)
    study_uid = study_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    frame_uid = generate_uid()
    shift = spacing[2] * math.tan(math.radians(tilt_deg))
    paths = []
    for k in range(nz):
        if k in missing:
            continue
        ipp = np.asarray(origin) + k * spacing[2] * normal + k * shift * col
        ds = _slice_dataset(sop_class, transfer_syntax)
        ds.Modality = modality
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.PatientID, ds.PatientName = patient_id, patient_name
        ds.PatientBirthDate = "19700101"
        ds.StudyDate, ds.SeriesDescription = "20200401", series_description
        ds.Manufacturer, ds.ConvolutionKernel, ds.KVP = "ACME", "B30f", "120"
        ds.SliceThickness = f"{spacing[2]:g}"
        if tilt_deg:
            ds.GantryDetectorTilt = f"{tilt_deg:g}"
        if burned_in:
            ds.BurnedInAnnotation = burned_in
        ds.InstanceNumber = k + 1
        ds.ImageOrientationPatient = [f"{v:.6g}" for v in iop]
        ds.ImagePositionPatient = [f"{v:.6f}" for v in ipp]
        ds.PixelSpacing = [f"{spacing[1]:g}", f"{spacing[0]:g}"]
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.PixelRepresentation = 1 if signed else 0
        ds.RescaleSlope, ds.RescaleIntercept = f"{slope:g}", f"{intercept:g}"
        ds.PixelData = stored[k].astype(stored_dtype).tobytes()
        if transfer_syntax == RLELossless:
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.compress(RLELossless)
        path = folder / f"{prefix}{k:04d}.dcm"
        if transfer_syntax in _GDCM_SYNTAXES:
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.save_as(path, enforce_file_format=True)
            _gdcm_transcode(path, transfer_syntax)
        else:
            ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    keep = [k for k in range(nz) if k not in missing]
    direction = tuple(float(v) for v in np.column_stack([row, col, normal]).ravel())
    return FactorySeries(paths, hu[keep], spacing, tuple(float(v) for v in origin),
                         direction, study_uid, series_uid)


_GDCM_SYNTAXES = {
    JPEGLosslessSV1: "JPEGLosslessProcess14_1",
    JPEGLSLossless: "JPEGLSLossless",
    JPEG2000Lossless: "JPEG2000Lossless",
}


def _gdcm_transcode(path: Path, transfer_syntax: str) -> None:
    """Re-encode a file in place with GDCM (pydicom cannot encode these syntaxes itself)."""
    import gdcm

    reader = gdcm.ImageReader()
    reader.SetFileName(str(path))
    if not reader.Read():
        raise RuntimeError(f"GDCM cannot read {path}")
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(
        getattr(gdcm.TransferSyntax, _GDCM_SYNTAXES[transfer_syntax])))
    change.SetInput(reader.GetImage())
    if not change.Change():
        raise RuntimeError(f"GDCM cannot encode {transfer_syntax}")
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(path))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    if not writer.Write():
        raise RuntimeError(f"GDCM cannot write {path}")


def _slice_dataset(sop_class: str, transfer_syntax: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.SOPClassUID = sop_class
    return ds


def make_multiframe_ct(classic: FactorySeries, path: Path, *, compress: bool = False) -> Path:
    """Convert a generated classic series into one Legacy Converted Enhanced CT file.

    Uses highdicom's converter, so the functional groups are laid out as real converters do.
    The expected volume is ``classic.hu`` with the same geometry.
    """
    import logging

    from highdicom.legacy import LegacyConvertedEnhancedCTImage

    logging.getLogger("highdicom").setLevel(logging.ERROR)  # FrameType cannot be derived
    image = LegacyConvertedEnhancedCTImage(
        [pydicom.dcmread(p) for p in classic.paths], series_instance_uid=generate_uid(),
        series_number=2, sop_instance_uid=generate_uid(), instance_number=1)
    if compress:
        image.compress(RLELossless)
    image.save_as(path)
    return path


def _marker(keyword: str) -> str:
    return f"{MARKER}-{keyword}"


def plant_phi(ds: Dataset) -> list[str]:
    """Fill every basic-profile attribute, private tags, a curve and an overlay with markers.

    Text attributes get ``"PHIMARK-<keyword>"``; numbers (PatientWeight, PatientSize...) a
    distinctive value; UIDs a new ``1.999.4242.<n>`` UID. The series-defining UIDs (study,
    series, SOP instance, frame of reference) are left as they are, so the series still holds
    together, and their current values are returned as markers too: none may survive
    de-identification. Markers are the same for every slice (one patient).

    Args:
        ds: the dataset to modify in place.

    Returns:
        The planted marker strings.
    """
    with warnings.catch_warnings():  # markers break VR rules (lengths, date formats) on purpose
        warnings.simplefilter("ignore")
        return _plant(ds)


def _plant(ds: Dataset) -> list[str]:
    markers: list[str] = []
    for n, keyword in enumerate(sorted(BASIC_PROFILE)):
        tag = tag_for_keyword(keyword)
        if tag is None or tag >> 16 == 0:  # command-set elements cannot be stored in files
            continue
        if keyword in _STRUCTURAL_UIDS or keyword == "MediaStorageSOPInstanceUID":
            source = ds.file_meta if keyword.startswith("MediaStorage") else ds
            if keyword in source:
                markers.append(str(source[keyword].value))
            continue
        vr = str(dictionary_VR(tag)).split(" or ")[0]
        if vr in _TEXT_VRS:
            ds.add_new(tag, vr, _marker(keyword))
            markers.append(_marker(keyword))
        elif vr in ("DS", "IS"):
            value = f"{4242 + n}.{n:03d}7" if vr == "DS" else str(424200 + n)
            ds.add_new(tag, vr, value)
            markers.append(value)
        elif vr == "UI":
            value = f"1.999.4242.{n}"
            ds.add_new(tag, vr, value)
            markers.append(value)
        elif vr == "SQ":
            item = Dataset()
            item.CodeMeaning = _marker(keyword)
            item.PersonName = _marker(keyword + "Person")
            ds.add_new(tag, vr, DicomSequence([item]))
            markers += [_marker(keyword), _marker(keyword + "Person")]
    block = ds.private_block(0x0013, f"{MARKER} CREATOR", create=True)
    for offset, vr in ((0x01, "LO"), (0x02, "PN"), (0x03, "LT")):
        block.add_new(offset, vr, _marker(f"private{offset}"))
        markers.append(_marker(f"private{offset}"))
    markers.append(f"{MARKER} CREATOR")
    ds.add_new(0x50002500, "LO", _marker("CurveLabel"))
    ds.add_new(0x60000022, "LO", _marker("OverlayDescription"))
    markers += [_marker("CurveLabel"), _marker("OverlayDescription")]
    return list(dict.fromkeys(markers))


def copy_real_series_with_phi(dest: Path, limit: int | None = None) -> tuple[list[Path], list[str]]:
    """Copy the real shared series into ``dest`` with PHI planted in every slice.

    Args:
        dest: destination folder (created).
        limit: copy only the first ``limit`` slices (all when None).

    Returns:
        The written files and the planted markers.

    Raises:
        FileNotFoundError: the shared data folder is absent.
    """
    root = shared_dir()
    if root is None or not (root / REAL_SERIES).is_dir():
        raise FileNotFoundError("shared real series not found (../shared or LUNGLAB_SHARED_DIR)")
    pydicom.config.convert_wrong_length_to_UN = True
    dest.mkdir(parents=True, exist_ok=True)
    markers: list[str] = []
    paths = []
    for src in sorted((root / REAL_SERIES).glob("*.dcm"))[:limit]:
        ds = pydicom.dcmread(src)
        markers = plant_phi(ds)
        out = dest / src.name
        ds.save_as(out)
        paths.append(out)
    return paths, markers


__all__ = ["FactorySeries", "ImplicitVRLittleEndian", "JPEG2000Lossless", "JPEGLSLossless",
           "JPEGLosslessSV1", "RLELossless", "copy_real_series_with_phi",
           "make_ct_series", "make_multiframe_ct", "plant_phi", "shared_dir"]
