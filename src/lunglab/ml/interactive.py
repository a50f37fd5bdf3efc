"""Click-conditioned lesion model ("Smart click", the DeepGrow/DeepEdit recipe) on one slice.

The network sees a square crop around the latest click, resampled to :data:`CROP_MM` / pixels:
the windowed HU, the current lesion mask, and Gaussian maps of the positive and negative clicks.
It returns the corrected lesion mask of that crop; outside the crop nothing changes.

Example::

    from lunglab.ml.interactive import ClickModel, Click
    model = ClickModel.load()
    lesion = model.correct(hu_slice, lesion_mask, spacing_yx=(0.75, 0.75),
                           clicks=[Click(y=120, x=88, positive=True)])
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lunglab.imaging.hu import hu_window

CROP_PX = 128
"""Side of the network input in pixels."""
MODEL_MM = 1.25
"""Pixel size of the network input (so the crop covers 160 mm)."""
CLICK_SIGMA_PX = 3.0
"""Gaussian radius of a click in network pixels."""
IN_CHANNELS = 4
"""HU window, current lesion, positive clicks, negative clicks."""
CHANNELS = (16, 32, 64, 128)
"""The UNet's feature channels per level (strides 2, one residual unit, batch norm)."""
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_CLICK_MODEL = "lunglab-smartclick2d-v1"
NEGATIVE_DISC_MM = 4.0
"""A negative click the network disagrees with (it keeps the clicked pixel) takes out the lesion
within this radius of the click, not the whole lesion (false positives mostly continue a true
lesion; docs/models.md)."""
CONSOLIDATION_HU = -300.0
"""New lesion components with a mean above this HU become consolidation, the others GGO."""


@dataclass(frozen=True)
class Click:
    """One click on a slice, in the slice's own pixel indices."""

    y: int
    x: int
    positive: bool = True


def build_click_net(channels: tuple[int, ...] = CHANNELS) -> torch.nn.Module:
    """The interactive network: a small MONAI 2D UNet, 4 inputs, 1 logit (``channels`` per
    level; a checkpoint records its own, see :meth:`ClickModel.load`)."""
    from monai.networks.nets import UNet

    return UNet(spatial_dims=2, in_channels=IN_CHANNELS, out_channels=1,
                channels=tuple(channels), strides=(2,) * (len(channels) - 1), num_res_units=1,
                norm="batch")


def click_map(shape: tuple[int, int], points: list[tuple[float, float]],
              sigma: float = CLICK_SIGMA_PX) -> np.ndarray:
    """Max of Gaussian discs (peak 1) at ``points`` (``(y, x)`` in pixels) on a ``shape`` grid."""
    out = np.zeros(shape, np.float32)
    if not points:
        return out
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    for y, x in points:
        np.maximum(out, np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * sigma ** 2)), out=out)
    return out


