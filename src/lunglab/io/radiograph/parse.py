"""Turn CR/DX DICOM files and PNG/JPEG pictures into de-identified one-slice series.

DICOM: headers are read and grouped as for CT (:mod:`lunglab.io.dicom.series`); a group whose
modality is CR or DX becomes one radiograph per image (a chest series often holds a PA and a
lateral view), every other group goes the CT way. The same PS3.15 de-identification applies:
only whitelisted technical attributes are kept (``technical_meta``), identifiers become keyed
pseudonyms, BurnedInAnnotation = YES is a warning.

Pictures: only the pixels are kept (no text chunks, no EXIF); the study is keyed by a hash of
the pixels, like NIfTI input, and gets its own patient key.

Every radiograph is screened for burned-in text (:mod:`lunglab.imaging.burned_text`); regions
found are a warning and ``meta["TextRegions"]``, and are blacked out when
:attr:`RadiographOptions.black_out_text` is set.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lunglab.domain.errors import InvalidInput, TooLarge
from lunglab.domain.radiograph import PICTURE_MODALITY
from lunglab.domain.volume import CTVolume
from lunglab.imaging.burned_text import black_out, detect_text_regions
from lunglab.io.deid.pseudonyms import burned_in_warning, patient_key, pseudo_uid, technical_meta
from lunglab.io.dicom.header import SliceHeader, parse_floats
from lunglab.io.dicom.series import (
    DicomSeries,
    build_series,
    group_series,
    read_headers,
    series_label,
)
from lunglab.io.limits import UploadLimits
from lunglab.io.radiograph.pixels import (
    DisplayPixels,
    dicom_display_pixels,
    picture_display_pixels,
)
from lunglab.io.results import ParsedSeries, Refusal

DICOM_MODALITIES = frozenset({"CR", "DX"})
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


@dataclass(frozen=True)
class RadiographOptions:
    """How radiographs are imported.

    Attributes:
        black_out_text: fill suspected burned-in text regions with black before storing.
    """

    black_out_text: bool = False


def is_picture_file(path: Path) -> bool:
    """Whether a file starts like a PNG or a JPEG (the name is not trusted)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head.startswith(_PNG_MAGIC) or head.startswith(_JPEG_MAGIC)


def _screen_text(px: DisplayPixels, options: RadiographOptions, meta: dict,
                 warnings: list[str]) -> np.ndarray:
    regions = detect_text_regions(px.array)
    meta["TextRegions"] = [r.as_list() for r in regions]
    if not regions:
        return px.array
    if options.black_out_text:
        meta["TextRegionsBlackedOut"] = True
        warnings.append(f"{len(regions)} region(s) of suspected burned-in text near the border "
                        "were blacked out at import; check the image")
        return black_out(px.array, regions)
    warnings.append(f"suspected burned-in text in {len(regions)} region(s) near the border: "
                    "review the image before sharing it (or import with text black-out)")
    return px.array


def _volume(array2d: np.ndarray, spacing: tuple[float, float] | None) -> CTVolume:
    sy, sx = spacing or (1.0, 1.0)
    return CTVolume(np.ascontiguousarray(array2d[None]), (float(sx), float(sy), 1.0))


