"""Synthetic chest radiographs for tests: CR/DX DICOM files and PNG pictures (no pytest import).

The image is a crude chest: dark air outside, a bright body, two darker lung fields, and,
when asked, a line of burned-in "text" (bright L-shaped glyphs with a dark outline) near the
top-left corner, as burned-in annotation looks on real radiographs.

Example:
    >>> r = make_radiograph(tmp_path / "cr.dcm", photometric="MONOCHROME1")  # doctest: +SKIP
    >>> r.display  # what a correct reader shows, brighter = denser  # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CR_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
DX_PRESENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"
TEXT_BOX = (8, 8, 34, 80)  # y0, x0, y1, x1 of the planted text (256 x 320 image)


def chest_picture(shape: tuple[int, int] = (256, 320), *, text: bool = False,
                  top: int = 4000) -> np.ndarray:
    """Display values (0..top, brighter = denser) of a synthetic chest radiograph."""
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    img = np.full(shape, 0.05 * top)
    body = ((yy - ny * 0.55) / (ny * 0.5)) ** 2 + ((xx - nx / 2) / (nx * 0.42)) ** 2 < 1
    img[body] = 0.6 * top
    for cx in (0.33, 0.67):
        lung = ((yy - ny * 0.5) / (ny * 0.3)) ** 2 + ((xx - nx * cx) / (nx * 0.13)) ** 2 < 1
        img[lung] = 0.25 * top
    img += np.random.default_rng(0).normal(0, 0.01 * top, shape)
    if text:
        y0, x0, y1, x1 = TEXT_BOX
        img[y0:y1, x0:x1] = 0.02 * top  # the dark label background / outline
        for k in range(5):  # five L-shaped glyphs, 14 px high
            gx = x0 + 4 + 14 * k
            img[y0 + 6:y0 + 20, gx:gx + 3] = top
            img[y0 + 17:y0 + 20, gx:gx + 9] = top
    return np.clip(img, 0, top).round()


def picture_png(path: Path, shape: tuple[int, int] = (256, 320), *, text: bool = False,
                rgb: bool = True) -> np.ndarray:
    """Write an 8-bit PNG radiograph (RGB grey, like the Actualmed files); returns its grey."""
    from PIL import Image

    grey = (chest_picture(shape, text=text, top=255)).astype(np.uint8)
    img = Image.fromarray(np.stack([grey] * 3, -1) if rgb else grey)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return grey


@dataclass
class FactoryRadiograph:
    """A written radiograph and what a correct reader must show."""

    path: Path
    display: np.ndarray  # int16, brighter = denser, after modality LUT (and VOI LUT if any)
    window: tuple[float, float] | None  # the default window a reader should offer
    study_uid: str
    series_uid: str
    sop_uid: str


def make_radiograph(path: Path, *, modality: str = "DX", photometric: str = "MONOCHROME2",
                    shape: tuple[int, int] = (256, 320), window: tuple[float, float] | None
                    = (2000.0, 3000.0), voi_lut: bool = False, text: bool = False,
                    rescale: tuple[float, float] = (1.0, 0.0), burned_in: str | None = None,
                    series_uid: str | None = None, study_uid: str | None = None,
                    patient_id: str = "PAT-0042", patient_name: str = "Doe^John",
                    view: str = "PA") -> FactoryRadiograph:
    """Write one CR or DX image (12-bit, uncompressed) and return the expected display.

    Args:
        modality: ``CR`` (CR Image Storage) or ``DX`` (Digital X-Ray, For Presentation).
        photometric: ``MONOCHROME1`` stores ``4095 - display`` (minimum is white).
        window: Window Center/Width (in modality values, as the file's photometric), or None.
        voi_lut: add a VOI LUT Sequence (a gamma-like LUT to 0..1023) instead of the window.
        text: plant burned-in text near the top-left corner.
        rescale: Rescale Slope/Intercept written to the file.
        burned_in: BurnedInAnnotation value, if any.
    """
    display = chest_picture(shape, text=text, top=4000.0)
    stored = 4095 - display if photometric == "MONOCHROME1" else display.copy()
    slope, intercept = rescale
    stored = np.rint((stored - intercept) / slope).astype(np.uint16)
    modality_values = stored * slope + intercept
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sop_class = CR_STORAGE if modality == "CR" else DX_PRESENTATION_STORAGE
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.Modality = modality
    ds.PatientID, ds.PatientName, ds.PatientBirthDate = patient_id, patient_name, "19600101"
    ds.StudyDate, ds.InstitutionName = "20200320", "General Hospital"
    ds.Manufacturer, ds.BodyPartExamined, ds.ViewPosition = "ACME", "CHEST", view
    ds.ImagerPixelSpacing = ["0.15", "0.15"]
    if burned_in:
        ds.BurnedInAnnotation = burned_in
    ds.Rows, ds.Columns = shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept = f"{slope:g}", f"{intercept:g}"
    expected_window = None
    if voi_lut:
        item = Dataset()
        lut = np.rint(1023 * (np.arange(4096) / 4095.0) ** 0.5).astype(np.uint16)
        item.LUTDescriptor = [4096, 0, 16]  # 16-bit entries (8-bit ones are read packed)
        item.add_new(0x00283006, "US", lut.tolist())  # LUTData, US for explicit VR
        ds.VOILUTSequence = DicomSequence([item])
        values = lut[np.clip(np.rint(modality_values), 0, 4095).astype(int)].astype(float)
    else:
        values = modality_values.astype(float)
        if window is not None:
            ds.WindowCenter, ds.WindowWidth = f"{window[0]:g}", f"{window[1]:g}"
            expected_window = window
    if photometric == "MONOCHROME1":
        lo, hi = values.min(), values.max()
        values = lo + hi - values
        if expected_window is not None:
            expected_window = (lo + hi - expected_window[0], expected_window[1])
    ds.PixelData = stored.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return FactoryRadiograph(path, np.rint(values).astype(np.int16), expected_window,
                             ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
