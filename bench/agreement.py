"""Benchmark: the maths of a study's inter-reader agreement on a real-size series, before and after
surfaces were found once per reader (and Dice and everything else went to the labelled box).

Builds synthetic label maps (default 3 readers, 141x512x512 voxels of 0.977x0.977x2.0 mm like
the real series in ../shared): two bumpy lungs per reader, each reader drawing their own lung
border, and a dozen GGO lesions (some with a consolidation core) that each reader draws a bit
shifted, bigger or smaller, or misses. Then, in this one process and after MONAI and PyTorch are
imported (their import is timed apart: it is paid once per process):

- before: the code this replaced (kept below): per label and pair, the masks made again, MONAI
  ``compute_dice`` and ``compute_hausdorff_distance`` on the pair's bounding box (each reader's
  surface found again in every pair); Dice with the consensus, the majority vote (argmax of the
  counts) and STAPLE statistics on the whole volume;
- after: ``lunglab.services.collab.agreement.reader_metrics``, which ``GET /studies/{id}/agreement``
  and the project dashboard run on a study's first request: everything on the labelled box,
  each reader's masks and surfaces (MONAI ``get_mask_edges``) once, MONAI
  ``get_surface_distance`` per pair, MONAI ``compute_dice`` on the voxels of either mask.

It prints both times, the ratio, and checks that the results are identical.

Usage: ``.venv/bin/python bench/agreement.py [--readers 3] [--shape 141 512 512]
[--stored-consensus] [--repeat 1]``
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from itertools import combinations
from typing import Any

import numpy as np

SPACING_XYZ = (0.977, 0.977, 2.0)


def reader_labels(shape: tuple[int, int, int], reader: int, seed: int = 7) -> np.ndarray:
    """One reader's label map: lungs (1) with a reader-specific bumpy border, GGO (2) and
    consolidation (3) lesions that are the same findings for every reader, drawn differently."""
    from scipy import ndimage as ndi

    z, y, x = shape
    truth = np.random.default_rng(seed)
    own = np.random.default_rng(seed * 1000 + reader + 1)
    zz, yy, xx = (np.arange(n, dtype=np.float32) for n in shape)
    bump = ndi.zoom(own.standard_normal((6, 12, 12)).astype(np.float32),
                    (z / 6, y / 12, x / 12), order=1)
    labels = np.zeros(shape, np.uint8)
    for cx in (0.3 * x, 0.7 * x):
        r = (((zz - z / 2) / (0.42 * z)) ** 2)[:, None, None] \
            + (((yy - y / 2) / (0.3 * y)) ** 2)[None, :, None] \
            + (((xx - cx) / (0.17 * x)) ** 2)[None, None, :]
        labels[r < 1 + 0.04 * bump] = 1
    for k in range(12):
        cz, cy, cx = (float(truth.uniform(0.3 * n, 0.7 * n)) for n in shape)
        rad = float(truth.uniform(6, 30))  # in-plane voxels; half of that along z (2 mm)
        if own.random() < 0.15:
            continue  # this reader missed it
        centre = (cz + own.normal(0, 1), cy + own.normal(0, 2), cx + own.normal(0, 2))
        rad *= own.uniform(0.85, 1.15)
        radii = (rad / 2, rad, rad)
        box = tuple(slice(max(0, int(c - r) - 1), min(n, int(c + r) + 2))
                    for c, r, n in zip(centre, radii, shape, strict=True))
        d = (((zz[box[0]] - centre[0]) * 2) ** 2)[:, None, None] \
            + ((yy[box[1]] - centre[1]) ** 2)[None, :, None] \
            + ((xx[box[2]] - centre[2]) ** 2)[None, None, :]
        sub = labels[box]
        lung = sub > 0
        sub[(d < rad ** 2) & lung] = 2
        if k % 3 == 0:
            sub[(d < (rad / 2) ** 2) & lung] = 3
    return labels


# --- before: the code that reader_metrics replaced, as it was -------------------------------


def _before_dice(a: np.ndarray, b: np.ndarray) -> float | None:
    import torch
    from monai.metrics import compute_dice

    from lunglab.imaging import agreement as am

    has_a, has_b = bool(a.any()), bool(b.any())
    if not has_a and not has_b:
        return None
    if not (has_a and has_b):
        return 0.0
    box = am._bbox(a | b)
    pa = torch.from_numpy(np.ascontiguousarray(a[box]))[None, None].float()
    pb = torch.from_numpy(np.ascontiguousarray(b[box]))[None, None].float()
    value = float(compute_dice(pa, pb, include_background=True)[0, 0])
    return None if math.isnan(value) else value


def _before_hausdorff95(a: np.ndarray, b: np.ndarray, spacing_xyz: tuple) -> float | None:
    import torch
    from monai.metrics import compute_hausdorff_distance

    from lunglab.imaging import agreement as am

    if not a.any() or not b.any():
        return None
    box = am._bbox(a | b, margin=2)
    pa = torch.from_numpy(np.ascontiguousarray(a[box]))[None, None].float()
    pb = torch.from_numpy(np.ascontiguousarray(b[box]))[None, None].float()
    sx, sy, sz = (float(v) for v in spacing_xyz)
    value = compute_hausdorff_distance(pa, pb, include_background=True, percentile=95,
                                       spacing=[sz, sy, sx])
    out = float(value[0, 0])
    return None if math.isnan(out) or math.isinf(out) else round(out, 3)


def _before_pair(a: np.ndarray, b: np.ndarray, spacing_xyz: tuple) -> dict[str, Any]:
    from lunglab.imaging import agreement as am

    per = am.voxel_ml(spacing_xyz)
    d = _before_dice(a, b)
    return {
        "dice": None if d is None else round(d, 4),
        "hd95_mm": _before_hausdorff95(a, b, spacing_xyz),
        "volume_a_ml": round(int(a.sum()) * per, 3),
        "volume_b_ml": round(int(b.sum()) * per, 3),
        "volume_diff_ml": round((int(a.sum()) - int(b.sum())) * per, 3),
    }


def _before_majority_vote(stack: list[np.ndarray], max_label: int = 3) -> np.ndarray:
    counts = np.zeros((max_label + 1, *stack[0].shape), np.uint8)
    for labels in stack:
        for value in range(max_label + 1):
            counts[value] += labels == value
    return counts.argmax(axis=0).astype(np.uint8)


def before(stack: list[np.ndarray], stored: np.ndarray | None, spacing_xyz: tuple) -> dict:
    from lunglab.domain.labels import MAX_LABEL
    from lunglab.imaging import agreement as am
    from lunglab.services.collab.consensus import LABELS, staple_stats

    ref = stored if stored is not None else _before_majority_vote(stack, MAX_LABEL)
    stats = staple_stats(stack)
    pairs = {label: {(i, j): _before_pair(am.label_mask(stack[i], label),
                                          am.label_mask(stack[j], label), spacing_xyz)
                     for i, j in combinations(range(len(stack)), 2)} for label in LABELS}
    dice_ref = {label: [_before_dice(am.label_mask(s, label), am.label_mask(ref, label))
                        for s in stack] for label in LABELS}
    return {"pairs": pairs, "dice_vs_consensus": dice_ref, "staple": stats}


def _timer(fn: Any, spent: dict[str, float], key: str) -> Any:
    def timed(*args: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kw)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - t
    return timed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--readers", type=int, default=3)
    p.add_argument("--shape", type=int, nargs=3, default=(141, 512, 512), metavar=("Z", "Y", "X"))
    p.add_argument("--stored-consensus", action="store_true",
                   help="compare with a stored consensus (the majority vote) instead of an "
                        "unsaved majority vote")
    p.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest counts")
    a = p.parse_args()
    shape = tuple(a.shape)

    start = time.perf_counter()
    import monai.metrics  # noqa: F401
    import torch  # noqa: F401
    imports = time.perf_counter() - start
    from lunglab.domain.labels import MAX_LABEL
    from lunglab.imaging import agreement as am
    from lunglab.services.collab.agreement import reader_metrics

    stack = [reader_labels(shape, r) for r in range(a.readers)]  # type: ignore[arg-type]
    stored = am.majority_vote(stack, MAX_LABEL) if a.stored_consensus else None
    counts = np.bincount(np.concatenate([s.ravel() for s in stack]), minlength=4) / a.readers
    print(f"{a.readers} readers, {shape[0]}x{shape[1]}x{shape[2]} voxels of "
          f"{'x'.join(str(v) for v in SPACING_XYZ)} mm; voxels per reader: lung "
          f"{counts[1]:.0f}, GGO {counts[2]:.0f}, consolidation {counts[3]:.0f}; consensus: "
          f"{'stored' if stored is not None else 'majority (not stored)'}")
    print(f"import torch + monai (once per process): {imports:.2f} s")

    spent: dict[str, float] = {}
    timed = [(sys.modules[__name__], "_before_hausdorff95", "before", "HD95"),
             (sys.modules[__name__], "_before_dice", "before", "Dice"),
             (am, "surfaces", "after", "HD95"), (am, "surface_hausdorff95", "after", "HD95"),
             (am, "dice", "after", "Dice")]
    for module, attr, run, part in timed:  # calls look these names up at call time
        setattr(module, attr, _timer(getattr(module, attr), spent, f"{run} {part}"))
    wall: dict[str, list[float]] = {"before": [], "after": []}
    cpu: dict[str, list[float]] = {"before": [], "after": []}
    results: dict[str, dict] = {}
    for _ in range(a.repeat):
        for name, fn in (("before", before), ("after", reader_metrics)):
            t, c = time.perf_counter(), time.process_time()
            results[name] = fn(stack, stored, SPACING_XYZ)  # type: ignore[operator]
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    for name in ("before", "after"):
        w, c = min(wall[name]), min(cpu[name])
        print(f"{name + ':':8}{w:6.2f} s ({c:.2f} s CPU, all threads); of which, per run: "
              f"HD95 {spent[name + ' HD95'] / a.repeat:.2f} s, "
              f"Dice {spent[name + ' Dice'] / a.repeat:.2f} s")
    b, f = min(wall["before"]), min(wall["after"])
    print(f"ratio:  {b / f:.1f}x ({min(cpu['before']) / min(cpu['after']):.1f}x CPU)")
    same = results["before"] == results["after"]
    print("results identical:", same)
    if not same:
        for key in results["before"]:
            if results["before"][key] != results["after"][key]:
                print(" differ:", key, results["before"][key], results["after"][key])
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
