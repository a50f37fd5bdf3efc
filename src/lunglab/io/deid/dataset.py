"""A fully de-identified copy of a DICOM dataset (PS3.15 Basic Application Confidentiality
Profile), used to export de-identified series as DICOM.

Actions come from :mod:`lunglab.io.deid.profile`; on top of the table, every private element,
curve (50xx) and overlay (60xx) group, every other person name, date and time, and every UID
not known to be a class or syntax UID is removed, emptied or pseudonymised, and unlisted short
texts that contain a token of the patient's identifying values are removed.
"""
from __future__ import annotations

import copy
import re
import warnings

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from lunglab.io.deid.pseudonyms import identifying_tokens, patient_key, pseudo_uid
from lunglab.io.deid.method import mark_deidentified
from lunglab.io.deid.profile import BASIC_PROFILE_BY_TAG

DEID_METHOD = ["LungLab: PS3.15 E.1-1 Basic Application Confidentiality",
               "private tags, curves and overlays removed"]
"""``DeidentificationMethod`` (LO, each value at most 64 characters)."""
#: UIDs that identify classes, syntaxes and coding schemes, never an instance: kept.
_SAFE_UID_KEYWORDS = frozenset({
    "SOPClassUID", "MediaStorageSOPClassUID", "TransferSyntaxUID", "ImplementationClassUID",
    "ReferencedSOPClassUID", "ReferencedSOPClassUIDInFile", "AffectedSOPClassUID",
    "CodingSchemeUID", "ContextUID", "MappingResourceUID", "RelatedGeneralSOPClassUID",
    "OriginalSpecializedSOPClassUID", "PrivateInformationCreatorUID",
    "EncryptedContentTransferSyntaxUID", "ReferencedTransferSyntaxUIDInFile",
})
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_FREE_TEXT_VRS = {"LO", "SH", "LT", "ST", "UT", "UC"}
_DUMMY = {"PN": "ANONYMIZED", "DA": "19000101", "TM": "000000", "DT": "19000101000000",
          "AS": "000Y", "DS": "0", "IS": "0"}
_FILE_META_REMOVE = {0x00020016, 0x00020017, 0x00020018}  # source/sending/receiving AE titles


def _is_curve_or_overlay(tag: int) -> bool:
    group = tag >> 16
    return 0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF


def _uid_value(value: object, secret: bytes) -> object:
    if isinstance(value, (list, tuple, MultiValue)):
        return [pseudo_uid(str(v), secret) for v in value]
    return pseudo_uid(str(value), secret) if value else value


def _dummy(elem: DataElement, secret: bytes) -> object:
    vr = str(elem.VR)
    if vr == "SQ":
        return Sequence([])
    if vr == "UI":
        return _uid_value(elem.value, secret)
    if vr in _DUMMY:
        return _DUMMY[vr]
    if vr in {"US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"}:
        return 0
    if vr in {"OB", "OW", "OF", "OD", "OL", "OV", "UN"}:
        return b""
    return "ANONYMIZED"


def _empty(elem: DataElement) -> object:
    return Sequence([]) if str(elem.VR) == "SQ" else None


class _Deidentifier:
    """One pass over a dataset tree, applying the profile in place."""

    def __init__(self, secret: bytes, forbidden: set[str], pkey: str) -> None:
        self.secret = secret
        self.forbidden = forbidden
        self.pkey = pkey

    def __call__(self, ds: Dataset, elem: DataElement) -> None:
        tag = int(elem.tag)
        if elem.tag.is_private or _is_curve_or_overlay(tag):
            del ds[elem.tag]
            return
        action = BASIC_PROFILE_BY_TAG.get(tag)
        if action is None:
            action = self._safety_net(elem)
        if action == "X":
            del ds[elem.tag]
        elif action == "Z":
            elem.value = self._zero(elem)
        elif action == "D":
            elem.value = _dummy(elem, self.secret)
        elif action == "U":
            elem.value = _uid_value(elem.value, self.secret)

    def _zero(self, elem: DataElement) -> object:
        if elem.keyword == "PatientID":
            return self.pkey
        if elem.keyword == "PatientName":
            return f"LL^{self.pkey[:16]}"
        return _empty(elem)

    def _safety_net(self, elem: DataElement) -> str | None:
        vr = str(elem.VR)
        if vr == "PN":
            return "Z"
        if vr in {"DA", "DT", "TM"}:
            return "X"
        if vr == "UI" and elem.keyword not in _SAFE_UID_KEYWORDS:
            return "U"
        if vr in _FREE_TEXT_VRS and elem.value and self.forbidden:
            text = str(elem.value).upper()
            if any(tok in self.forbidden for tok in _TOKEN.findall(text)):
                return "X"
        return None


def deidentify_dataset(ds: Dataset, project_secret: bytes) -> Dataset:
    """Return a de-identified deep copy of ``ds``; ``ds`` itself is not changed.

    UIDs are replaced by the same pseudonyms as :func:`lunglab.io.deid.pseudonyms.pseudo_uid`;
    PatientID becomes the pseudonymous patient key and PatientName ``LL^<key prefix>``.
    Pixel data is kept as is: check ``BurnedInAnnotation`` before sharing.

    Args:
        ds: a dataset read with its pixel data (deferred elements are loaded first).
        project_secret: the project's pseudonymisation key.

    Returns:
        The de-identified copy, with PatientIdentityRemoved = YES, DeidentificationMethod,
        DeidentificationMethodCodeSequence (DCM 113100) and
        LongitudinalTemporalInformationModified = REMOVED.
    """
    if "PixelData" in ds:
        _ = ds.PixelData  # load a deferred value before copying
    with warnings.catch_warnings():  # invalid values in the input must not flood the log
        warnings.simplefilter("ignore", UserWarning)
        forbidden = identifying_tokens(ds)
        pkey = patient_key(ds, project_secret)
        out = copy.deepcopy(ds)
        out.walk(_Deidentifier(project_secret, forbidden, pkey))
    meta = getattr(out, "file_meta", None)
    if meta is not None:
        for tag in list(meta.keys()):
            if int(tag) in _FILE_META_REMOVE:
                del meta[tag]
        if "MediaStorageSOPInstanceUID" in meta and "SOPInstanceUID" in out:
            meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    mark_deidentified(out, DEID_METHOD)  # dates removed, descriptors removed or emptied
    return out
