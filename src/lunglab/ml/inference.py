"""Segment a CT volume: classical lung mask + 2D lung/lesion network, batched over slices.

Volumes (5+ slices): the lung is the 3D anatomical mask (:mod:`lunglab.imaging.anatomy`); the
network labels GGO and consolidation inside it only, then :mod:`lunglab.imaging.lesion_cleanup`
turns diaphragm partial volume and nodule rims back into lung. 1-4 slices: the lung is the
per-slice mask united with the network's lung (:func:`combine`).

Example:
    >>> from lunglab.ml import segment_volume, summarize
    >>> label_map, info = segment_volume(volume)  # doctest: +SKIP
    >>> summarize(label_map, volume.spacing)  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi

from lunglab.domain.labels import Label
from lunglab.domain.volume import CTVolume
from lunglab.imaging.hu import hu_window
from lunglab.imaging.lesion_cleanup import clean_lesions
from lunglab.imaging.lungs import fill_holes_per_slice, fill_pleural_bites, lung_and_outside_air
from lunglab.imaging.resample import inplane_shape, resize_probabilities, resize_slices
from lunglab.ml.models import size_divisor
from lunglab.ml.checkpoints import DEFAULT_MODEL, LoadedModel, load_model, resolve_device

TTA_MAX_SLICES = 4
"""Inputs with at most this many slices get 8-fold rotation/flip test-time augmentation."""


def _body_box(hu: np.ndarray) -> tuple[slice, slice]:
    """In-plane bounding box of the largest non-air region over all slices."""
    proj = (hu[:, ::2, ::2] > -500).any(axis=0)
    lab, n = ndi.label(proj)
    if n == 0:
        return slice(0, hu.shape[1]), slice(0, hu.shape[2])
    big = np.argmax(np.bincount(lab.ravel())[1:]) + 1
    ys, xs = np.nonzero(lab == big)
    return (slice(max(0, 2 * ys.min() - 4), min(hu.shape[1], 2 * ys.max() + 6)),
            slice(max(0, 2 * xs.min() - 4), min(hu.shape[2], 2 * xs.max() + 6)))


def _lung_box(teacher: np.ndarray, spacing_yx: tuple[float, float], body: tuple[slice, slice],
              margin_mm: float = 25.0) -> tuple[slice, slice]:
    """In-plane box of the anatomical lung plus a margin, mirrored about the body's centre.

    Mirroring keeps a lung that the classical mask lost (e.g. wholly consolidated) inside the box
    when the other lung was found. Falls back to the body box when there is no lung.
    """
    proj = teacher.any(axis=0)
    if not proj.any():
        return body
    ys, xs = np.nonzero(proj)
    out = []
    for lo, hi, mm, b in ((ys.min(), ys.max(), spacing_yx[0], body[0]),
                          (xs.min(), xs.max(), spacing_yx[1], body[1])):
        centre = (b.start + b.stop - 1) / 2
        lo2, hi2 = min(lo, 2 * centre - hi), max(hi, 2 * centre - lo)
        m = margin_mm / mm
        out.append(slice(int(max(b.start, lo2 - m)), int(min(b.stop, hi2 + m + 1))))
    return out[0], out[1]


def _z_range(teacher: np.ndarray, margin: int = 3) -> slice:
    zs = np.nonzero(teacher.any(axis=(1, 2)))[0]
    if zs.size == 0:
        return slice(0, teacher.shape[0])
    return slice(max(0, zs[0] - margin), min(teacher.shape[0], zs[-1] + margin + 1))


def _argmax_channels(prob: torch.Tensor) -> torch.Tensor:
    """Argmax over dim 1 by elementwise comparisons (much faster than ``argmax`` on CPU here)."""
    best = prob[:, 0].clone()
    idx = torch.zeros(best.shape, dtype=torch.uint8)
    for c in range(1, prob.shape[1]):
        better = prob[:, c] > best
        idx[better] = c
        best = torch.maximum(best, prob[:, c])
    return idx


def _dihedral(x: torch.Tensor, k: int, flip: bool, inverse: bool = False) -> torch.Tensor:
    if k == 0 and not flip:
        return x
    if not inverse:
        x = torch.rot90(x, k, dims=(-2, -1))
        return torch.flip(x, dims=(-1,)) if flip else x
    x = torch.flip(x, dims=(-1,)) if flip else x
    return torch.rot90(x, -k, dims=(-2, -1))


def predict_slices(loaded: LoadedModel | Any, hu: np.ndarray, spacing_yx: tuple[float, float],
                   batch_size: int = 16, tta: bool = False,
                   class_scale: Sequence[float] | None = None) -> np.ndarray:
    """Per-pixel classes (0..3) of a ``[z, y, x]`` HU stack from the network.

    Args:
        loaded: the network.
        hu: HU stack.
        spacing_yx: in-plane pixel size (row, column) in mm.
        batch_size: slices per forward pass.
        tta: average the softmax over the 8 rotations/flips.
        class_scale: per-class factors on the (averaged) probabilities before the argmax, e.g.
            ``(1, 1, e**b, e**b)`` to favour lesions (bench/kfold_ensemble.py); None: plain argmax.

    Returns:
        uint8 classes with the shape of ``hu``.
    """
    z, h, w = hu.shape
    shape = inplane_shape((h, w), spacing_yx, loaded.model_mm)
    div = size_divisor(loaded.arch)
    pad_h, pad_w = (-shape[0]) % div, (-shape[1]) % div
    out = np.empty(hu.shape, np.uint8)
    views = [(k, f) for k in range(4) for f in (False, True)] if tta else [(0, False)]
    with torch.inference_mode():
        for start in range(0, z, batch_size):
            chunk = hu_window(hu[start:start + batch_size])
            x = torch.from_numpy(resize_slices(chunk, shape))[:, None]
            x = F.pad(x, (0, pad_w, 0, pad_h)).to(loaded.device)
            prob = None
            for k, f in views:
                view = _dihedral(x, k, f).contiguous()
                logits = _dihedral(loaded.forward(view), k, f, inverse=True)
                p = torch.softmax(logits.float(), dim=1)
                prob = p if prob is None else prob + p
            assert prob is not None  # at least one view
            prob = resize_probabilities(prob[:, :, :shape[0], :shape[1]], (h, w))
            if class_scale is not None:
                scale = torch.tensor(class_scale, dtype=prob.dtype, device=prob.device)
                prob = prob * scale[None, :, None, None]
            out[start:start + batch_size] = _argmax_channels(prob.cpu()).numpy()
    return out


def superior_from_direction(direction: tuple[float, ...]) -> int:
    """+1 if slice index grows towards the head (LPS z cosine of the slice axis > 0), else -1."""
    return -1 if len(direction) == 9 and float(direction[8]) < -0.5 else 1


def combine(teacher: np.ndarray, classes: np.ndarray, step: int = 1) -> np.ndarray:
    """Label map of 1-4 slice inputs from the anatomical lung mask and the network's classes.

    Lung = union of the teacher mask and the network's lung and lesions, with pleural bites
    filled (convex hull facing away from the mediastinum) and holes filled; lesions are kept
    only inside that lung. ``step`` > 1 finds the bites on every step-th pixel (speed).
    """
    lung = fill_holes_per_slice(fill_pleural_bites(teacher | (classes > 0), step=step))
    out = lung.astype(np.uint8)
    lesion = lung & (classes >= Label.GGO)
    out[lesion] = classes[lesion]
    return out


class Segmenter:
    """Lung + GGO + consolidation segmentation with one loaded model.

    Args:
        model: shipped model name or checkpoint path (None: the default model).
        device: ``auto``, ``cpu`` or ``cuda``.
        batch_size: slices per forward pass.
        tta: rotation/flip test-time augmentation; None: only for inputs of at most
            :data:`TTA_MAX_SLICES` slices.
    """

    def __init__(self, model: str | None = None, device: str = "auto",
                 batch_size: int = 16, tta: bool | None = None) -> None:
        from lunglab.ml.ensemble import load_ensemble, manifest_path

        self.device = resolve_device(device)
        manifest = manifest_path(model or DEFAULT_MODEL)
        self.loaded: Any = (load_ensemble(manifest, self.device) if manifest
                            else load_model(model, self.device))
        self.batch_size = batch_size
        self.tta = tta
        self.class_scale: Sequence[float] | None = None
        """Per-class probability factors before the argmax (evaluation only; None: off)."""

    @property
    def info(self) -> dict[str, Any]:
        """Model name, version and training settings, for provenance records."""
        cfg = self.loaded.meta["config"]
        return {"model": self.loaded.name, "version": str(self.loaded.meta.get("version", "1")),
                "arch": cfg["arch"], "model_mm": cfg["model_mm"], "device": self.device}

    def _use_tta(self, n_slices: int) -> bool:
        return n_slices <= TTA_MAX_SLICES if self.tta is None else self.tta

    def __call__(self, volume: CTVolume) -> tuple[np.ndarray, dict[str, Any]]:
        """Segment one volume; returns ``(label_map uint8 [z, y, x], info)``."""
        hu = np.asarray(volume.array)
        if hu.ndim != 3 or min(hu.shape) < 1:
            raise ValueError(f"expected a [z, y, x] volume, got shape {hu.shape}")
        sx, sy, _ = (float(s) for s in volume.spacing)
        up = superior_from_direction(volume.direction)
        teacher, outside_air = lung_and_outside_air(hu, volume.spacing, superior=up)
        zs = _z_range(teacher)
        ys, xs = _lung_box(teacher[zs], (sy, sx), _body_box(hu[zs]))
        few = hu.shape[0] <= TTA_MAX_SLICES
        net = self.loaded if few or not hasattr(self.loaded, "first_member") \
            else self.loaded.first_member()  # volumes: the first ensemble member alone (speed)
        classes = predict_slices(net, hu[zs, ys, xs], (sy, sx), self.batch_size,
                                 tta=self._use_tta(hu.shape[0]), class_scale=self.class_scale)
        classes[outside_air[zs, ys, xs]] = 0  # the network may call air outside the body lung
        label_map = teacher.astype(np.uint8)
        if few:
            label_map[zs, ys, xs] = combine(teacher[zs, ys, xs], classes)
            return label_map, self.info
        # Volumes: the 3D anatomical lung is the lung; the network only labels lesions in it.
        box = label_map[zs, ys, xs]
        lesion = (box > 0) & (classes >= Label.GGO)
        box[lesion] = classes[lesion]
        clean_lesions(label_map, hu, volume.spacing, body=~outside_air, up=up)
        return label_map, self.info


def segment_volume(volume: CTVolume, device: str = "auto", model: str | None = None
                   ) -> tuple[np.ndarray, dict[str, Any]]:
    """Segment lung, GGO and consolidation in a CT volume.

    Args:
        volume: HU volume (a single slice is ``[1, y, x]``).
        device: ``auto``, ``cpu`` or ``cuda``.
        model: shipped model name or checkpoint path; None for the default.

    Returns:
        ``(label_map, info)``: uint8 ``[z, y, x]`` with 0 background, 1 lung, 2 GGO,
        3 consolidation, and a dict with the model name and version.

    Raises:
        FileNotFoundError: unknown model. ValueError: bad device or volume shape.
    """
    return Segmenter(model, device)(volume)


def segment(volume: CTVolume) -> np.ndarray:
    """Three-line segmentation with the default model: returns the uint8 label map."""
    return segment_volume(volume)[0]
