"""How a de-identified dataset says what was done to it (PS3.15 Annex E, PS3.3 C.7.1.1).

Every de-identified object LungLab writes carries ``PatientIdentityRemoved`` YES,
``DeidentificationMethod`` (text), ``DeidentificationMethodCodeSequence`` (the PS3.15 profile
and the options actually applied, CID 7050) and ``LongitudinalTemporalInformationModified``.

What LungLab applies, honestly:

- DCM 113100 Basic Application Confidentiality Profile: always (UIDs pseudonymised, patient
  and study identifiers replaced, private elements, curves and overlays removed).
- DCM 113105 Clean Descriptors Option: only when an object carries a descriptor the basic
  profile would remove (``SeriesDescription``, ``ContrastBolusAgent``) that ingest kept after
  its PHI screen (``lunglab/io/deid/DEID.md``). The screen keeps a value only when it passes
  every check, and drops it otherwise; it never edits a value.
- No retain option (113101-113111 other than the above) is claimed: dates are removed
  (``LongitudinalTemporalInformationModified`` REMOVED), patient characteristics and device
  and institution identity are not kept, pixels are not cleaned.
"""
from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

BASIC_PROFILE = ("113100", "Basic Application Confidentiality Profile")
CLEAN_DESCRIPTORS = ("113105", "Clean Descriptors Option")
DATES_REMOVED = "REMOVED"
"""``LongitudinalTemporalInformationModified``: dates and times are removed, not shifted."""


def method_codes(*, clean_descriptors: bool = False) -> Sequence:
    """``DeidentificationMethodCodeSequence`` items (DCM, CID 7050) for what was applied.

    Args:
        clean_descriptors: a screened descriptor (e.g. ``SeriesDescription``) is kept.

    Example:
        >>> [c.CodeValue for c in method_codes(clean_descriptors=True)]
        ['113100', '113105']
    """
    items = []
    for value, meaning in (BASIC_PROFILE, *((CLEAN_DESCRIPTORS,) if clean_descriptors else ())):
        code = Dataset()
        code.CodeValue = value
        code.CodingSchemeDesignator = "DCM"
        code.CodeMeaning = meaning
        items.append(code)
    return Sequence(items)


def mark_deidentified(ds: Dataset, method: str | list[str], *,
                      clean_descriptors: bool = False) -> None:
    """Set the de-identification attributes on ``ds`` (in place).

    Args:
        ds: the dataset to mark.
        method: ``DeidentificationMethod`` (LO, 1-n: each value at most 64 characters).
        clean_descriptors: see :func:`method_codes`.
    """
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = method
    ds.DeidentificationMethodCodeSequence = method_codes(clean_descriptors=clean_descriptors)
    ds.LongitudinalTemporalInformationModified = DATES_REMOVED
