"""Score kept k-fold checkpoints again: a per-fold ensemble and a nested lesion bias.

``bench/quality.py --kfold 5 ... --out-dir DIR`` keeps ``DIR/fold<N>.pt``, each trained without
fold N. This script segments every fold's held-out slices through the blind-test pipeline with
the mean softmax of that fold's checkpoints from one or more such runs, for each lesion bias b
(p(GGO) and p(consolidation) times e^b before the argmax). b = 0 is the plain ensemble. The
nested row chooses b for fold N on the other folds' held-out slices only, so no fold is scored
with a b chosen on it.

Usage (the figures in docs/models.md, 2026-12-06):
    .venv/bin/python bench/kfold_ensemble.py /tmp/kf/c0               # one run, bias sweep
    .venv/bin/python bench/kfold_ensemble.py /tmp/kf/c0 /tmp/kf/c1    # two-seed ensemble
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


def main() -> None:
    import torch

    from lunglab.ml.checkpoints import load_model
    from lunglab.ml.dataset import list_ids, load_slice
    from lunglab.ml.ensemble import EnsembleModel
    from lunglab.ml.evaluate import aggregate, score_slice
    from lunglab.ml.inference import Segmenter
    from lunglab.ml.kfold import METRICS, kfold_ids, summarize_folds

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", type=Path, nargs="+", help="--out-dir folders of k-fold runs")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--seed", type=int, default=0, help="the runs' fold seed (--seed)")
    p.add_argument("--bias", type=float, nargs="*", default=[-0.5, 0.0, 0.25, 0.5, 0.75, 1.0])
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    biases = sorted(set(a.bias) | {0.0})
    folds = kfold_ids(list_ids(), a.k, a.seed)
    rows: dict[float, list[list[dict]]] = {b: [[] for _ in folds] for b in biases}
    for f, held_out in enumerate(folds):
        paths = [run / f"fold{f}.pt" for run in a.runs]
        missing = [str(x) for x in paths if not x.is_file()]
        if missing:
            sys.exit(f"missing fold checkpoints: {', '.join(missing)}")
        seg = Segmenter(str(paths[0]), "cpu")
        if len(paths) > 1:
            seg.loaded = EnsembleModel("fold-ensemble",
                                       tuple(load_model(str(x), "cpu") for x in paths))
        items = [load_slice(case_id) for case_id in held_out]
        for b in biases:
            seg.class_scale = (1.0, 1.0, math.exp(b), math.exp(b))
            rows[b][f] = [score_slice(seg, item) for item in items]
        print(f"fold {f}: infection Dice by bias "
              + ", ".join(f"{b:+.2f}: {aggregate(rows[b][f])['infection_dice']:.3f}"
                          for b in biases), flush=True)
    nested = []
    for f in range(len(folds)):
        inner = {b: aggregate([r for g in range(len(folds)) if g != f for r in rows[b][g]])
                 ["infection_dice"] for b in biases}
        chosen = max(biases, key=lambda b: inner[b])
        nested.append(aggregate(rows[chosen][f]))
        print(f"fold {f}: b chosen on the other folds {chosen:+.2f}")
    print("| scoring | " + " | ".join(METRICS) + " |")
    print("|" + " --- |" * (len(METRICS) + 1))
    for name, per in ((f"{len(a.runs)} network(s), b = 0", [aggregate(r) for r in rows[0.0]]),
                      ("nested b", nested)):
        s = summarize_folds(per)
        print(f"| {name} | " + " | ".join(f"{s['mean'][m]:.3f} ± {s['sd'][m]:.3f}"
                                          for m in METRICS) + " |")
    print("reproduce: .venv/bin/python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
