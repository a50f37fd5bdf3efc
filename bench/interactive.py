"""Simulated reader for the Smart click model and the classical region grow (issue 18).

On the held-out labelled MedSeg slices (the validation ids of the shipped automatic model, never
trained on by either model), each slice starts from the automatic proposal (``Segmenter`` on the
single-slice HU volume, as bench/quality.py does). At each step the reader clicks at the centre of
the largest error region (maximum of the distance transform inside the largest false-negative or
false-positive component): positive inside a miss, negative inside a false lesion. Prints one JSON
line per method: ``dice_after_clicks`` (infection Dice, mean over slices, for 0..N clicks) and
the per-click latency p50/p95 in seconds (CPU, one torch thread).

The baseline is the web client's region grow (web/src/tools/region-grow.ts) ported here: 4-
connected on the slice, HU range of the preset that holds the seed (GGO [-750, -300] or
consolidation [-300, 100]); a positive click sets the grown region to lesion, a negative click
clears it.

    nice -n 10 .venv/bin/python bench/interactive.py [--model path.pt] [--clicks 10]
        [--set medseg-val|coronacases] [--per-slice]

``--set coronacases``: a second held-out set that neither model (nor any choice made for them)
has seen: 40 slices of the ten ``coronacases`` volumes in ``unlabeled_pseudo/`` (other patients,
other scanners), drawn with seed 7 among those with at least 150 lesion pixels. The reference is
Inf-Net's pseudo label, not an expert's. Their window differs from the labelled slices'; HU is
estimated as ``v * 10.34 - 992`` by anchoring the same two tissue peaks the labelled slices'
formula rests on (lung parenchyma at v 13 -> -858 HU, soft tissue at v 100 -> 42 HU; air then
falls at v 0 -> -992 HU, a check; ``lunglab.ml.pseudo_labels.source_hu``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

HU_PRESETS = {"ggo": (-750.0, -300.0), "consolidation": (-300.0, 100.0)}


def region_grow(hu: np.ndarray, y: int, x: int) -> np.ndarray:
    """The 4-connected region around ``(y, x)`` within the HU preset holding the seed."""
    from scipy.ndimage import label

    seed = hu[y, x]
    for lo, hi in HU_PRESETS.values():
        if lo <= seed <= hi:
            comp, _ = label((hu >= lo) & (hu <= hi))
            return comp == comp[y, x]
    return np.zeros(hu.shape, bool)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else float(2 * (a & b).sum() / s)


def clicked_region(pred: np.ndarray, truth: np.ndarray, y: int, x: int, positive: bool
                   ) -> np.ndarray:
    """The error component at ``(y, x)``: a miss for a positive click, a false lesion for a
    negative one."""
    from scipy.ndimage import label

    comp, _ = label((truth & ~pred) if positive else (pred & ~truth))
    return comp == comp[y, x]


def run(method: str, cases: list, n_clicks: int, model, per_slice: bool = False) -> dict:
    """Simulate the reader with ``method`` on every case; ``per_slice`` adds each slice's curve and,
    per click, its sign, the clicked error region's size (pixels) and the fraction of that region
    the click fixed (the diagnosis behind docs/models.md's Smart click notes)."""
    from lunglab.ml.click_sim import error_click

    curves, lat, slices = [], [], []
    for hu, truth, start in cases:
        pred, clicks, curve = start.copy(), [], [dice(start, truth)]
        steps = []
        for _ in range(n_clicks):
            c = error_click(pred, truth)
            if c is None:
                curve.append(curve[-1])
                continue
            clicks.append(c)
            err_region = clicked_region(pred, truth, c.y, c.x, c.positive) if per_slice else None
            t0 = time.perf_counter()
            if method == "smart_click":
                pred = model.correct(hu, pred, (0.75, 0.75), clicks)
            else:
                region = region_grow(hu, c.y, c.x)
                pred = pred | region if c.positive else pred & ~region
            lat.append(time.perf_counter() - t0)
            curve.append(dice(pred, truth))
            if err_region is not None:
                steps.append({"positive": c.positive, "region_px": int(err_region.sum()),
                              "fixed": round(float((pred == truth)[err_region].mean()), 2)})
        curves.append(curve)
        if per_slice:
            slices.append({"dice": [round(float(v), 3) for v in curve], "clicks": steps})
    mean = np.mean(curves, axis=0)
    out = {"method": method, "slices": len(cases),
           "dice_after_clicks": [round(float(v), 3) for v in mean],
           "latency_p50_s": round(float(np.percentile(lat, 50)), 4) if lat else None,
           "latency_p95_s": round(float(np.percentile(lat, 95)), 4) if lat else None,
           "clicks_made": len(lat)}
    if per_slice:
        out["per_slice"] = slices
    return out


def coronacases_slices(n: int = 40, seed: int = 7) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(name, hu, pseudo lesion)`` of ``n`` coronacases slices with >= 150 lesion pixels."""
    from PIL import Image

    from lunglab.ml.dataset import medseg_dir
    from lunglab.ml.pseudo_labels import source_hu

    root = medseg_dir() / "unlabeled_pseudo"
    names = sorted(p.name for p in (root / "images").glob("*coronacases*.jpg"))
    out: list[tuple[str, np.ndarray, np.ndarray]] = []
    for name in np.random.default_rng(seed).permutation(names):
        lab = np.asarray(Image.open(root / "pseudo_infection" / name.replace(".jpg", ".png"))
                         .convert("L")) >= 128
        img = np.asarray(Image.open(root / "images" / name).convert("L"))
        if lab.sum() >= 150 and img.shape == lab.shape:
            out.append((str(name), source_hu(str(name), img), lab))
        if len(out) >= n:
            break
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="interactive checkpoint (.pt); default shipped")
    p.add_argument("--clicks", type=int, default=10)
    p.add_argument("--ids", default=None, help="comma-separated MedSeg ids (default: validation)")
    p.add_argument("--set", default="medseg-val", choices=("medseg-val", "coronacases"),
                   help="held-out slices: the labelled validation slices, or 40 pseudo-labelled "
                        "coronacases slices (see the docstring)")
    p.add_argument("--per-slice", action="store_true",
                   help="add each slice's curve and, per click, the clicked error region's size "
                        "and the fraction of it the click fixed")
    a = p.parse_args()
    import torch

    torch.set_num_threads(1)
    from lunglab.ml.dataset import list_ids, load_slice, split_ids
    from lunglab.ml.evaluate import medseg_volume
    from lunglab.ml.inference import Segmenter
    from lunglab.ml.interactive import ClickModel

    seg = Segmenter(None, "cpu")
    cases = []
    if a.set == "coronacases":
        from lunglab.domain.volume import CTVolume
        from lunglab.ml.dataset import MEDSEG_PIXEL_MM, MEDSEG_SLICE_MM

        picked = coronacases_slices()
        ids = [name for name, _, _ in picked]
        for _, hu, lab in picked:
            vol = CTVolume(np.rint(hu).astype(np.int16)[None],
                           (MEDSEG_PIXEL_MM, MEDSEG_PIXEL_MM, MEDSEG_SLICE_MM))
            proposal, _ = seg(vol)
            cases.append((hu, lab, np.isin(proposal[0], (2, 3))))
    else:
        ids = a.ids.split(",") if a.ids else split_ids(list_ids())[1]
        for i in ids:
            item = load_slice(i)
            proposal, _ = seg(medseg_volume(item))
            cases.append((item.hu, item.labels > 0, np.isin(proposal[0], (2, 3))))
    model = ClickModel.load(a.model)
    for method in ("smart_click", "region_grow"):
        out = run(method, cases, a.clicks, model, a.per_slice)
        out.update(set=a.set, ids=ids, goal={"dice_after_5": 0.85, "p95_s": 1.0})
        print(json.dumps(out), flush=True)
    print("reproduce: .venv/bin/python " + " ".join(sys.argv), file=sys.stderr)


if __name__ == "__main__":
    main()
