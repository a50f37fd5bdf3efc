"""De-identification of what ingest keeps: pseudonyms and whitelisted technical attributes.

Ingest keeps only the volume (pixels + geometry) and the attributes in :data:`TECHNICAL_KEYWORDS`
(values screened by :func:`is_phi_free`). Identifiers are replaced by keyed pseudonyms:

- UIDs -> ``2.25.<int>`` from HMAC-SHA256(project secret, "uid:" + UID), 128 bits;
- patient -> hex key from HMAC-SHA256(project secret, PatientID + IssuerOfPatientID), or of
  PatientName + PatientBirthDate when there is no ID, or of the StudyInstanceUID when there is
  neither (then every study counts as its own patient).

The same secret gives the same pseudonyms, so a re-upload is recognised as a duplicate and two
series of one patient share a key, while the key cannot be turned back into an identity
without the secret. See ``DEID.md``; the full-dataset profile is in :mod:`lunglab.io.deid.dataset`.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydicom.dataset import Dataset

#: Technical attributes kept in ``meta`` (values still go through :func:`is_phi_free`).
TECHNICAL_KEYWORDS: tuple[str, ...] = (
    "Modality",
    "Manufacturer",
    "ManufacturerModelName",
    "ConvolutionKernel",
    "KVP",
    "XRayTubeCurrent",
    "Exposure",
    "ExposureTime",
    "CTDIvol",
    "SliceThickness",
    "SpacingBetweenSlices",
    "ReconstructionDiameter",
    "BodyPartExamined",
    "PatientPosition",
    "ImageType",
    "ContrastBolusAgent",
    "RescaleType",
    "PhotometricInterpretation",
    "BitsStored",
    "BurnedInAnnotation",
    "SeriesDescription",
)
#: Free-text attributes: kept only when they pass the PHI screen, else dropped.
FREE_TEXT_KEYWORDS = frozenset({"SeriesDescription", "ContrastBolusAgent", "BodyPartExamined"})

#: Attributes whose values must never appear in kept text (compared token by token).
IDENTIFYING_KEYWORDS: tuple[str, ...] = (
    "PatientName", "PatientID", "OtherPatientIDs", "OtherPatientNames", "PatientBirthDate",
    "PatientBirthName", "PatientMotherBirthName", "PatientAddress", "PatientTelephoneNumbers",
    "IssuerOfPatientID", "AccessionNumber", "StudyID", "InstitutionName", "InstitutionAddress",
    "InstitutionalDepartmentName", "StationName", "ReferringPhysicianName",
    "PerformingPhysicianName", "NameOfPhysiciansReadingStudy", "OperatorsName",
    "PhysiciansOfRecord", "RequestingPhysician", "StudyDate", "SeriesDate", "AcquisitionDate",
    "ContentDate", "DeviceSerialNumber",
    "AdmissionID", "MedicalRecordLocator",
)

_MAX_TEXT = 64
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9 .,_+\-/()\[\]:%#&*=<>]*$")
_DATE_LIKE = re.compile(
    r"(19|20)\d{2}[-./]?(0[1-9]|1[0-2])[-./]?(0[1-9]|[12]\d|3[01])"
    r"|\b\d{1,2}[-./]\d{1,2}[-./]\d{2,4}\b"
)
_LONG_NUMBER = re.compile(r"\d{5,}")
_TOKEN = re.compile(r"[A-Za-z0-9]+")


def pseudo_uid(uid: str, secret: bytes) -> str:
    """Replace a UID by a deterministic ``2.25.<int>`` pseudonym (at most 44 characters).

    Example:
        >>> pseudo_uid("1.2.3", b"k") == pseudo_uid("1.2.3", b"k")
        True
    """
    digest = hmac.new(secret, b"uid:" + uid.strip().encode(), hashlib.sha256).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def _text(ds: Dataset, keyword: str) -> str:
    try:
        value = ds.get(keyword)
    except Exception:  # malformed values count as absent
        return ""
    return "" if value is None else str(value).strip()


def patient_key(ds: Dataset, secret: bytes) -> str:
    """Pseudonymous patient key (32 hex characters) for the patient of ``ds``.

    Uses PatientID + IssuerOfPatientID; PatientName + PatientBirthDate when there is no ID;
    the StudyInstanceUID when neither exists.
    """
    pid = _text(ds, "PatientID")
    if pid:
        basis = "id:" + pid + "\x00" + _text(ds, "IssuerOfPatientID")
    else:
        pname = re.sub(r"\s+", " ", _text(ds, "PatientName").upper())
        birth = _text(ds, "PatientBirthDate")
        basis = ("name:" + pname + "\x00" + birth if pname
                 else "study:" + _text(ds, "StudyInstanceUID"))
    return hmac.new(secret, b"patient:" + basis.encode(), hashlib.sha256).hexdigest()[:32]


def identifying_tokens(ds: Dataset) -> set[str]:
    """Upper-case tokens (3+ characters) of the identifying attributes of ``ds``."""
    tokens: set[str] = set()
    for keyword in IDENTIFYING_KEYWORDS:
        for token in _TOKEN.findall(_text(ds, keyword)):
            if len(token) >= 3:
                tokens.add(token.upper())
    return tokens


def is_phi_free(text: str, forbidden: Iterable[str] = ()) -> bool:
    """Screen a short free-text value for PHI.

    Refuses long texts, characters outside a plain set, date-like and long-number patterns
    (dates, record numbers) and any token found in ``forbidden`` (the identifying values of the
    same dataset, upper-case).
    """
    if len(text) > _MAX_TEXT or not _SAFE_TEXT.match(text):
        return False
    if _DATE_LIKE.search(text) or _LONG_NUMBER.search(text) or "@" in text:
        return False
    forbidden = set(forbidden)
    return not any(tok.upper() in forbidden for tok in _TOKEN.findall(text))


def _plain(value: Any) -> Any:
    """Convert a pydicom value to JSON-friendly Python (str, int, float or a list of them)."""
    if isinstance(value, bytes):
        raise TypeError("binary value")
    if isinstance(value, str):
        return str(value).strip()
    if hasattr(value, "__iter__"):
        return [_plain(v) for v in value]
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (float, Decimal)):
        return float(value)
    return str(value).strip()


def _plain_or_none(ds: Dataset, keyword: str) -> Any:
    """The plain value of one attribute, or None when absent or malformed."""
    try:
        value = ds.get(keyword)
        return None if value is None else _plain(value)
    except Exception:  # malformed values count as absent
        return None


def technical_meta(ds: Dataset) -> dict[str, Any]:
    """Whitelisted technical attributes of ``ds``, screened for PHI.

    Returns:
        ``{keyword: value}`` for the attributes of :data:`TECHNICAL_KEYWORDS` that are present
        and pass :func:`is_phi_free`; nothing else.
    """
    forbidden = identifying_tokens(ds)
    meta: dict[str, Any] = {}
    for keyword in TECHNICAL_KEYWORDS:
        plain = _plain_or_none(ds, keyword)
        if plain is None or plain == "" or plain == []:
            continue
        values = plain if isinstance(plain, list) else [plain]
        # numbers (kVp, mA, mm) cannot carry names; screening them would only drop a kVp of
        # 120 because some identifier happens to contain "120"
        texts = [v for v in values if isinstance(v, str)]
        if all(is_phi_free(t, forbidden) for t in texts):
            meta[keyword] = plain
    return meta


def burned_in_warning(ds: Dataset) -> str | None:
    """A warning when the images say they have burned-in annotation (text in the pixels)."""
    if _text(ds, "BurnedInAnnotation").upper() == "YES":
        return ("BurnedInAnnotation is YES: the pixels may show patient text; "
                "check the images before sharing them")
    return None
