"""DICOM SEG of a LungLab label map, built with highdicom, and reading it back.

The SEG references the de-identified CT series that :mod:`lunglab.io.export.ct` exports
(same pseudonymous Study/Series/SOP Instance UIDs), so a PACS or viewer shows it on that
series. Segments (BINARY, they overlap):

1. **Lung**: the whole lung, every voxel labelled 1 to 3 (the README's definition of lung),
   so a reader gets a lung without holes where the lesions are;
2. **Ground-glass opacity**: label 2;
3. **Consolidation**: label 3.

Coding, standard codes only:

- Lung: SNOMED CT 39607008 "Lung", category SCT 91723000 "Anatomical Structure";
- GGO: DCM 112120 "Ground glass opacity" (PS3.16 CID 6102 / 6104), category SCT 49755003
  "Morphologically Abnormal Structure";
- Consolidation: SNOMED CT 95436008 "Lung consolidation", same category. No DICOM context
  group holds a consolidation concept; 95436008 is the SNOMED CT concept used for it (a
  "disorder" concept: there is no separate morphology code), so it replaces the private
  ``99LUNGLAB`` code earlier versions wrote.

:func:`read_seg_labels` composes the segments back into a label map: lung 1, then GGO 2 and
consolidation 3 on top, so a round trip gives back the same label map.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from lunglab.core.about import __version__
from lunglab.io.deid.method import DATES_REMOVED
from lunglab.io.export.ct import derived_uid

SEGMENTS = (
    (1, "Lung", codes.SCT.AnatomicalStructure, codes.SCT.Lung, (60, 141, 222)),
    (2, "Ground-glass opacity", codes.SCT.MorphologicallyAbnormalStructure,
     codes.DCM.GroundGlassOpacity, (242, 193, 46)),
    (3, "Consolidation", codes.SCT.MorphologicallyAbnormalStructure,
     hd.sr.CodedConcept("95436008", "SCT", "Lung consolidation"), (224, 64, 58)),
)
"""``(segment number, label, category, type, display colour)``; the numbers are label values."""
SEGMENT_LABELS = {1: (1, 2, 3), 2: (2,), 3: (3,)}
"""The label values each segment covers: the lung is every voxel labelled 1 to 3."""
ALGORITHM_TYPES = {"ai": "AUTOMATIC", "human": "MANUAL", "consensus": "MANUAL",
                   "imported": "MANUAL"}


def _descriptions(kind: str, model_name: str | None) -> list[hd.seg.SegmentDescription]:
    algo_type = ALGORITHM_TYPES.get(kind, "MANUAL")
    algo = None
    if algo_type == "AUTOMATIC":
        algo = hd.AlgorithmIdentificationSequence(
            name=(model_name or "LungLab model")[:64],
            family=codes.cid7162.ArtificialIntelligence, version=__version__)
    out = []
    for number, label, category, prop, rgb in SEGMENTS:
        out.append(hd.seg.SegmentDescription(
            segment_number=number, segment_label=label, segmented_property_category=category,
            segmented_property_type=prop, algorithm_type=algo_type,
            algorithm_identification=algo,
            display_color=hd.color.CIELabColor.from_rgb(*rgb)
            if hasattr(hd.color.CIELabColor, "from_rgb") else None,
        ))
    return out


def build_seg(labels: np.ndarray, ct: Sequence[Dataset], *, version_key: str,
              kind: str = "human", model_name: str | None = None,
              reader: str | None = None) -> hd.seg.Segmentation:
    """A binary DICOM SEG from a label map over the exported CT slices: segment 1 the whole
    lung (labels 1-3), 2 GGO, 3 consolidation (see :data:`SEGMENT_LABELS`).

    Args:
        labels: uint8 ``[z, y, x]``, values 0..3; ``labels[k]`` lies on ``ct[k]``.
        ct: the CT datasets of :func:`lunglab.io.export.ct.ct_datasets`, slice-index order.
        version_key: a stable id of the label-map version (e.g. ``"study-3-version-12"``):
            the SEG's Series and SOP Instance UIDs derive from it and the CT series UID, so
            re-exporting the same version gives the same UIDs.
        kind: ``ai`` (AUTOMATIC, with the model as algorithm) or a human kind (MANUAL).
        model_name: the model that made an ``ai`` label map.
        reader: the reader's user name (Content Creator's Name), for human kinds.

    Raises:
        ValueError: shape or values do not fit the CT.
    """
    labels = np.asarray(labels)
    if labels.ndim != 3 or labels.shape[0] != len(ct):
        raise ValueError(f"label map {labels.shape} does not match {len(ct)} CT slices")
    if labels.shape[1:] != (int(ct[0].Rows), int(ct[0].Columns)):
        raise ValueError(f"label map slices {labels.shape[1:]} differ from the CT's "
                         f"{(int(ct[0].Rows), int(ct[0].Columns))}")
    if labels.size and labels.max() > 3:
        raise ValueError("label values must be 0..3")
    series_uid = str(ct[0].SeriesInstanceUID)
    masks = np.stack([np.isin(labels, SEGMENT_LABELS[number]) for number, *_ in SEGMENTS],
                     axis=-1)  # [z, y, x, segment]: the lung overlaps the lesions
    seg = hd.seg.Segmentation(
        source_images=list(ct),
        pixel_array=masks,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=_descriptions(kind, model_name),
        series_instance_uid=derived_uid(series_uid, f"seg-series:{version_key}"),
        series_number=100,
        sop_instance_uid=derived_uid(series_uid, f"seg:{version_key}"),
        instance_number=1,
        manufacturer="LungLab",
        manufacturer_model_name="LungLab",
        software_versions=__version__,
        device_serial_number="0",
        content_label="LUNGLAB",
        content_description="Research use only - not for diagnosis",
        content_creator_name=(f"{reader[:60]}^" if reader and kind != "ai" else None),
        omit_empty_frames=True,
    )
    # highdicom copies the patient module (de-identification codes included) from the CT;
    # the series-level flag is the SEG's own
    seg.LongitudinalTemporalInformationModified = DATES_REMOVED
    return seg


def write_seg(seg: hd.seg.Segmentation, path: Path) -> Path:
    """Save the SEG as a DICOM file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    seg.save_as(path)
    return path


def read_seg_labels(path: Path, ct_sop_uids: Sequence[str]) -> np.ndarray:
    """Read a SEG back (highdicom) as a label map over the given CT slices.

    Args:
        path: the SEG file.
        ct_sop_uids: SOP Instance UIDs of the CT slices in slice-index order.

    Returns:
        uint8 ``[z, y, x]``: per voxel the highest segment number that covers it (0 where
        none), i.e. the label map the SEG was built from.
    """
    seg = hd.seg.segread(str(path))
    referenced = {uid for _, _, uid in seg.get_source_image_uids()}
    rows, cols = int(seg.Rows), int(seg.Columns)
    out = np.zeros((len(ct_sop_uids), rows, cols), np.uint8)
    present = [k for k, uid in enumerate(ct_sop_uids) if uid in referenced]
    if present:
        numbers = sorted(int(s.SegmentNumber) for s in seg.SegmentSequence)
        arr = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=[ct_sop_uids[k] for k in present],
            segment_numbers=numbers, combine_segments=False)  # [k, y, x, segment]
        composed = np.zeros(arr.shape[:3], np.uint8)
        for i, number in enumerate(numbers):  # lung first, lesions on top
            composed[arr[..., i] > 0] = number
        out[present] = composed
    return out
