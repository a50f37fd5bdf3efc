"""Speed and memory of ``lunglab segment`` on the real 512x512x141 series vs a Clara-style baseline.

Runs, each in its own process (so wall time includes imports and model loading, and peak RSS
is that process's own):
1. the whole ``lunglab segment SERIES --out-dir TMP --device cpu`` command;
2. a Clara-style baseline: DICOM load, resampling to 0.8x0.8x5 mm, MONAI SegResNet 3D
   (init_filters 32, random weights) with sliding-window inference (224x224x32, overlap 0.25),
   argmax and resampling back.

Usage:
    .venv/bin/python bench/segment.py [--series PATH] [--skip-baseline]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUNGLAB_SHARED_DIR", REPO.parent / "shared"))
SERIES = SHARED / "data" / "chest-ct-dicom-series" / "series"

RUN_CLI = ("import typer; from lunglab.cli.segment import segment; "
           "app = typer.Typer(); app.command('segment')(segment); "
           "app.command('noop')(lambda: None); "
           "app()")


def _timed_child(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd``; returns (wall seconds, peak RSS in MB of that child alone, output).

    Also prints the child's CPU time (user + system): on a shared machine the wall time
    depends on other load, the CPU time much less.
    """
    with tempfile.TemporaryFile(mode="w+") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        out = log.read()
    print(f"  [{Path(cmd[1]).name if cmd[1] != '-c' else 'lunglab segment'}] CPU time "
          f"{usage.ru_utime + usage.ru_stime:.1f} s (user {usage.ru_utime:.1f} + sys "
          f"{usage.ru_stime:.1f}), wall {wall:.1f} s")
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{out[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0, out


def baseline(series: Path) -> None:
    """The Clara-style baseline (in this process; prints its own timing as JSON)."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from monai.inferers import sliding_window_inference
    from monai.networks.nets import SegResNet

    from lunglab.io.load import load_ct

    start = time.perf_counter()
    vol = load_ct(series)
    torch.manual_seed(0)
    net = SegResNet(spatial_dims=3, in_channels=1, out_channels=2, init_filters=32,
                    blocks_down=(1, 2, 2, 4), blocks_up=(1, 1, 1)).eval()
    sx, sy, sz = vol.spacing
    z, y, x = vol.shape
    target = (max(1, round(z * sz / 5.0)), round(y * sy / 0.8), round(x * sx / 0.8))
    img = torch.from_numpy(vol.array.astype(np.float32))[None, None]
    img = ((img.clamp(-1000, 500) + 1000) / 1500)
    with torch.inference_mode():
        img = F.interpolate(img, size=target, mode="trilinear", align_corners=False)
        img = img.permute(0, 1, 3, 4, 2)  # [b, c, y, x, z] so the 32-slice axis is last
        logits = sliding_window_inference(img, (224, 224, 32), sw_batch_size=1, predictor=net,
                                          overlap=0.25)
        labels = logits.argmax(1, keepdim=True).permute(0, 1, 4, 2, 3).float()
        labels = F.interpolate(labels, size=(z, y, x), mode="nearest")
    print(json.dumps({"baseline_inner_s": round(time.perf_counter() - start, 2),
                      "resampled_shape_zyx": list(target), "labels": int(labels.sum() >= 0)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", type=Path, default=SERIES)
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--baseline-only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--model", default=None)
    a = p.parse_args()
    if a.baseline_only:
        baseline(a.series)
        return
    if not a.series.is_dir():
        raise SystemExit(f"series not found: {a.series} (set LUNGLAB_SHARED_DIR)")
    print(f"CPU cores: {os.cpu_count()}, series: {a.series}")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-c", RUN_CLI, "segment", str(a.series), "--out-dir", tmp,
               "--device", "cpu"] + (["--model", a.model] if a.model else [])
        wall, rss, out = _timed_child(cmd)
    rows = [ln for ln in out.splitlines() if ln.startswith("│ ")]
    print("\n".join(rows[-1:]) or out[-1000:])
    print(f"load average after the run: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores")
    print(f"lunglab segment (whole command, incl. imports + model load): "
          f"{wall:.2f} s, peak RSS {rss:.0f} MB")
    if a.skip_baseline:
        return
    bcmd = [sys.executable, str(Path(__file__).resolve()), "--baseline-only", "--series",
            str(a.series)]
    bwall, brss_all, bout = _timed_child(bcmd)
    print(bout.strip().splitlines()[-1])
    print(f"Clara-style baseline (SegResNet 3D, 224x224x32 sliding window at 0.8x0.8x5 mm): "
          f"{bwall:.2f} s, peak RSS {brss_all:.0f} MB")
    print(f"ratio lunglab / baseline: {wall / bwall:.3f}x")


if __name__ == "__main__":
    main()
