"""Anatomy of the AI label map on the real demo series, against a 3D reference lung mask.

Prints, for the demo series (and variants of it): lung Dice against the reference built in
``bench/anatomy_reference.py``, mL of lung label outside the reference, lesion mL (the scan has
no COVID-19), and for the series padded with an abdomen: mL of added gas labelled lung. Writes
overlays to ``bench/out/`` (axial ~90 mediastinum, ~25 bases, coronal; the abdomen case in
coronal): look at them.

Goals (issue 14): Dice >= 0.97, <= 20 mL outside, <= 15 mL lesion; abdomen: no gas labelled lung,
lesion near zero.

Usage:
    .venv/bin/python bench/anatomy.py                 # demo, abdomen, 6 mm slices, prone
    .venv/bin/python bench/anatomy.py --cases demo    # one case
    .venv/bin/python bench/anatomy.py --thin          # also 0.67 mm slices (interpolated, slow)
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from anatomy_reference import (
    prone,
    reference_lung,
    thick_mask,
    thick_slices,
    with_abdomen,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUNGLAB_SHARED_DIR", REPO.parent / "shared"))
SERIES = SHARED / "data" / "chest-ct-dicom-series" / "series"
OUT = REPO / "bench" / "out"
GOALS = {"dice": 0.97, "outside_ml": 20.0, "lesion_ml": 15.0, "gas_ml": 0.0}


def scores(label_map: np.ndarray, ref: np.ndarray, voxel_ml: float,
           gas: np.ndarray | None = None) -> dict[str, float]:
    """Lung Dice, lung mL outside the reference, lesion mL (and gas labelled lung, mL)."""
    lung = label_map > 0
    inter = float((lung & ref).sum())
    out = {
        "dice": 2 * inter / max(1.0, float(lung.sum() + ref.sum())),
        "lung_ml": float(lung.sum()) * voxel_ml,
        "ref_ml": float(ref.sum()) * voxel_ml,
        "outside_ml": float((lung & ~ref).sum()) * voxel_ml,
        "missed_ml": float((ref & ~lung).sum()) * voxel_ml,
        "lesion_ml": float((label_map >= 2).sum()) * voxel_ml,
    }
    if gas is not None:
        out["gas_ml"] = float((lung & gas).sum()) * voxel_ml
    return out


def overlay(hu: np.ndarray, label_map: np.ndarray, ref: np.ndarray, path: Path,
            axial: list[int], coronal_row: int, aspect: float, title: str) -> None:
    """Axial slices and one coronal slice: label colours, reference outline in cyan."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap([(0, 0, 0, 0), (0.1, 0.5, 1, 0.35), (1, 0.9, 0, 0.7), (1, 0, 0, 0.7)])
    views = [(hu[z], label_map[z], ref[z], f"axial {z}", "upper", 1.0) for z in axial]
    views.append((hu[:, coronal_row], label_map[:, coronal_row], ref[:, coronal_row],
                  f"coronal row {coronal_row}", "lower", aspect))
    fig, axs = plt.subplots(1, len(views), figsize=(4.2 * len(views), 4.6))
    for ax, (img, lab, rf, name, origin, asp) in zip(axs, views, strict=True):
        ax.imshow(np.clip(img, -1000, 300), cmap="gray", origin=origin, aspect=asp)
        ax.imshow(lab, cmap=cmap, vmin=0, vmax=3, origin=origin, aspect=asp,
                  interpolation="nearest")
        if rf.any():
            ax.contour(rf, [0.5], colors="cyan", linewidths=0.6)
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title + "  (blue lung, yellow GGO, red consolidation; cyan: reference)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", type=Path, default=SERIES)
    p.add_argument("--cases", nargs="*", default=["demo", "abdomen", "thick", "prone"])
    p.add_argument("--thin", action="store_true", help="also 0.67 mm slices (slow)")
    p.add_argument("--model", default=None)
    p.add_argument("--no-png", action="store_true")
    a = p.parse_args()
    if not a.series.is_dir():
        raise SystemExit(f"series not found: {a.series} (set LUNGLAB_SHARED_DIR)")
    import torch

    from lunglab.domain.volume import CTVolume
    from lunglab.io.load import load_ct
    from lunglab.ml.inference import Segmenter

    torch.set_num_threads(2)
    OUT.mkdir(parents=True, exist_ok=True)
    vol = load_ct(a.series)
    hu = np.asarray(vol.array)
    sx, sy, sz = vol.spacing
    start = time.perf_counter()
    ref = reference_lung(hu, vol.spacing)
    print(f"reference lung: {ref.sum() * vol.voxel_volume_ml:.0f} mL "
          f"({time.perf_counter() - start:.1f} s)")
    seg = Segmenter(a.model, "cpu")
    cases = list(a.cases) + (["thin"] if a.thin else [])
    failed = []
    for case in cases:
        gas = None
        if case == "demo":
            c_hu, c_ref, c_sp = hu, ref, vol.spacing
        elif case == "abdomen":
            c_hu, gas = with_abdomen(hu, vol.spacing)
            c_ref = np.concatenate([np.zeros((c_hu.shape[0] - hu.shape[0], *hu.shape[1:]), bool),
                                    ref])
            c_sp = vol.spacing
        elif case == "thick":
            c_hu, c_ref, c_sp = thick_slices(hu, 3), thick_mask(ref, 3), (sx, sy, 3 * sz)
        elif case == "prone":
            c_hu, c_ref, c_sp = prone(hu), prone(ref), vol.spacing
        elif case == "thin":
            import torch.nn.functional as F

            n = round(hu.shape[0] * sz / 0.667)
            t = torch.from_numpy(hu.astype(np.float32))[None, None]
            c_hu = F.interpolate(t, size=(n, *hu.shape[1:]), mode="trilinear")[0, 0]
            c_hu = np.rint(c_hu.numpy()).astype(np.int16)
            idx = np.minimum(np.round(np.arange(n) * hu.shape[0] / n).astype(int),
                             hu.shape[0] - 1)
            c_ref, c_sp = ref[idx], (sx, sy, sz * hu.shape[0] / n)
        else:
            raise SystemExit(f"unknown case {case}")
        cvol = CTVolume(c_hu, c_sp, vol.origin, vol.direction)
        t0 = time.perf_counter()
        label_map, _ = seg(cvol)
        secs = time.perf_counter() - t0
        s = scores(label_map, c_ref, cvol.voxel_volume_ml, gas)
        line = (f"{case:8s} {c_hu.shape[0]:4d} slices x {c_sp[2]:.2f} mm: lung Dice "
                f"{s['dice']:.3f}, lung {s['lung_ml']:.0f} mL (reference {s['ref_ml']:.0f}), "
                f"outside reference {s['outside_ml']:.1f} mL, missed {s['missed_ml']:.1f} mL, "
                f"lesion {s['lesion_ml']:.1f} mL")
        if gas is not None:
            line += f", gas labelled lung {s['gas_ml']:.1f} mL"
        print(line + f"  [{secs:.1f} s]")
        for key, goal in GOALS.items():
            if key not in s:
                continue
            ok = s[key] >= goal if key == "dice" else s[key] <= goal
            if not ok:
                failed.append(f"{case} {key} {s[key]:.3f} (goal {goal})")
        if not a.no_png:
            shift = c_hu.shape[0] - hu.shape[0] if case == "abdomen" else 0
            k = (c_hu.shape[0] - shift) / hu.shape[0]
            axial = [round(90 * k) + shift, round(25 * k) + shift]
            row = 280
            if gas is not None:  # the padded abdomen: the stomach bubble and the gas-richest row
                bubble_z = shift + int(np.argmax(gas[shift:].sum(axis=(1, 2))))
                axial = [axial[1], bubble_z, int(np.argmax(gas[:shift].sum(axis=(1, 2))))]
                row = int(np.argmax(gas.sum(axis=(0, 2))))
                print(f"         gas added: {gas.sum() * cvol.voxel_volume_ml:.0f} mL "
                      f"({gas[shift:].sum() * cvol.voxel_volume_ml:.0f} mL of it a stomach "
                      f"bubble under the left dome, slices {shift}-{shift + 9})")
            overlay(c_hu, label_map, c_ref, OUT / f"anatomy_{case}.png", axial, row,
                    c_sp[2] / c_sp[1], f"{case}: {a.series.parent.name}")
    print("goals not met: " + ("; ".join(failed) if failed else "none"))
    print(f"overlays in {OUT}")
    print("reproduce: .venv/bin/python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
