"""Blind-test metrics on LungLab's own validation split of the labelled MedSeg slices.

Each validation slice goes through the same pipeline as the blind test: a single-slice HU
volume (HU = v / 255 * 1400 - 1100, 0.75 mm pixels, 5 mm slices) segmented by
``lunglab.ml.Segmenter`` (lung mask + network), then scored:
infection (2+3) Dice mean over slices, GGO / consolidation Dice mean over slices where the
reference has that class, and the share of reference lesion pixels inside the predicted lung.

Usage (reproduces the figures in docs/models.md and the model card):
    .venv/bin/python bench/quality.py                       # the shipped default model
    .venv/bin/python bench/quality.py --model a.pt b.pt     # compare checkpoints
    .venv/bin/python bench/quality.py --kfold 5 --arch unet2d --iterations 300 --threads 1
        # k-fold cross-validation of a training recipe over all 50 labelled slices: each fold
        # trains a fresh network on the other folds and is scored on its own slices; prints
        # mean +- sd per class over folds (nothing is selected on the held-out folds)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

GOALS = {"infection_dice": 0.78, "ggo_dice": 0.68, "consolidation_dice": 0.50,
         "lesion_in_lung": 0.98}
"""Issue 14's goals on unseen MedSeg-style slices."""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", nargs="*", default=[None], help="names or .pt paths")
    p.add_argument("--per-slice", action="store_true")
    p.add_argument("--no-tta", action="store_true", help="turn off test-time augmentation")
    p.add_argument("--kfold", type=int, default=0, help="k-fold cross-validation of a recipe")
    p.add_argument("--arch", default="unet2d", help="--kfold: architecture")
    p.add_argument("--iterations", type=int, default=300, help="--kfold: iterations per fold")
    p.add_argument("--threads", type=int, default=1, help="--kfold: torch threads")
    p.add_argument("--device", default="cpu", help="--kfold: cpu or cuda (training and scoring)")
    p.add_argument("--seed", type=int, default=0, help="--kfold: fold shuffle and training seed")
    p.add_argument("--pseudo-fraction", type=float, default=0.0,
                   help="--kfold: share of each batch from the pseudo-labelled slices")
    p.add_argument("--pseudo-until", type=int, default=0,
                   help="--kfold: pseudo-labelled slices only in the first N iterations")
    p.add_argument("--consistency", type=float, default=0.0,
                   help="--kfold: mean-teacher weight on the unlabelled slices (0: off)")
    p.add_argument("--strong-augment", action="store_true",
                   help="--kfold: stronger geometric and intensity augmentation")
    p.add_argument("--train-seed", type=int, default=None,
                   help="--kfold: training seed when it should differ from --seed (same folds)")
    p.add_argument("--batch-dice", action="store_true",
                   help="--kfold: Dice over the whole batch per class instead of per sample")
    p.add_argument("--lesion-paste", type=float, default=0.0,
                   help="--kfold: share of samples with expert lesions of other slices pasted in")
    p.add_argument("--model-mm", type=float, default=None,
                   help="--kfold: the network's pixel size in mm (default: the recipe's)")
    p.add_argument("--patch", type=int, default=None,
                   help="--kfold: training patch in pixels (default: the recipe's)")
    p.add_argument("--out-dir", type=Path, default=None,
                   help="--kfold: keep the fold checkpoints here (fold<N>.pt)")
    p.add_argument("--folds", default="",
                   help="--kfold: only these folds (comma list), e.g. two processes in parallel")
    p.add_argument("--json", type=Path, default=None, help="--kfold: also write the result here")
    p.add_argument("--merge", type=Path, nargs="*", default=[],
                   help="print one table from the --json files of runs over disjoint folds")
    a = p.parse_args()
    if a.merge:
        merge(a)
        return
    if a.kfold:
        kfold(a)
        return
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
            print(f"  {key:20s} {s[key]:.3f}   (goal >= {goal}: {flag})")
        print(f"  slices {int(s['slices'])}, {secs / max(1, len(ids)):.2f} s per slice on CPU")
        if a.per_slice:
            for r in res["per_slice"]:
                print("   ", json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                                         for k, v in r.items()}))
    print("reproduce: .venv/bin/python " + " ".join(sys.argv))


def kfold(a: argparse.Namespace) -> None:
    """Cross-validate a training recipe and print the per-fold and mean +- sd table."""
    import torch

    from lunglab.ml.kfold import cross_validate
    from lunglab.ml.train import TrainConfig

    torch.set_num_threads(a.threads)
    cfg = TrainConfig(arch=a.arch, iterations=a.iterations, seed=a.seed,
                      pseudo_fraction=a.pseudo_fraction, pseudo_until=a.pseudo_until,
                      consistency=a.consistency, strong_augment=a.strong_augment,
                      batch_dice=a.batch_dice, lesion_paste=a.lesion_paste)
    if a.train_seed is not None:
        cfg.seed = a.train_seed
    if a.model_mm is not None:
        cfg.model_mm = a.model_mm
    if a.patch is not None:
        cfg.patch = a.patch
    start = time.perf_counter()
    only = [int(f) for f in a.folds.split(",") if f.strip()] or None
    res = cross_validate(cfg, k=a.kfold, seed=a.seed, tta=False if a.no_tta else None,
                         only=only, out_dir=a.out_dir, device=a.device)
    print(f"{a.kfold}-fold cross-validation, recipe {a.arch}, {a.iterations} iterations, "
          f"batch {cfg.batch_size}, seed {a.seed} (training {cfg.seed}), "
          f"TTA {'off' if a.no_tta else 'on'}, "
          f"augmentation {'strong' if a.strong_augment else 'standard'}, "
          f"{cfg.model_mm} mm pixels, patch {cfg.patch}, "
          f"Dice {'per batch' if a.batch_dice else 'per sample'}, "
          f"lesion paste {a.lesion_paste}, "
          f"{time.perf_counter() - start:.0f} s")
    if a.json is not None:
        a.json.write_text(json.dumps({"folds": res["folds"], "argv": sys.argv}))
    table(res)


def merge(a: argparse.Namespace) -> None:
    """One k-fold table from runs over disjoint folds (``--folds`` ... ``--json``)."""
    from lunglab.ml.kfold import summarize_folds

    folds = sorted((f for path in a.merge for f in json.loads(path.read_text())["folds"]),
                   key=lambda f: f["fold"])
    res: dict = {"folds": folds, **summarize_folds([f["summary"] for f in folds])}
    table(res)


def table(res: dict) -> None:
    """Print the per-fold rows, the mean +- sd row and the goals."""
    from lunglab.ml.kfold import METRICS

    print("| fold | slices | " + " | ".join(METRICS) + " |")
    print("|" + " --- |" * (len(METRICS) + 2))
    for f in res["folds"]:
        vals = " | ".join(f"{f['summary'][m]:.3f}" for m in METRICS)
        print(f"| {f['fold']} | {len(f['ids'])} | {vals} |")
    vals = " | ".join(f"{res['mean'][m]:.3f} ± {res['sd'][m]:.3f}" for m in METRICS)
    print(f"| mean ± sd | {sum(len(f['ids']) for f in res['folds'])} | {vals} |")
    for key, goal in GOALS.items():
        flag = "meets" if res["mean"][key] >= goal else "below"
        print(f"  {key:20s} {res['mean'][key]:.3f} ± {res['sd'][key]:.3f}  "
              f"(goal >= {goal}: {flag})")
    print("reproduce: .venv/bin/python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
