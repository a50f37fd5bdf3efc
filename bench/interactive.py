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


def run(method: str, cases: list, n_clicks: int, model) -> dict:
    from lunglab.ml.click_sim import error_click

    curves, lat = [], []
    for hu, truth, start in cases:
        pred, clicks, curve = start.copy(), [], [dice(start, truth)]
        for _ in range(n_clicks):
            c = error_click(pred, truth)
            if c is None:
                curve.append(curve[-1])
                continue
            clicks.append(c)
            t0 = time.perf_counter()
            if method == "smart_click":
                pred = model.correct(hu, pred, (0.75, 0.75), clicks)
            else:
                region = region_grow(hu, c.y, c.x)
                pred = pred | region if c.positive else pred & ~region
            lat.append(time.perf_counter() - t0)
            curve.append(dice(pred, truth))
        curves.append(curve)
    mean = np.mean(curves, axis=0)
    return {"method": method, "slices": len(cases),
            "dice_after_clicks": [round(float(v), 3) for v in mean],
            "latency_p50_s": round(float(np.percentile(lat, 50)), 4) if lat else None,
            "latency_p95_s": round(float(np.percentile(lat, 95)), 4) if lat else None,
            "clicks_made": len(lat)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="interactive checkpoint (.pt); default shipped")
    p.add_argument("--clicks", type=int, default=10)
    p.add_argument("--ids", default=None, help="comma-separated MedSeg ids (default: validation)")
    a = p.parse_args()
    import torch

    torch.set_num_threads(1)
    from lunglab.ml.dataset import list_ids, load_slice, split_ids
    from lunglab.ml.evaluate import medseg_volume
    from lunglab.ml.inference import Segmenter
    from lunglab.ml.interactive import ClickModel

    ids = a.ids.split(",") if a.ids else split_ids(list_ids())[1]
    seg = Segmenter(None, "cpu")
    cases = []
    for i in ids:
        item = load_slice(i)
        proposal, _ = seg(medseg_volume(item))
        cases.append((item.hu, item.labels > 0, np.isin(proposal[0], (2, 3))))
    model = ClickModel.load(a.model)
    for method in ("smart_click", "region_grow"):
        out = run(method, cases, a.clicks, model)
        out.update(ids=ids, goal={"dice_after_5": 0.85, "p95_s": 1.0})
        print(json.dumps(out), flush=True)
    print("reproduce: .venv/bin/python " + " ".join(sys.argv), file=sys.stderr)


if __name__ == "__main__":
    main()
