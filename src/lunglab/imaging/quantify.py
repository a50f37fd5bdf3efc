"""COVID-19 lung involvement figures from a label map (and optionally its CT).

Every figure is defined in ``docs/quantification.md``; :data:`DEFINITIONS` holds the short
form the UI shows as hover help. Plain arrays in, a JSON-ready ``dict`` out, so the CLI
(``lunglab quantify``), the API and a notebook get the same numbers.

Example:
    >>> lm = np.zeros((6, 20, 40), np.uint8); lm[:, 2:18, 2:18] = 1; lm[:, 2:18, 22:38] = 1
    >>> lm[:2, 2:18, 2:18] = 2  # GGO in the upper third of one lung
    >>> q = quantify(lm, (1.0, 1.0, 1.0))
    >>> q["lungs"]["total"]["involvement_pct"], q["severity_score"]
    (16.67, 5)
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lunglab.domain.labels import Label
from lunglab.imaging.lesions import connected_lesions, hu_stats
from lunglab.imaging.zones import LEFT, RIGHT, SIDE_NAMES, ZONE_NAMES, split_lungs, zone_of_slices

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
SCORE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "no involvement (0 %)"),
    (1, "> 0 % and < 5 %"),
    (2, "5 % to 25 %"),
    (3, "> 25 % and < 50 %"),
    (4, "50 % to 75 %"),
    (5, "> 75 %"),
)
"""Zone score bands, adapted from the lobar CT severity score of Pan et al. (Radiology 2020)."""
SCORE_MAX = 5 * 6

FIGURE_ROWS: tuple[tuple[str, str], ...] = (
    ("lung_ml", "lung volume (mL)"),
    ("normal_lung_ml", "lung without lesion (mL)"),
    ("ggo_ml", "ground-glass opacity (mL)"),
    ("consolidation_ml", "consolidation (mL)"),
    ("lesion_ml", "lesion total (mL)"),
    ("involvement_pct", "involvement (%)"),
    ("ggo_share_pct", "GGO share of lesion (%)"),
    ("consolidation_share_pct", "consolidation share of lesion (%)"),
)
"""The figures a study report lists, in order: ``(key, row label)``."""

DEFINITIONS: dict[str, str] = {
    "lung_ml": "Lung volume: voxels labelled lung, GGO or consolidation (1-3) x voxel volume.",
    "normal_lung_ml": "Lung without lesion: voxels labelled 1 x voxel volume.",
    "ggo_ml": "Ground-glass opacity volume: voxels labelled 2 x voxel volume.",
    "consolidation_ml": "Consolidation volume: voxels labelled 3 x voxel volume.",
    "lesion_ml": "Lesion volume: GGO + consolidation.",
    "involvement_pct": "Lesion volume / lung volume x 100 (whole lungs, one lung or a zone).",
    "ggo_share_pct": "GGO volume / lesion volume x 100 (0 without lesion).",
    "consolidation_share_pct": "Consolidation volume / lesion volume x 100 (0 without lesion).",
    "zone": "Upper, middle and lower thirds of each lung's craniocaudal extent (not lobes).",
    "zone_score": "0-5 from the zone's involvement: 0 none, 1 <5 %, 2 5-25 %, 3 >25-<50 %, "
                  "4 50-75 %, 5 >75 % (Pan et al. 2020 bands, applied to zones).",
    "severity_score": "Sum of the six zone scores, 0-30.",
    "lesion_count": "Connected lesions: GGO and consolidation voxels joined in 26-connectivity.",
    "mean_hu": "Mean CT value (HU) of the class's voxels; percentiles p5-p95 likewise.",
    "change": "Later minus earlier study; involvement change in percentage points.",
}


def zone_score(involvement_pct: float) -> int:
    """The 0-5 score of one zone from its % involvement (bands in :data:`SCORE_BANDS`).

    Example:
        >>> [zone_score(p) for p in (0, 0.1, 5, 25, 30, 50, 75, 80)]
        [0, 1, 2, 2, 3, 4, 4, 5]
    """
    p = float(involvement_pct)
    if p <= 0:
        return 0
    if p < 5:
        return 1
    if p <= 25:
        return 2
    if p < 50:
        return 3
    if p <= 75:
        return 4
    return 5


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _figures(counts: np.ndarray, voxel_ml: float) -> dict[str, float]:
    """Volumes and shares from voxel counts of labels 0..3."""
    normal, ggo, cons = (int(counts[i]) for i in (1, 2, 3))
    lung, lesion = normal + ggo + cons, ggo + cons
    return {
        "lung_ml": round(lung * voxel_ml, 3),
        "normal_lung_ml": round(normal * voxel_ml, 3),
        "ggo_ml": round(ggo * voxel_ml, 3),
        "consolidation_ml": round(cons * voxel_ml, 3),
        "lesion_ml": round(lesion * voxel_ml, 3),
        "involvement_pct": _pct(lesion, lung),
        "ggo_share_pct": _pct(ggo, lesion),
        "consolidation_share_pct": _pct(cons, lesion),
    }


def _counts(values: np.ndarray) -> np.ndarray:
    return np.bincount(values.ravel(), minlength=4)[:4]


def quantify(label_map: np.ndarray, spacing: Sequence[float],
             direction: Sequence[float] = IDENTITY, hu: np.ndarray | None = None
             ) -> dict[str, Any]:
    """All involvement figures of one label map.

    Args:
        label_map: uint8 ``[z, y, x]``: 0 background, 1 lung, 2 GGO, 3 consolidation.
        spacing: voxel size ``(x, y, z)`` in mm.
        direction: 3x3 direction cosines, row-major, LPS (decides left/right and cranial).
        hu: the CT in HU, same shape, for the density figures (``density`` is None without).

    Returns:
        A JSON-ready dict: ``lungs`` (``total``, ``right``, ``left``: see :func:`_figures`),
        ``zones`` (six entries, right then left, upper to lower, each with ``score``),
        ``severity_score`` (0-30), ``lesions`` (:func:`connected_lesions`), ``density``
        (per class HU statistics or None), ``split_method``, ``voxel_ml``, ``shape``.

    Raises:
        ValueError: wrong dimensions, label values outside 0..3 or a CT of another shape.
    """
    lm = np.asarray(label_map)
    if lm.ndim != 3:
        raise ValueError(f"label map must be 3-D [z, y, x], got shape {lm.shape}")
    if lm.size and (lm.min() < 0 or lm.max() > int(Label.CONSOLIDATION)):
        raise ValueError("label values must be 0..3")
    lm = lm.astype(np.uint8, copy=False)
    if hu is not None and np.shape(hu) != lm.shape:
        raise ValueError(f"CT shape {np.shape(hu)} differs from the label map's {lm.shape}")
    voxel_ml = float(np.prod([float(s) for s in spacing])) / 1000.0
    lung = lm > 0
    sides, method = split_lungs(lung, spacing, direction)
    lungs = {"total": _figures(_counts(lm), voxel_ml)}
    zones: list[dict[str, Any]] = []
    for side in (RIGHT, LEFT):
        in_side = sides == side
        lungs[SIDE_NAMES[side]] = _figures(_counts(lm[in_side]), voxel_ml)
        zone_idx = zone_of_slices(in_side, direction)
        for z, name in enumerate(ZONE_NAMES):
            slab = zone_idx == z
            counts = _counts(lm[slab][in_side[slab]]) if slab.any() else np.zeros(4, int)
            fig = _figures(counts, voxel_ml)
            rows = np.nonzero(slab)[0]
            zones.append({
                "side": SIDE_NAMES[side], "zone": name,
                "slices": [int(rows.min()), int(rows.max())] if rows.size else None,
                **{k: fig[k] for k in ("lung_ml", "ggo_ml", "consolidation_ml", "lesion_ml",
                                       "involvement_pct")},
                "score": zone_score(fig["involvement_pct"]),
            })
    density = None
    if hu is not None:
        density = {
            "lung": hu_stats(hu, lm == Label.LUNG),
            "ggo": hu_stats(hu, lm == Label.GGO),
            "consolidation": hu_stats(hu, lm == Label.CONSOLIDATION),
            "lesion": hu_stats(hu, lm >= Label.GGO),
        }
    return {
        "shape": [int(s) for s in lm.shape],
        "spacing": [float(s) for s in spacing],
        "voxel_ml": voxel_ml,
        "split_method": method,
        "lungs": lungs,
        "zones": zones,
        "severity_score": int(sum(z["score"] for z in zones)),
        "severity_score_max": SCORE_MAX,
        "lesions": connected_lesions(lm, spacing, sides),
        "density": density,
    }


def slice_involvement(label_map: np.ndarray) -> np.ndarray:
    """Lesion voxels per axial slice (used to pick the report's key images)."""
    return (np.asarray(label_map) >= Label.GGO).sum(axis=(1, 2))


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Change between two quantifications (``after`` minus ``before``).

    Args:
        before: :func:`quantify` of the earlier study.
        after: :func:`quantify` of the later study.

    Returns:
        ``{"lungs": {side: {figure: {"before", "after", "change"}}}, "zones": [...],
        "severity_score": {...}, "lesion_count": {...}, "direction": "more"|"less"|"same"}``.
        ``involvement_pct`` changes are in percentage points; ``direction`` says whether total
        involvement rose or fell by at least 1 percentage point.
    """
    def delta(a: float, b: float) -> dict[str, float]:
        return {"before": a, "after": b, "change": round(b - a, 3)}

    keys = ("lung_ml", "ggo_ml", "consolidation_ml", "lesion_ml", "involvement_pct")
    lungs = {side: {k: delta(before["lungs"][side][k], after["lungs"][side][k]) for k in keys}
             for side in ("total", "right", "left")}
    zones = []
    for zb, za in zip(before["zones"], after["zones"], strict=True):
        zones.append({"side": za["side"], "zone": za["zone"],
                      "involvement_pct": delta(zb["involvement_pct"], za["involvement_pct"]),
                      "score": delta(zb["score"], za["score"])})
    change = lungs["total"]["involvement_pct"]["change"]
    direction = "same" if abs(change) < 1.0 else ("more" if change > 0 else "less")
    return {
        "lungs": lungs,
        "zones": zones,
        "severity_score": delta(before["severity_score"], after["severity_score"]),
        "lesion_count": delta(before["lesions"]["count"], after["lesions"]["count"]),
        "direction": direction,
    }
