"""Result types of an upload scan (plain dataclasses, no I/O)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lunglab.domain.volume import CTVolume


@dataclass(frozen=True)
class Refusal:
    """An input (file, archive entry or whole series) that was not imported, and why.

    ``name`` is the client's relative file name, or a short series label; ``reason`` is meant
    for the user.
    """

    name: str
    reason: str


@dataclass
class ParsedSeries:
    """One CT volume found in an upload, de-identified and ready to store.

    Attributes:
        volume: HU voxels and geometry; ``volume.meta`` equals ``meta``.
        study_uid_pseudo: pseudonymous StudyInstanceUID (``2.25.<int>``), stable per project.
        series_uid_pseudo: pseudonymous SeriesInstanceUID: the duplicate-detection key.
        patient_key: pseudonymous patient key (hex), shared by the series of one patient.
        name: display name without PHI (modality, slice count, screened description).
        source_names: the client file names the series came from (may contain PHI: show them
            back to the uploader only, never store them).
        meta: whitelisted technical attributes (see ``DEID.md``).
        warnings: things the user should know (dropped duplicates, burned-in annotation...).
        slice_count: number of slices in the volume.
        kind: ``"dicom"``, ``"nifti"`` or ``"picture"`` (a PNG/JPEG radiograph).
        frame_of_reference_uid_pseudo: pseudonymous FrameOfReferenceUID (DICOM only).
        sop_instance_uids_pseudo: pseudonymous SOPInstanceUIDs in slice order (DICOM only; for
            a multi-frame object one per frame, from its SOP Instance UID + frame number).
    """

    volume: CTVolume
    study_uid_pseudo: str
    series_uid_pseudo: str
    patient_key: str
    name: str
    source_names: list[str]
    meta: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    slice_count: int = 0
    kind: Literal["dicom", "nifti", "picture"] = "dicom"
    frame_of_reference_uid_pseudo: str | None = None
    sop_instance_uids_pseudo: list[str] = field(default_factory=list)


@dataclass
class ScanResult:
    """Everything found in one upload: the series to import and the refused inputs."""

    series: list[ParsedSeries] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
