"""Blind-test metrics on LungLab's own validation split of the labelled MedSeg slices.

Each validation slice goes through the same pipeline as the blind test: a single-slice HU
volume (HU = v / 255 * 1400 - 1100, 0.75 mm pixels, 5 mm slices) segmented by
``lunglab.ml.Segmenter`` (lung mask + network), then scored:
infection (2+3) Dice mean over slices, GGO / consolidation Dice mean over slices where the
reference has that class, and the share of reference lesion pixels inside the predicted lung.

Usage (reproduces the figures in docs/models.md and the model card):
    .venv/bin/python bench/quality.py                       # the shipped default model
    .venv/bin/python bench/quality.py --model a.pt b.pt     # compare checkpoints
"""
from __future__ import annotations

import argparse
import json
import sys
import time

GOALS = {"infection_dice": 0.75, "ggo_dice": 0.66, "consolidation_dice": 0.45,
         "lesion_in_lung": 0.98}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", nargs="*", default=[None], help="names or .pt paths")
    p.add_argument("--per-slice", action="store_true")
    p.add_argument("--no-tta", action="store_true", help="turn off test-time augmentation")
    a = p.parse_args()
    from lunglab.ml.evaluate import evaluate
    from lunglab.ml.inference import Segmenter

    for model in a.model:
        seg = Segmenter(model, "cpu")
        ids = seg.loaded.meta["config"]["val_ids"]
        start = time.perf_counter()
        res = evaluate(ids, model, "cpu", tta=False if a.no_tta else None)
        secs = time.perf_counter() - start
        s = res["summary"]
        tta = "off" if a.no_tta else "on"
        print(f"model {seg.loaded.name} ({seg.loaded.meta['config']['arch']}, "
              f"{seg.loaded.model_mm} mm pixels, "
              f"TTA {tta}), "
              f"validation ids {','.join(ids)}")
        for key, goal in GOALS.items():
            flag = "meets" if s[key] >= goal else "below"
            print(f"  {key:20s} {s[key]:.3f}   (blind-test goal >= {goal}: {flag})")
        print(f"  slices {int(s['slices'])}, {secs / max(1, len(ids)):.2f} s per slice on CPU")
        if a.per_slice:
            for r in res["per_slice"]:
                print("   ", json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                                         for k, v in r.items()}))
    print("reproduce: .venv/bin/python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