@dataclass(frozen=True)
class CropGeometry:
    """Where the network crop lies on the slice: centre and the slice pixels per network pixel."""

    cy: float
    cx: float
    step_y: float
    step_x: float

    def source_coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Slice coordinates (float) of every network pixel centre, each ``[CROP_PX]``."""
        offs = np.arange(CROP_PX, dtype=np.float32) - (CROP_PX - 1) / 2.0
        return self.cy + offs * self.step_y, self.cx + offs * self.step_x

    def to_crop(self, y: float, x: float) -> tuple[float, float]:
        """Slice pixel to network pixel coordinates."""
        c = (CROP_PX - 1) / 2.0
        return (y - self.cy) / self.step_y + c, (x - self.cx) / self.step_x + c


def geometry(cy: float, cx: float, spacing_yx: tuple[float, float]) -> CropGeometry:
    """Crop of :data:`CROP_PX` network pixels of :data:`MODEL_MM` centred on ``(cy, cx)``."""
    return CropGeometry(float(cy), float(cx), MODEL_MM / spacing_yx[0], MODEL_MM / spacing_yx[1])


def sample(image: np.ndarray, geo: CropGeometry, fill: float, order: int = 1) -> np.ndarray:
    """Resample ``image`` [y, x] onto the crop grid (bilinear or nearest), ``fill`` outside."""
    from scipy.ndimage import map_coordinates

    ys, xs = geo.source_coords()
    grid = np.stack(np.meshgrid(ys, xs, indexing="ij"))
    return map_coordinates(image.astype(np.float32), grid, order=order, mode="constant",
                           cval=fill).astype(np.float32)


def network_input(hu: np.ndarray, lesion: np.ndarray, clicks: list[Click],
                  geo: CropGeometry) -> np.ndarray:
    """The 4-channel network input ``[4, CROP_PX, CROP_PX]`` for one crop."""
    hu_c = sample(hu, geo, fill=-1100.0)
    les_c = sample(lesion.astype(np.float32), geo, fill=0.0)
    shape = (CROP_PX, CROP_PX)
    pos = [geo.to_crop(c.y, c.x) for c in clicks if c.positive]
    neg = [geo.to_crop(c.y, c.x) for c in clicks if not c.positive]
    return np.stack([hu_window(hu_c), (les_c >= 0.5).astype(np.float32),
                     click_map(shape, pos), click_map(shape, neg)])


def paste(prob: np.ndarray, geo: CropGeometry, shape: tuple[int, int]
          ) -> tuple[np.ndarray, np.ndarray]:
    """Map a crop probability back onto the slice grid (only the crop's bounding box is resampled).

    Returns:
        ``(mask, covered)``: the thresholded prediction and the slice pixels the crop covers.
    """
    from scipy.ndimage import map_coordinates

    c = (CROP_PX - 1) / 2.0
    half_y, half_x = (c + 0.5) * geo.step_y, (c + 0.5) * geo.step_x
    y0 = max(0, int(np.floor(geo.cy - half_y)))
    y1 = min(shape[0], int(np.ceil(geo.cy + half_y)) + 1)
    x0 = max(0, int(np.floor(geo.cx - half_x)))
    x1 = min(shape[1], int(np.ceil(geo.cx + half_x)) + 1)
    mask = np.zeros(shape, bool)
    covered = np.zeros(shape, bool)
    if y1 <= y0 or x1 <= x0:
        return mask, covered
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    ty = (yy - geo.cy) / geo.step_y + c
    tx = (xx - geo.cx) / geo.step_x + c
    cov = (ty >= -0.5) & (ty <= CROP_PX - 0.5) & (tx >= -0.5) & (tx <= CROP_PX - 0.5)
    up = map_coordinates(prob, np.stack([ty, tx]), order=1, mode="nearest")
    mask[y0:y1, x0:x1] = (up >= 0.5) & cov
    covered[y0:y1, x0:x1] = cov
    return mask, covered


class ClickModel:
    """The loaded interactive network (load once, call per click)."""

    def __init__(self, net: torch.nn.Module, meta: dict[str, Any] | None = None) -> None:
        self.net = net.eval()
        self.meta = meta or {}

    @classmethod
    def load(cls, path: str | Path | None = None) -> ClickModel:
        """Load a checkpoint (default: the shipped :data:`DEFAULT_CLICK_MODEL`).

        Raises:
            FileNotFoundError: when the weights are missing.
        """
        p = Path(path) if path else WEIGHTS_DIR / f"{DEFAULT_CLICK_MODEL}.pt"
        if not p.is_file():
            raise FileNotFoundError(f"interactive model weights not found: {p}")
        ckpt = torch.load(p, map_location="cpu", weights_only=False)
        net = build_click_net(tuple(ckpt.get("meta", {}).get("channels") or CHANNELS))
        net.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
        return cls(net, ckpt.get("meta", {}))

    def predict_crop(self, x: np.ndarray) -> np.ndarray:
        """Probabilities ``[CROP_PX, CROP_PX]`` for one network input ``[4, H, W]``."""
        first = next(self.net.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
        with torch.inference_mode():
            logits = self.net(torch.from_numpy(x[None]).to(device))
        return torch.sigmoid(logits)[0, 0].cpu().numpy()

    def correct(self, hu: np.ndarray, lesion: np.ndarray, spacing_yx: tuple[float, float],
                clicks: list[Click], local: bool = True) -> np.ndarray:
        """The corrected lesion mask of one slice.

        Args:
            hu: HU slice ``[y, x]``.
            lesion: current lesion mask ``[y, x]`` (bool).
            spacing_yx: pixel size in mm.
            clicks: this slice's clicks, the latest last (the crop is centred on it).
            local: change only the region the latest click is in (a positive click adds the
                predicted lesion that holds it; a negative click removes the predicted removal
                that holds it, or, when the network kept the clicked pixel, the lesion within
                :data:`NEGATIVE_DISC_MM` of the click). False: the
                whole crop is redrawn (DeepEdit); the simulated reader gains less per click
                and loses ground after four clicks that way (docs/models.md).

        Returns:
            bool ``[y, x]``: the corrected mask; outside the crop nothing changes.
        """
        if not clicks:
            return lesion.astype(bool)
        last = clicks[-1]
        geo = geometry(last.y, last.x, spacing_yx)
        prob = self.predict_crop(network_input(hu, lesion, clicks, geo))
        mask, covered = paste(prob, geo, lesion.shape)
        out = lesion.astype(bool).copy()
        out[covered] = mask[covered]
        kept_click = bool(out[last.y, last.x]) if 0 <= last.y < out.shape[0] and \
            0 <= last.x < out.shape[1] else False
        # a click is a hard constraint at its own pixel
        for c in clicks:
            if 0 <= c.y < out.shape[0] and 0 <= c.x < out.shape[1]:
                out[c.y, c.x] = c.positive
        if not local:
            return out
        before = lesion.astype(bool)
        if last.positive:
            return before | component_at(out, last.y, last.x)
        if kept_click:  # the network disagrees: the reader's "not lesion" wins around the click
            yy, xx = np.ogrid[0:before.shape[0], 0:before.shape[1]]
            near = (((yy - last.y) * spacing_yx[0]) ** 2 + ((xx - last.x) * spacing_yx[1]) ** 2
                    <= NEGATIVE_DISC_MM ** 2)
            return before & ~near
        return before & ~component_at(before & ~out, last.y, last.x)


def component_at(mask: np.ndarray, y: int, x: int) -> np.ndarray:
    """The 8-connected component of ``mask`` that holds ``(y, x)`` (empty when it is off)."""
    from scipy.ndimage import label

    if not (0 <= y < mask.shape[0] and 0 <= x < mask.shape[1]) or not mask[y, x]:
        return np.zeros(mask.shape, bool)
    comp, _ = label(mask, structure=np.ones((3, 3), bool))
    return comp == comp[y, x]


def lesion_classes(hu: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Lesion labels (0, 2 GGO, 3 consolidation) for ``after``, keeping ``before``'s classes.

    Args:
        hu: HU, same shape as the labels.
        before: labels before the click (0..3 label map values).
        after: the corrected lesion mask (bool).

    Returns:
        uint8 labels: pixels that stay lesion keep their class; new lesion pixels take the class of
        their connected component by mean HU (above :data:`CONSOLIDATION_HU`: consolidation).
    """
    from scipy.ndimage import label as cc_label

    out = np.where(after & np.isin(before, (2, 3)), before, 0).astype(np.uint8)
    new = after & ~np.isin(before, (2, 3))
    if new.any():
        comp, n = cc_label(new)
        means = np.bincount(comp.ravel(), weights=hu.ravel().astype(np.float64),
                            minlength=n + 1) / np.maximum(np.bincount(comp.ravel(),
                                                                      minlength=n + 1), 1)
        cls = np.where(means > CONSOLIDATION_HU, 3, 2).astype(np.uint8)
        cls[0] = 0
        out[new] = cls[comp[new]]
    return out


def save_checkpoint(net: torch.nn.Module, path: Path, meta: dict[str, Any]) -> None:
    """fp16 weights, fp32 buffers plus metadata (data, seed, iterations, metrics) in one file."""
    from lunglab.ml.checkpoints import compact_state

    state = compact_state(net)
    torch.save({"state_dict": state, "meta": json.loads(json.dumps(meta))}, path)