def _dicom_radiograph(h: SliceHeader, single: bool, secret: bytes,
                      options: RadiographOptions, limits: UploadLimits) -> ParsedSeries:
    ds = h.dataset
    if h.rows * h.cols > limits.max_voxels_per_series:
        raise TooLarge(f"{h.name}: {h.rows}x{h.cols} pixels, more than the limit of "
                       f"{limits.max_voxels_per_series}")
    px = dicom_display_pixels(ds, h.name)
    del ds["PixelData"]
    meta = technical_meta(ds)
    warnings = list(px.notes)
    burned = burned_in_warning(ds)
    if burned:
        warnings.append(burned)
    spacing = h.pixel_spacing or parse_floats(ds.get("ImagerPixelSpacing"), 2)
    if spacing is None:
        warnings.append("no pixel spacing in the file: sizes are in pixels")
    meta["RadiographWindow"] = [float(px.window[0]), float(px.window[1])]
    array = _screen_text(px, options, meta, warnings)
    vol = _volume(array, spacing)  # type: ignore[arg-type]
    vol.meta = dict(meta)
    # one study per image: the series UID when the series holds one image, else the image's
    series_key = h.series_uid if single else f"{h.series_uid}/{h.sop_uid}"
    modality = str(meta.get("Modality", h.modality))
    view = str(ds.get("ViewPosition", "") or "").upper()
    view = view if view in ("PA", "AP", "LL", "RL", "LAT", "LLD", "RLD") else ""
    if view:
        meta["ViewPosition"] = vol.meta["ViewPosition"] = view
    return ParsedSeries(
        volume=vol,
        study_uid_pseudo=pseudo_uid(h.study_uid, secret),
        series_uid_pseudo=pseudo_uid(series_key, secret),
        patient_key=patient_key(ds, secret),
        name=f"{modality} chest radiograph{' ' + view if view else ''}",
        source_names=[h.name],
        meta=meta,
        warnings=warnings,
        slice_count=1,
        kind="dicom",
        frame_of_reference_uid_pseudo=None,
        sop_instance_uids_pseudo=[pseudo_uid(h.sop_uid, secret)],
    )


def read_dicom_and_radiographs(
    files: Iterable[tuple[str, Path]], limits: UploadLimits, secret: bytes,
    options: RadiographOptions | None = None,
) -> tuple[list[DicomSeries], list[ParsedSeries], list[Refusal]]:
    """Read DICOM candidates: CT series the CT way, CR/DX images as radiographs.

    Returns:
        ``(CT series, radiographs, refusals)``.

    Raises:
        TooLarge: a series or image exceeds the limits.
    """
    options = options or RadiographOptions()
    headers, refused = read_headers(files)
    series: list[DicomSeries] = []
    radiographs: list[ParsedSeries] = []
    for group in group_series(headers):
        try:
            if {h.modality for h in group} <= DICOM_MODALITIES:
                unique = {h.sop_uid: h for h in group}
                for h in unique.values():
                    radiographs.append(_dicom_radiograph(h, len(unique) == 1, secret,
                                                         options, limits))
            else:
                series.append(build_series(group, limits))
        except InvalidInput as exc:
            text = str(exc)
            prefix = f"{exc.source}: " if exc.source else ""
            refused.append(Refusal(exc.source or series_label(group),
                                   text.removeprefix(prefix)))
    return series, radiographs, refused


def parse_picture(name: str, path: Path, secret: bytes, limits: UploadLimits,
                  options: RadiographOptions | None = None) -> ParsedSeries:
    """Read a PNG or JPEG radiograph into a de-identified one-slice series.

    Raises:
        InvalidInput: unreadable picture.
        TooLarge: more pixels than the limit.
    """
    from PIL import Image, UnidentifiedImageError

    options = options or RadiographOptions()
    try:
        with Image.open(path) as img:
            w, h = img.size
            if w * h > limits.max_voxels_per_series:
                raise TooLarge(f"{name}: {w}x{h} pixels, more than the limit of "
                               f"{limits.max_voxels_per_series}")
            kind = (img.format or "picture").upper()
            img.load()
            px = picture_display_pixels(img, name)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"unreadable picture ({type(exc).__name__})", name) from None
    warnings = [*px.notes, "picture input: no DICOM header, so the patient is unknown and this "
                "radiograph gets its own patient key; sizes are in pixels"]
    meta: dict = {"Modality": PICTURE_MODALITY, "PictureFormat": kind,
                  "RadiographWindow": [float(px.window[0]), float(px.window[1])]}
    array = _screen_text(px, options, meta, warnings)
    content = hashlib.sha256(px.array.tobytes() + repr(px.array.shape).encode()).hexdigest()
    vol = _volume(array, None)
    vol.meta = dict(meta)
    return ParsedSeries(
        volume=vol,
        study_uid_pseudo=pseudo_uid("picture-study:" + content, secret),
        series_uid_pseudo=pseudo_uid("picture-series:" + content, secret),
        patient_key=hmac.new(secret, b"patient:picture:" + content.encode(),
                             hashlib.sha256).hexdigest()[:32],
        name=f"{PICTURE_MODALITY} chest radiograph ({kind} {content[:6]})",
        source_names=[name],
        meta=meta,
        warnings=warnings,
        slice_count=1,
        kind="picture",
    )
