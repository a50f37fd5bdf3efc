"""Write a dataset in the nnU-Net v2 / Medical Segmentation Decathlon layout.

Layout (``<root>/<name>/``)::

    imagesTr/<case>_0000.nii.gz   CT (int16 HU), nnU-Net's channel suffix
    labelsTr/<case>.nii.gz        uint8 labels 0 background, 1 lung, 2 GGO, 3 consolidation
    imagesTs/<case>_0000.nii.gz   test split (and studies without a label map)
    labelsTs/<case>.nii.gz        labels of labelled test cases (nnU-Net keeps them apart too)
    dataset.json                  MSD keys (training/test lists) + nnU-Net v2 keys
    splits_final.json             the frozen train/validation split as nnU-Net's fold 0
    README.txt                    provenance and the research-use notice

The split is *frozen*: a case's split depends only on its patient key and the fractions, so
adding studies never moves existing ones, and all studies of a patient share one split.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lunglab.core.about import RESEARCH_USE_NOTICE, __version__
from lunglab.domain.labels import SHORT_NAMES, Label
from lunglab.domain.volume import CTVolume

LABELS = {"background": int(Label.BACKGROUND), **{n: v for v, n in SHORT_NAMES.items()}}
VAL_FRACTION = 0.2
TEST_FRACTION = 0.1


def frozen_split(patient_key: str, *, val_fraction: float = VAL_FRACTION,
                 test_fraction: float = TEST_FRACTION) -> str:
    """``"train"``, ``"val"`` or ``"test"`` from a hash of the pseudonymous patient key.

    Example:
        >>> frozen_split("abc") == frozen_split("abc")
        True
    """
    digest = hashlib.sha256(f"lunglab-split:{patient_key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < test_fraction:
        return "test"
    if u < test_fraction + val_fraction:
        return "val"
    return "train"


@dataclass
class DatasetCase:
    """One study to export.

    Args:
        case_id: file stem, e.g. ``"lunglab_0003"`` (letters, digits, ``_`` and ``-``).
        load: returns ``(ct, labels or None)`` when the case is written (keeps memory low).
        split: ``train``, ``val`` or ``test``.
        info: provenance recorded in ``dataset.json`` (study id, version id, kind...).
    """

    case_id: str
    load: Callable[[], tuple[CTVolume, np.ndarray | None]]
    split: str
    info: dict[str, Any] = field(default_factory=dict)


def _write_labels(labels: np.ndarray, like: CTVolume, path: Path) -> None:
    from lunglab.io.nifti import write_labelmap_nifti

    write_labelmap_nifti(np.ascontiguousarray(labels, np.uint8), like, path)


def write_decathlon(root: Path, name: str, cases: Iterable[DatasetCase], *,
                    description: str = "", licence: str = "see README.txt",
                    reference: str = "LungLab export", val_fraction: float = VAL_FRACTION,
                    test_fraction: float = TEST_FRACTION) -> Path:
    """Write the cases into ``root/name`` and return that folder.

    Args:
        root: parent folder (created).
        name: dataset folder name, e.g. ``"Dataset501_COVID"`` (nnU-Net's pattern).
        cases: the cases; each is loaded, written and released in turn.

    Raises:
        ValueError: a bad case id, a duplicate case id or an unknown split.
    """
    from lunglab.io.export.ct import write_ct_nifti

    out = root / name
    for sub in ("imagesTr", "labelsTr", "imagesTs", "labelsTs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    training, test, records = [], [], []
    fold: dict[str, list[str]] = {"train": [], "val": []}
    seen: set[str] = set()
    for case in cases:
        cid = case.case_id
        if not cid.replace("_", "").replace("-", "").isalnum() or cid in seen:
            raise ValueError(f"bad or duplicate case id {cid!r}")
        if case.split not in ("train", "val", "test"):
            raise ValueError(f"unknown split {case.split!r}")
        seen.add(cid)
        ct, labels = case.load()
        labelled = labels is not None
        in_training = labelled and case.split != "test"
        img_dir, lab_dir = ("imagesTr", "labelsTr") if in_training else ("imagesTs", "labelsTs")
        image = f"./{img_dir}/{cid}_0000.nii.gz"
        write_ct_nifti(ct, out / image)
        label = None
        if labelled:
            label = f"./{lab_dir}/{cid}.nii.gz"
            _write_labels(labels, ct, out / label)  # type: ignore[arg-type]
        if in_training:
            training.append({"image": image, "label": label})
            fold["train" if case.split == "train" else "val"].append(cid)
        else:
            test.append(image)
        records.append({"case": cid, "split": case.split if labelled else "unlabelled",
                        "image": image, "label": label, **case.info})
        del ct, labels
    meta = {
        "name": name,
        "description": description or "LungLab export: lung, GGO and consolidation label maps",
        "reference": reference,
        "licence": licence,
        "release": f"LungLab {__version__}",
        "tensorImageSize": "3D",
        "modality": {"0": "CT"},
        "channel_names": {"0": "CT"},
        "labels": LABELS,
        "numTraining": len(training),
        "numTest": len(test),
        "file_ending": ".nii.gz",
        "training": training,
        "test": test,
        "lunglab": {
            "research_use_only": RESEARCH_USE_NOTICE,
            "split": {"method": "sha256 of the pseudonymous patient key (frozen)",
                      "val_fraction": val_fraction, "test_fraction": test_fraction},
            "cases": records,
        },
    }
    (out / "dataset.json").write_text(json.dumps(meta, indent=2))
    (out / "splits_final.json").write_text(json.dumps([fold], indent=2))
    (out / "README.txt").write_text(
        f"{name}\n\n{RESEARCH_USE_NOTICE}\n\nExported by LungLab {__version__}. De-identified CT "
        "(pseudonymous keys only). Labels: 0 background, 1 lung, 2 ground-glass opacity, "
        "3 consolidation. The train/val/test split is frozen (hash of the patient key); "
        "splits_final.json is nnU-Net's fold 0. Check the licence of the source images before "
        "sharing.\n")
    return out
