"""Train the click-conditioned lesion model with simulated clicks (DeepGrow/DeepEdit recipe).

Each sample: a slice (MedSeg expert labels, or Inf-Net pseudo labels on the radiopaedia slices),
a rotation/flip, a starting lesion mask (empty, or the reference with components dropped, eroded
or dilated, and false blobs added), the click at the centre of the largest error region, and,
from a third of the run on, up to ``--loop-clicks`` further clicks, each after the network's
own answer (DeepEdit's click loop). The target is the reference lesion inside the crop around
the latest click.

    nice -n 10 .venv/bin/python -m lunglab.ml.interactive_train --iterations 3000 \
        --out src/lunglab/ml/weights/lunglab-smartclick2d-v1.pt
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from lunglab.ml.click_sim import error_click
from lunglab.ml.dataset import MEDSEG_PIXEL_MM, list_ids, load_slice, medseg_dir, split_ids
from lunglab.ml.interactive import (
    CHANNELS, CROP_PX, Click, ClickModel, build_click_net, component_at, geometry,
    network_input, sample, save_checkpoint,
)
from lunglab.ml.schedules import one_cycle


@dataclass
class ClickTrainConfig:
    """Everything a run depends on (recorded in the checkpoint)."""

    iterations: int = 3000
    batch_size: int = 16
    lr: float = 2e-3
    seed: int = 0
    threads: int = 1
    pseudo_fraction: float = 0.25
    max_pseudo: int = 400
    train_ids: list[str] = field(default_factory=list)
    init: str | None = None
    replay_medseg: bool = True
    error_weight: float = 0.0
    """Extra loss weight on the error region the latest click is in (0: plain BCE + Dice), so
    the network learns to fix the whole region a click points at."""
    starts: str | None = None
    """``.npz`` of automatic proposals (lesion masks) for the training ids: half the samples of
    a slice that has one start from it (the errors a reader corrects in practice)."""
    loop_clicks: int = 1
    """At most this many of the network's own answers, each followed by the reader's next click,
    before the trained click (DeepEdit's click loop; uniform 0..n). The reader of
    ``bench/interactive.py`` clicks up to ten times, so later clicks meet several click maps."""
    channels: list[int] = field(default_factory=lambda: list(CHANNELS))
    """The UNet's channels per level when training from scratch (``init`` keeps its own)."""
    device: str = "cpu"
    """``cpu`` or ``cuda``: where the network trains (samples are drawn on the CPU)."""
    extra: list[tuple[np.ndarray, np.ndarray, float]] = field(default_factory=list, repr=False)


def load_training_slices(cfg: ClickTrainConfig) -> tuple[list, list]:
    """``(labelled, pseudo)`` lists of ``(hu, lesion, spacing_mm)``."""
    from PIL import Image

    from lunglab.imaging.hu import pixels_to_hu

    from lunglab.ml.dataset import shared_dir

    if not cfg.replay_medseg or shared_dir() is None:  # fine-tuning on the project's data alone
        if not cfg.extra:
            raise ValueError("no training slices: no shared MedSeg data and no extra slices")
        return [], []
    ids = cfg.train_ids or split_ids(list_ids())[0]
    if cfg.starts and not Path(cfg.starts).is_file():
        automatic_proposals(ids, Path(cfg.starts))
    labelled: list[tuple] = [(s.hu, s.labels > 0, MEDSEG_PIXEL_MM) for s in map(load_slice, ids)]
    if cfg.starts:
        with np.load(cfg.starts) as z:
            labelled = [(*item, z[i]) if i in z.files else item
                        for i, item in zip(ids, labelled, strict=True)]
    root = medseg_dir() / "unlabeled_pseudo"
    pseudo: list[tuple] = []
    names = sorted(p.name for p in (root / "images").glob("*radiopaedia*.jpg"))
    rng = np.random.default_rng(cfg.seed)
    for name in rng.permutation(names):
        if len(pseudo) >= cfg.max_pseudo:
            break
        lab = np.asarray(Image.open(root / "pseudo_infection" / name.replace(".jpg", ".png"))
                         .convert("L")) >= 128
        if lab.sum() < 150:
            continue
        img = np.asarray(Image.open(root / "images" / name).convert("L"))
        if img.shape != lab.shape:
            continue
        pseudo.append((pixels_to_hu(img), lab, MEDSEG_PIXEL_MM))
    return labelled, pseudo


def noisy_outline(truth: np.ndarray, hu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The reference's signed distance plus a smooth random field, thresholded: outlines that
    wander by several pixels, lesions split or merged, and false blobs where the field is high."""
    from scipy.ndimage import distance_transform_edt, gaussian_filter, zoom

    sd = distance_transform_edt(truth) - distance_transform_edt(~truth)
    small = rng.normal(0, 1, size=(max(2, truth.shape[0] // 16), max(2, truth.shape[1] // 16)))
    field = zoom(small, (truth.shape[0] / small.shape[0], truth.shape[1] / small.shape[1]),
                 order=3)[:truth.shape[0], :truth.shape[1]]
    field = gaussian_filter(field, 2) * rng.uniform(4, 14) + rng.uniform(-3, 3)
    out = (sd + field) > 0
    return out & (hu > -950)


def automatic_proposals(ids: list[str], path: Path) -> None:
    """Write the automatic model's lesion masks of the MedSeg slices ``ids`` to ``path`` (.npz),
    each segmented as the blind test does it (the starting masks of ``--starts``)."""
    from lunglab.ml.evaluate import medseg_volume
    from lunglab.ml.inference import Segmenter

    seg = Segmenter(None, "cpu")
    out = {}
    for i in ids:
        pred, _ = seg(medseg_volume(load_slice(i)))
        out[i] = np.isin(pred[0], (2, 3))
    np.savez_compressed(path, **out)  # type: ignore[arg-type]


def perturb(truth: np.ndarray, hu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible imperfect starting mask derived from the reference."""
    from scipy.ndimage import binary_dilation, binary_erosion, label

    r = rng.random()
    if r < 0.15:
        return np.zeros_like(truth)
    if r < 0.55:  # boundary and blob errors like an automatic proposal's: a smooth random field
        return noisy_outline(truth, hu, rng)
    comp, n = label(truth)
    keep = np.concatenate([[False], rng.random(n) > 0.4])
    out = keep[comp]
    r = int(rng.integers(-4, 5))
    if r > 0:
        out = binary_dilation(out, iterations=r) & (hu > -950)
    elif r < 0:
        out = binary_erosion(out, iterations=-r)
    yy, xx = np.mgrid[0:truth.shape[0], 0:truth.shape[1]]
    for _ in range(int(rng.integers(0, 3))):
        cand = np.argwhere((hu > -850) & (hu < 150))
        if len(cand) == 0:
            break
        cy, cx = cand[rng.integers(len(cand))]
        ry, rx = rng.uniform(4, 25, size=2)
        out |= (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1) & (hu > -950)
    return out


def make_sample(item: tuple, rng: np.random.Generator, model: ClickModel | None,
                loop_clicks: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One ``(input [4, H, W], target [1, H, W], clicked error region [1, H, W])`` sample with
    simulated clicks."""
    hu, truth, mm = item[:3]
    start = item[3] if len(item) > 3 and rng.random() < 0.5 else None
    k = int(rng.integers(4))
    flip = rng.random() < 0.5

    def orient(a: np.ndarray) -> np.ndarray:
        a = np.rot90(a, k)
        return np.ascontiguousarray(a[:, ::-1] if flip else a)

    hu, truth = orient(hu) + rng.normal(0, 15), orient(truth)
    spacing = (mm * rng.uniform(0.8, 1.25),) * 2
    prev = orient(start) if start is not None else perturb(truth, hu, rng)
    click = error_click(prev, truth, rank=int(rng.integers(3)) if rng.random() < 0.3 else 0)
    if click is None:  # nothing to fix: a positive click on a lesion must keep it
        pts = np.argwhere(truth) if truth.any() else np.argwhere(hu > -2000)
        y, x = pts[rng.integers(len(pts))]
        click = Click(int(y), int(x), bool(truth[y, x]))
    clicks = [click]
    if model is not None and loop_clicks > 0:
        for _ in range(int(rng.integers(loop_clicks + 1))):
            prev = model.correct(hu, prev, spacing, clicks)
            nxt = error_click(prev, truth)
            if nxt is None:
                break
            clicks.append(nxt)
    jitter = rng.normal(0, 6, size=2)
    last = clicks[-1]
    geo = geometry(last.y + jitter[0], last.x + jitter[1], spacing)
    x = network_input(hu, prev, clicks, geo)
    y = (sample(truth.astype(np.float32), geo, 0.0) >= 0.5).astype(np.float32)[None]
    region = component_at(prev.astype(bool) ^ truth, last.y, last.x)
    w = (sample(region.astype(np.float32), geo, 0.0) >= 0.5).astype(np.float32)[None]
    return x, y, w


def dice_bce(logits: torch.Tensor, target: torch.Tensor,
             weight: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross-entropy (pixel weights ``weight``) plus soft Dice over the batch."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, weight=weight)
    p = torch.sigmoid(logits)
    inter = (p * target).sum()
    return bce + 1 - (2 * inter + 1) / (p.sum() + target.sum() + 1)


def train_click_model(cfg: ClickTrainConfig, out: Path, log=print) -> dict:
    """Train (or fine-tune from ``cfg.init``) and save the checkpoint to ``out``.

    Returns:
        The metadata stored with the weights.
    """
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    labelled, pseudo = load_training_slices(cfg)
    if cfg.init:  # the starting weights bring their own channels
        base = ClickModel.load(cfg.init)
        net, cfg.channels = base.net, list(base.meta.get("channels") or CHANNELS)
    else:
        net = build_click_net(tuple(cfg.channels))
    dev = torch.device(cfg.device)
    net = net.to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = one_cycle(opt, cfg.lr, cfg.iterations, pct_start=0.1)
    start, losses = time.time(), []
    for it in range(cfg.iterations):
        loop_model = ClickModel(net) if cfg.init or it > cfg.iterations // 3 else None
        xs, ys, ws = [], [], []
        for _ in range(cfg.batch_size):
            r = rng.random()
            pool = (pseudo if pseudo and r < cfg.pseudo_fraction else
                    cfg.extra if cfg.extra and (r > 0.5 or not labelled) else labelled)
            x, y, w = make_sample(pool[rng.integers(len(pool))], rng, loop_model,
                                  cfg.loop_clicks)
            xs.append(x)
            ys.append(y)
            ws.append(1.0 + cfg.error_weight * w)
        net.train()
        loss = dice_bce(net(torch.from_numpy(np.stack(xs)).to(dev)),
                        torch.from_numpy(np.stack(ys)).to(dev),
                        torch.from_numpy(np.stack(ws)).to(dev) if cfg.error_weight else None)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if (it + 1) % 50 == 0:
            log(f"it {it + 1}/{cfg.iterations} loss {np.mean(losses[-50:]):.4f} "
                f"{time.time() - start:.0f}s")
    meta = {f.name: getattr(cfg, f.name) for f in fields(cfg) if f.name != "extra"}
    meta.update(crop_px=CROP_PX, labelled_slices=len(labelled), pseudo_slices=len(pseudo),
                project_slices=len(cfg.extra),
                seconds=round(time.time() - start), final_loss=float(np.mean(losses[-100:])))
    net.eval()
    save_checkpoint(net.cpu(), out, meta)
    return meta


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iterations", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--error-weight", type=float, default=0.0,
                    help="extra loss weight on the clicked error region")
    ap.add_argument("--loop-clicks", type=int, default=1,
                    help="at most this many model-in-the-loop clicks before the trained one")
    ap.add_argument("--init", default=None, help="start from these click-model weights")
    ap.add_argument("--starts", default=None, help=".npz of automatic proposals per training "
                    "id (made with the shipped automatic model when the file is missing)")
    ap.add_argument("--channels", default=",".join(map(str, CHANNELS)),
                    help="UNet channels per level, from scratch only (e.g. 32,64,128,256)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    cfg = ClickTrainConfig(iterations=a.iterations, batch_size=a.batch_size, seed=a.seed,
                           threads=a.threads, lr=a.lr, init=a.init, error_weight=a.error_weight,
                           starts=a.starts, loop_clicks=a.loop_clicks,
                           channels=[int(c) for c in a.channels.split(",")], device=a.device)
    print(train_click_model(cfg, a.out, log=lambda m: print(m, flush=True)))


if __name__ == "__main__":
    main()
