"""Judge a new model against the active one on the frozen validation set.

Both run through the same pipeline as pre-annotation (:class:`lunglab.ml.Segmenter`), on the
full validation volumes, against their approved label maps.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from lunglab.domain.labels import FOREGROUND, LABEL_KEYS

TOLERANCE = 0.01
"""A new model may be this much lower in mean Dice per label and still count as not worse."""
CASE_DELTA = 0.01
"""A case counts as improved/worsened when its mean Dice moves by more than this."""
FIRST_RADIOGRAPH_FLOOR = 0.5
"""A project's first radiograph model (nothing to compare with: none is shipped) passes the
gate only with at least this mean lung-field Dice (labels 1-3 together) on the frozen
validation radiographs; below it an admin may still promote with a written reason."""


ERROR_KEYS = {"volume": "volume_error_ml", "area": "area_error_cm2"}
"""Per-case size error key: volume in mL for CT, area in cm² for one-image radiographs (a
radiograph has no thickness, so a volume would be meaningless)."""


def case_metrics(pred: np.ndarray, ref: np.ndarray, unit: float,
                 size: str = "volume") -> dict[str, Any]:
    """Dice (1.0 when both are empty) and size error (predicted minus reference) per label.

    Args:
        pred: predicted label map.
        ref: reference label map.
        unit: size of one voxel in the unit of ``size``: mL for a volume, cm² for an area.
        size: ``volume`` (CT, key ``volume_error_ml``) or ``area`` (radiographs,
            ``area_error_cm2``).
    """
    dice, err = {}, {}
    for v in FOREGROUND:
        p, r = pred == v, ref == v
        denom = int(p.sum()) + int(r.sum())
        dice[LABEL_KEYS[v]] = 1.0 if denom == 0 else 2 * int((p & r).sum()) / denom
        err[LABEL_KEYS[v]] = (int(p.sum()) - int(r.sum())) * unit
    p, r = pred > 0, ref > 0
    denom = int(p.sum()) + int(r.sum())
    field = 1.0 if denom == 0 else 2 * int((p & r).sum()) / denom
    return {"dice": dice, ERROR_KEYS[size]: err, "mean_dice": float(np.mean(list(dice.values()))),
            "lung_field_dice": field}


def _mean(rows: list[dict[str, Any]], key: str, abs_value: bool = False) -> dict[str, float]:
    out = {}
    for name in LABEL_KEYS.values():
        vals = [abs(r[key][name]) if abs_value else r[key][name] for r in rows]
        out[name] = round(float(np.mean(vals)), 4) if vals else math.nan
    return out


def summarize(rows: list[dict[str, Any]], size: str = "volume") -> dict[str, Any]:
    """Mean Dice per label and mean absolute size error per label over cases
    (``abs_volume_error_ml`` for CT, ``abs_area_error_cm2`` for radiographs: ``size``)."""
    fields = [r["lung_field_dice"] for r in rows if "lung_field_dice" in r]
    key = ERROR_KEYS[size]
    return {"dice": _mean(rows, "dice"),
            f"abs_{key}": _mean(rows, key, True), "cases": len(rows),
            "lung_field_dice": round(float(np.mean(fields)), 4) if fields else math.nan}


def gate(new: dict[str, Any], active: dict[str, Any] | None,
         tolerance: float = TOLERANCE, floor: float | None = None) -> dict[str, Any]:
    """Promotion gate: passed when no label's mean Dice drops by more than ``tolerance``.

    With nothing to compare with, it passes, unless ``floor`` is given (a first radiograph
    model): then the new model's mean lung-field Dice must reach it.
    """
    if active is None:
        field = new.get("lung_field_dice", math.nan)
        if floor is not None and not field >= floor:
            return {"passed": False, "tolerance": tolerance, "floor": floor,
                    "reasons": [f"first model: lung-field Dice {field:.3f} < {floor} on the "
                                "frozen validation set (nothing to compare with)"]}
        return {"passed": True, "reasons": ["no active model to compare with"],
                "tolerance": tolerance, **({"floor": floor} if floor is not None else {})}
    reasons = [f"{name}: Dice {new['dice'][name]:.3f} < active {active['dice'][name]:.3f}"
               for name in LABEL_KEYS.values()
               if new["dice"][name] < active["dice"][name] - tolerance]
    return {"passed": not reasons, "reasons": reasons, "tolerance": tolerance}


Case = tuple[int, Any, np.ndarray]
"""``(study_id, CTVolume, reference label map)``."""


def compare(cases: Callable[[], Any], new_model: str, active_model: str | None,
            device: str = "cpu", active_name: str | None = None,
            segmenter: Callable[[str | None, str], Any] | None = None,
            floor: float | None = None, size: str = "volume") -> dict[str, Any]:
    """Segment each validation case with both models and compare.

    Args:
        cases: returns an iterator of :data:`Case`, one volume in memory at a time.
        new_model: checkpoint path of the new model.
        active_model: checkpoint path of the active model; None to use the shipped default
            (skipped when it is not installed).
        device: ``cpu`` or ``cuda``.
        active_name: name shown for the active model.
        segmenter: ``(model, device) -> callable(volume) -> (labels, info)``; default the CT
            pipeline (:class:`lunglab.ml.Segmenter`); radiographs pass
            :class:`lunglab.ml.radiograph.RadiographSegmenter`, which has no shipped model
            (``FileNotFoundError`` for None: nothing to compare with).
        floor: with nothing to compare with, the lung-field Dice the new model must reach
            (:data:`FIRST_RADIOGRAPH_FLOOR` for radiographs); None: it passes.
        size: ``volume`` (mL) or ``area`` (cm², radiographs) for the size errors.

    Returns:
        ``{"new": summary, "active": summary | None, "per_case": [...], "improved": [ids],
        "worsened": [ids], "gate": {...}}``.
    """
    if segmenter is None:
        from lunglab.ml import Segmenter

        segmenter = Segmenter
    seg_new = segmenter(new_model, device)
    try:
        seg_old = segmenter(active_model, device)
        old_name = active_name or seg_old.loaded.name
    except FileNotFoundError:
        seg_old, old_name = None, None
    per_case, new_rows, old_rows = [], [], []
    for study_id, volume, ref in cases():
        unit = (float(np.prod(volume.spacing[:2])) / 100.0 if size == "area"
                else float(np.prod(volume.spacing)) / 1000.0)
        row: dict[str, Any] = {"study_id": study_id,
                               "new": case_metrics(seg_new(volume)[0], ref, unit, size)}
        new_rows.append(row["new"])
        if seg_old is not None:
            row["active"] = case_metrics(seg_old(volume)[0], ref, unit, size)
            old_rows.append(row["active"])
            delta = row["new"]["mean_dice"] - row["active"]["mean_dice"]
            row["delta_mean_dice"] = round(delta, 4)
            row["change"] = ("improved" if delta > CASE_DELTA else
                             "worsened" if delta < -CASE_DELTA else "same")
        per_case.append(row)
    new_s = summarize(new_rows, size)
    old_s = summarize(old_rows, size) if seg_old is not None else None
    return {"new": new_s, "active": old_s, "active_model": old_name, "per_case": per_case,
            "improved": [r["study_id"] for r in per_case if r.get("change") == "improved"],
            "worsened": [r["study_id"] for r in per_case if r.get("change") == "worsened"],
            "gate": gate(new_s, old_s, floor=floor)}
