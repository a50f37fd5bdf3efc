"""Blind-test metrics of a model on labelled MedSeg slices, through the full segment pipeline.

Each slice is segmented exactly as the blind test does it: a single-slice HU volume with
0.75 mm pixels and 5 mm slices.

Example:
    python -m lunglab.ml.evaluate --model lunglab-lesion2d-v1
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from lunglab.domain.volume import CTVolume
from lunglab.imaging.metrics import slice_scores
from lunglab.ml.dataset import MEDSEG_PIXEL_MM, MEDSEG_SLICE_MM, LabelledSlice, load_slice
from lunglab.ml.inference import Segmenter


def medseg_volume(item: LabelledSlice) -> CTVolume:
    """The single-slice HU volume the blind test builds from a MedSeg slice."""
    hu = np.rint(item.hu).astype(np.int16)[None]
    return CTVolume(hu, (MEDSEG_PIXEL_MM, MEDSEG_PIXEL_MM, MEDSEG_SLICE_MM))


def aggregate(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Blind-test aggregation of per-slice scores.

    Infection Dice is the mean over slices with reference infection; GGO and consolidation
    Dice are means over slices where the reference has that class; lesion coverage is the
    share of all reference lesion pixels inside the predicted lung.
    """
    def mean_where(key: str, present: str) -> float:
        vals = [r[key] for r in rows if r[present] > 0]
        return float(np.mean([0.0 if np.isnan(v) else v for v in vals])) if vals else float("nan")

    covered = sum(r["covered"] for r in rows)
    total = sum(r["lesion_pixels"] for r in rows)
    return {
        "infection_dice": mean_where("infection", "lesion_pixels"),
        "ggo_dice": mean_where("ggo", "ggo_pixels"),
        "consolidation_dice": mean_where("consolidation", "cons_pixels"),
        "lesion_in_lung": covered / total if total else float("nan"),
        "slices": float(len(rows)),
    }


def score_slice(segmenter: Segmenter, item: LabelledSlice) -> dict[str, Any]:
    """Segment one labelled slice as the blind test does and score it (one row of
    :func:`aggregate`)."""
    pred, _ = segmenter(medseg_volume(item))
    row: dict[str, Any] = slice_scores(pred[0], item.labels)
    row.update(id=item.case_id, ggo_pixels=float((item.labels == 2).sum()),
               cons_pixels=float((item.labels == 3).sum()))
    return row


def evaluate(ids: Sequence[str], model: str | None = None, device: str = "cpu",
             tta: bool | None = None) -> dict:
    """Segment each labelled slice and score it.

    Args:
        ids: MedSeg slice ids (e.g. the validation split).
        model: model name or checkpoint path.
        device: ``auto``, ``cpu`` or ``cuda``.
        tta: test-time augmentation (None: the segmenter's default, on for single slices).

    Returns:
        ``{"summary": aggregate(...), "per_slice": [...]}``.
    """
    segmenter = Segmenter(model, device, tta=tta)
    rows = [score_slice(segmenter, load_slice(case_id)) for case_id in ids]
    return {"summary": aggregate(rows), "per_slice": rows}


def main(argv: list[str] | None = None) -> None:
    """Print the validation metrics of a checkpoint as JSON."""
    import json as _json

    import torch

    p = argparse.ArgumentParser(description="Blind-test metrics on the validation split")
    p.add_argument("--model", default=None)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--ids", default=None, help="comma-separated ids (default: checkpoint val ids)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    seg = Segmenter(a.model, "cpu")
    ids = a.ids.split(",") if a.ids else seg.loaded.meta["config"]["val_ids"]
    res = evaluate(ids, a.model)
    print(_json.dumps(res["summary"]))
    print(json.dumps({"model": seg.loaded.name, "val_ids": ids}))


if __name__ == "__main__":
    main()
