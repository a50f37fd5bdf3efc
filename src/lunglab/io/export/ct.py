"""Export the stored de-identified CT as a DICOM series (CT Image Storage) or as NIfTI.

LungLab keeps the CT as a volume (voxels + geometry) and pseudonymous UIDs, never the source
files. The exported series is rebuilt from those: one slice per file, the study's
pseudonymous Study/Series UIDs, the pseudonymous patient key as PatientID, and the same
geometry (LPS) as the stored volume. SOP Instance UIDs and the Frame of Reference UID are
derived deterministically from the (pseudonymous) series UID, so every export of a study gives
the same UIDs and a DICOM SEG exported later references the same instances.

No identifying attribute is written: dates, names other than the ``LL^<key>`` placeholder,
institution and device identifiers are empty or absent; ``PatientIdentityRemoved`` is YES,
``DeidentificationMethodCodeSequence`` names the PS3.15 profile and options applied and
``LongitudinalTemporalInformationModified`` is REMOVED (:mod:`lunglab.io.deid.method`).
The technical attributes ingest keeps (:data:`KEPT_ACQUISITION`, ``PatientPosition``,
``BodyPartExamined``) are written back, so the series passes dciodvfy (dicom3tools) without
errors: Type 2 ``AcquisitionNumber`` is present and empty (the source's is not kept), the
Type 2C ``PatientPosition`` is the source's (empty when unknown) and ``Laterality`` is empty
(unknown) unless ``BodyPartExamined`` is known, when it is left out (a chest is unpaired).
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
)

from lunglab.core.about import RESEARCH_USE_NOTICE, __version__
from lunglab.domain.volume import CTVolume
from lunglab.io.deid.method import mark_deidentified

DEID_METHOD = ["LungLab: re-encoded from the de-identified store",
               "PS3.15 Basic Application Confidentiality Profile"]
KEPT_ACQUISITION = (("ManufacturerModelName", "LO"), ("XRayTubeCurrent", "IS"),
                    ("Exposure", "IS"), ("ExposureTime", "IS"), ("CTDIvol", "FD"),
                    ("ReconstructionDiameter", "DS"), ("BodyPartExamined", "CS"))
"""Technical attributes ingest keeps (``CTVolume.meta``) that the export writes back."""


def derived_uid(base_uid: str, purpose: str) -> str:
    """A deterministic ``2.25.<int>`` UID derived from another (pseudonymous) UID.

    Example:
        >>> derived_uid("2.25.1", "sop:0") == derived_uid("2.25.1", "sop:0")
        True
    """
    digest = hashlib.sha256(f"lunglab:{base_uid}:{purpose}".encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def slice_uids(series_uid: str, n_slices: int) -> list[str]:
    """SOP Instance UIDs of the exported CT slices, in slice-index order."""
    return [derived_uid(series_uid, f"sop:{k}") for k in range(n_slices)]


def frame_of_reference_uid(series_uid: str) -> str:
    return derived_uid(series_uid, "frame-of-reference")


def _ds_number(value: float) -> str:
    text = f"{float(value):.6g}"
    return text if len(text) <= 16 else f"{float(value):.8e}"[:16]


def slice_positions(volume: CTVolume) -> np.ndarray:
    """ImagePositionPatient of every slice, ``[k, (x, y, z)]`` in LPS mm."""
    d = np.asarray(volume.direction, float).reshape(3, 3)
    k = np.arange(volume.shape[0])[:, None]
    return np.asarray(volume.origin, float)[None, :] + k * float(volume.spacing[2]) * d[:, 2][None]


def _meta_value(value: Any, vr: str) -> Any:
    """A kept technical value in the form its VR needs, or None when it does not fit."""
    try:
        if vr == "IS":
            return round(float(value))
        if vr == "DS":
            return _ds_number(float(value))
        if vr == "FD":
            return float(value)
    except (TypeError, ValueError):
        return None
    text = str(value).strip()
    return text[:64] if vr == "LO" else (text[:16] or None)


def ct_datasets(volume: CTVolume, *, study_uid: str, series_uid: str, patient_key: str,
                series_description: str | None = None, series_number: int = 1
                ) -> list[FileDataset]:
    """Build one CT Image Storage dataset per slice of ``volume``.

    Args:
        volume: HU voxels ``[z, y, x]`` and geometry (spacing/origin/direction, LPS).
        study_uid: pseudonymous StudyInstanceUID.
        series_uid: pseudonymous SeriesInstanceUID.
        patient_key: pseudonymous patient key (PatientID; PatientName ``LL^<first 16>``).
        series_description: kept only if given (already PHI-screened at ingest).

    Returns:
        Datasets in slice-index order, pixel data int16 HU (RescaleSlope 1, Intercept 0).
    """
    d = np.asarray(volume.direction, float).reshape(3, 3)
    orientation = [_ds_number(v) for v in (*d[:, 0], *d[:, 1])]
    positions = slice_positions(volume)
    sops = slice_uids(series_uid, volume.shape[0])
    for_uid = frame_of_reference_uid(series_uid)
    meta: dict[str, Any] = dict(volume.meta or {})
    contrast = str(meta.get("ContrastBolusAgent") or "")[:64]
    kept = {key: v for key, vr in KEPT_ACQUISITION
            if meta.get(key) not in (None, "") and (v := _meta_value(meta[key], vr)) is not None}
    position = str(meta.get("PatientPosition") or "")
    out = []
    for k in range(volume.shape[0]):
        fm = FileMetaDataset()
        fm.MediaStorageSOPClassUID = CTImageStorage
        fm.MediaStorageSOPInstanceUID = UID(sops[k])
        fm.TransferSyntaxUID = ExplicitVRLittleEndian
        fm.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        ds = FileDataset("", {}, file_meta=fm, preamble=b"\0" * 128)
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = sops[k]
        ds.PatientName = f"LL^{patient_key[:16]}"
        ds.PatientID = patient_key[:64]
        ds.PatientBirthDate = ""
        ds.PatientSex = ""
        mark_deidentified(ds, DEID_METHOD,
                          clean_descriptors=bool(series_description or contrast))
        ds.StudyInstanceUID = study_uid
        ds.StudyDate = ""
        ds.StudyTime = ""
        ds.ReferringPhysicianName = ""
        ds.StudyID = ""
        ds.AccessionNumber = ""
        ds.Modality = "CT"
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = series_number
        if "BodyPartExamined" not in kept:  # Type 2C: empty = unknown, as scanners write it
            ds.Laterality = ""  # (with a known, unpaired body part it is left out)
        ds.PatientPosition = position if position.isalpha() and len(position) <= 4 else ""
        if series_description:
            ds.SeriesDescription = str(series_description)[:64]
        ds.FrameOfReferenceUID = for_uid
        ds.PositionReferenceIndicator = ""
        ds.Manufacturer = str(meta.get("Manufacturer") or "")[:64]
        ds.SoftwareVersions = f"LungLab {__version__}"
        ds.InstanceNumber = k + 1
        ds.AcquisitionNumber = None  # Type 2: the source's is not kept
        ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
        ds.ImageComments = RESEARCH_USE_NOTICE[:10240]
        ds.PixelSpacing = [_ds_number(volume.spacing[1]), _ds_number(volume.spacing[0])]
        ds.SliceThickness = _ds_number(meta.get("SliceThickness") or volume.spacing[2])
        ds.ImageOrientationPatient = orientation
        ds.ImagePositionPatient = [_ds_number(v) for v in positions[k]]
        ds.SliceLocation = _ds_number(positions[k][2])
        if meta.get("KVP"):
            ds.KVP = _ds_number(float(meta["KVP"]))
        for key, value in kept.items():
            setattr(ds, key, value)
        if contrast:  # Contrast/Bolus module: kept only through ingest's PHI screen
            ds.ContrastBolusAgent = contrast
        if meta.get("ConvolutionKernel"):
            kernel = meta["ConvolutionKernel"]
            ds.ConvolutionKernel = kernel if isinstance(kernel, str) else list(kernel)
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = int(volume.shape[1]), int(volume.shape[2])
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        ds.PixelData = np.ascontiguousarray(volume.array[k], dtype="<i2").tobytes()
        out.append(ds)
    return out


def write_ct_series(datasets: Sequence[FileDataset], folder: Path) -> list[Path]:
    """Write datasets as ``CT000001.dcm``... into ``folder`` (created); return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, ds in enumerate(datasets, start=1):
        path = folder / f"CT{i:06d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_ct_nifti(volume: CTVolume, path: Path) -> Path:
    """Write the CT as gzip NIfTI (int16 HU, LPS geometry converted to the RAS affine)."""
    from lunglab.io.nifti import write_volume_nifti

    write_volume_nifti(volume, path)
    return path
