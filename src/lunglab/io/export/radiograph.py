"""Export a stored radiograph as a de-identified CR/DX DICOM image, and its masks as PNG.

Like the CT export (:mod:`lunglab.io.export.ct`), the image is rebuilt from what LungLab
stores: the display pixels (MONOCHROME2, brighter = denser), the default window, the
pseudonymous Study/Series UIDs and patient key. Its SOP Instance UID derives from the series
UID, so every export of a study gives the same UID and a DICOM SEG
(:func:`lunglab.io.export.seg.build_seg`, one frame) references it.
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

from lunglab.core.about import RESEARCH_USE_NOTICE, __version__
from lunglab.io.deid.method import mark_deidentified
from lunglab.io.export.ct import derived_uid

CR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
DX_PRESENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"
DEID_METHOD = ["LungLab: re-encoded from the de-identified store",
               "PS3.15 Basic Application Confidentiality Profile"]


def _ds(value: float) -> str:
    return f"{value:.6g}"[:16]


def radiograph_dataset(image: np.ndarray, meta: dict[str, Any], *, study_uid: str,
                       series_uid: str, patient_key: str,
                       spacing: tuple[float, float] | None = None) -> FileDataset:
    """One CR (or DX For Presentation) dataset of a stored radiograph.

    Args:
        image: int16 ``(rows, columns)``, brighter = denser.
        meta: the study's technical attributes (``Modality``, ``RadiographWindow``, ...).
        study_uid, series_uid: pseudonymous UIDs of the study.
        patient_key: pseudonymous patient key.
        spacing: ``(row, column)`` pixel spacing in mm, if known.
    """
    modality = "DX" if meta.get("Modality") == "DX" else "CR"
    sop_class = DX_PRESENTATION_STORAGE if modality == "DX" else CR_IMAGE_STORAGE
    sop_uid = derived_uid(series_uid, "radiograph:0")
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = UID(sop_class)
    fm.MediaStorageSOPInstanceUID = UID(sop_uid)
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    fm.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset("", {}, file_meta=fm, preamble=b"\0" * 128)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.PatientName, ds.PatientID = f"LL^{patient_key[:16]}", patient_key[:64]
    ds.PatientBirthDate = ds.PatientSex = ""
    mark_deidentified(ds, DEID_METHOD)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.StudyDate = ds.StudyTime = ds.ReferringPhysicianName = ds.StudyID = ""
    ds.AccessionNumber = ""
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, 1, 1
    ds.Manufacturer = str(meta.get("Manufacturer") or "")[:64]
    ds.SoftwareVersions = f"LungLab {__version__}"
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = str(meta.get("ViewPosition") or "")[:16]
    ds.PatientOrientation = ""
    ds.ImageLaterality = "U" if modality == "DX" else None
    ds.Laterality = None if modality == "DX" else ""
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.ImageComments = RESEARCH_USE_NOTICE[:10240]
    if modality == "DX":
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.PresentationLUTShape = "IDENTITY"
        ds.DetectorType = ""
        ds.BurnedInAnnotation = "NO" if meta.get("TextRegionsBlackedOut") else "YES"
    if spacing is not None:
        ds.ImagerPixelSpacing = [_ds(spacing[0]), _ds(spacing[1])]
    lo = int(image.min())
    pixels = (image.astype(np.int32) - lo).clip(0, 65535).astype(np.uint16)
    ds.Rows, ds.Columns = (int(v) for v in image.shape)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = "1", str(lo), "US"
    window = meta.get("RadiographWindow")
    if window:
        ds.WindowCenter, ds.WindowWidth = _ds(float(window[0])), _ds(max(1.0, float(window[1])))
    ds.PixelData = pixels.tobytes()
    for keyword in [k for k in ("ImageLaterality", "Laterality") if ds.get(k) is None]:
        if keyword in ds:
            del ds[keyword]
    return ds


def mask_png(labels: np.ndarray) -> bytes:
    """A label map of one radiograph as an 8-bit PNG whose pixel values are the labels
    (0 background, 1 lung, 2 GGO-like hazy opacity, 3 consolidation).

    Raises:
        ValueError: not a single 2D plane.
    """
    from PIL import Image

    plane = np.asarray(labels)
    if plane.ndim == 3 and plane.shape[0] == 1:
        plane = plane[0]
    if plane.ndim != 2:
        raise ValueError(f"a radiograph mask is one plane, not {plane.shape}")
    buf = io.BytesIO()
    Image.fromarray(plane.astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()
