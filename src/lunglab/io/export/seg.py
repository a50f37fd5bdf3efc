"""DICOM SEG of a LungLab label map, built with highdicom, and reading it back.

The SEG references the de-identified CT series that :mod:`lunglab.io.export.ct` exports
(same pseudonymous Study/Series/SOP Instance UIDs), so a PACS or viewer shows it on that
series. Segments: 1 lung (parenchyma without lesion), 2 ground-glass opacity,
3 consolidation, the same numbers as the label values.

Coding: the lung uses SNOMED CT 39607008 "Lung" (category 91723000 "Anatomical Structure").
GGO and consolidation use category SNOMED CT 49755003 "Morphologically Abnormal Structure"
and, for the type, codes of the local scheme ``99LUNGLAB`` (a private coding scheme as
DICOM allows) because the SNOMED codes could not be verified offline; readers should rely
on the segment number and label.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from lunglab.core.about import __version__
from lunglab.io.export.ct import derived_uid

LOCAL_SCHEME = "99LUNGLAB"
SEGMENTS = (
    (1, "Lung", codes.SCT.AnatomicalStructure, codes.SCT.Lung, (60, 141, 222)),
    (2, "Ground-glass opacity", codes.SCT.MorphologicallyAbnormalStructure,
     hd.sr.CodedConcept("GGO", LOCAL_SCHEME, "Ground-glass opacity"), (242, 193, 46)),
    (3, "Consolidation", codes.SCT.MorphologicallyAbnormalStructure,
     hd.sr.CodedConcept("CONS", LOCAL_SCHEME, "Consolidation"), (224, 64, 58)),
)
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
    """A binary DICOM SEG with segments 1-3 from a label map over the exported CT slices.

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
    return hd.seg.Segmentation(
        source_images=list(ct),
        pixel_array=np.ascontiguousarray(labels, dtype=np.uint8),
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
        uint8 ``[z, y, x]`` with the segment number of each voxel (0 where none).
    """
    seg = hd.seg.segread(str(path))
    referenced = {uid for _, _, uid in seg.get_source_image_uids()}
    rows, cols = int(seg.Rows), int(seg.Columns)
    out = np.zeros((len(ct_sop_uids), rows, cols), np.uint8)
    present = [k for k, uid in enumerate(ct_sop_uids) if uid in referenced]
    if present:
        arr = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=[ct_sop_uids[k] for k in present],
            combine_segments=True, skip_overlap_checks=False)
        out[present] = arr.astype(np.uint8)
    return out
