"""Chest radiographs: the 2D recipe's input and the segmenter a project's radiograph model runs in.

LungLab ships no radiograph model (docs/radiographs.md says why); a project trains one from its
approved one-slice label maps (``modality="xr"`` in :mod:`lunglab.services.training.runs`). The
network is the same 2D U-Net as for CT, with four outputs (background, lung field, GGO-like hazy
opacity, consolidation). What differs from CT:

- **Input.** A radiograph has no Hounsfield scale: its stored values are whatever the detector
  and the VOI LUT gave. :func:`radiograph_unit` maps the 0.5th-99.5th percentile of the image to
  [0, 1], so a DICOM CR, a DX and a PNG look alike to the network.
- **Grid.** The whole image is resized to a square ``grid`` (256 pixels by default), not to a
  pixel size in mm: pictures carry no pixel spacing, and the lung fields fill most of any chest
  radiograph.
- **Augmentation.** Upright films: flips left-right, small rotations and scales, no 90 degree
  turns (:func:`lunglab.ml.transforms.radiograph_transforms`).
- **Post-processing.** At most the two largest lung-field components (each at least
  :data:`MIN_FIELD_FRACTION` of the image) are kept, with their holes filled as lung; nothing
  outside them remains, so an opacity is always inside a lung field.

Example:
    >>> seg = RadiographSegmenter("/data/models/7/run3/lunglab-p7-v3.pt")  # doctest: +SKIP
    >>> labels, info = seg(volume)  # volume.array: [1, rows, columns]  # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi

from lunglab.domain.errors import InvalidInput
from lunglab.domain.labels import Label
from lunglab.domain.volume import CTVolume
from lunglab.imaging.resample import resize_slices

XR_GRID = 256
"""Square input size of the radiograph networks, in pixels."""
MIN_FIELD_FRACTION = 0.01
"""A lung-field component smaller than this share of the image is dropped."""
NO_SHIPPED_MODEL = ("LungLab ships no radiograph model: train one from approved radiograph "
                    "label maps (Training, 'Chest radiographs'), then promote it")


def radiograph_unit(image: np.ndarray) -> np.ndarray:
    """Stored radiograph values to [0, 1] by their 0.5th-99.5th percentiles (float32).

    Brighter stays brighter (MONOCHROME1 is inverted at ingest). A flat image maps to 0.
    """
    img = np.asarray(image, np.float32)
    lo, hi = np.percentile(img, (0.5, 99.5))
    if hi <= lo:
        return np.zeros_like(img)
    return np.clip((img - lo) / (hi - lo), 0.0, 1.0)


def prepare_radiograph(image: np.ndarray, grid: int = XR_GRID) -> np.ndarray:
    """One radiograph ``[rows, columns]`` as the network's ``[grid, grid]`` float32 input."""
    if image.ndim != 2:
        raise InvalidInput(f"a radiograph is one 2D image, not an array of shape {image.shape}")
    return resize_slices(radiograph_unit(image)[None], (grid, grid))[0].astype(np.float32)


def clean_radiograph_labels(labels: np.ndarray) -> np.ndarray:
    """Keep the two largest lung fields (labels 1-3), fill their holes as lung, drop the rest."""
    lung = labels > 0
    comp, n = ndi.label(lung)
    if n == 0:
        return np.zeros_like(labels)
    sizes = np.bincount(comp.ravel())[1:]
    keep = [int(i) + 1 for i in np.argsort(sizes)[::-1][:2]
            if sizes[i] >= MIN_FIELD_FRACTION * labels.size]
    out = np.zeros_like(labels)
    for k in keep:
        field = ndi.binary_fill_holes(comp == k)
        out[field] = np.where(labels[field] > 0, labels[field], int(Label.LUNG))
    return out


class RadiographSegmenter:
    """Runs a project's radiograph model on one-slice studies (callable like
    :class:`lunglab.ml.Segmenter`: ``labels, info = seg(volume)``).

    Args:
        model: the ``.pt`` checkpoint of a radiograph model version; None raises
            ``FileNotFoundError`` (none is shipped).
        device: ``cpu`` or ``cuda``.

    Raises:
        FileNotFoundError: no model given. InvalidInput: the checkpoint is a CT model.
    """

    def __init__(self, model: str | None, device: str = "cpu") -> None:
        from lunglab.ml.checkpoints import load_model

        if model is None:
            raise FileNotFoundError(NO_SHIPPED_MODEL)
        self.loaded = load_model(model, device)
        self.device = device
        if self.loaded.meta.get("modality") != "xr":
            raise InvalidInput(f"{self.loaded.name} is a CT model, not a radiograph model")
        self.grid = int(self.loaded.meta.get("xr_grid") or XR_GRID)

    def __call__(self, volume: CTVolume) -> tuple[np.ndarray, dict[str, Any]]:
        """Label map ``[1, rows, columns]`` (uint8) and what was run."""
        if volume.array.ndim != 3 or volume.array.shape[0] != 1:
            raise InvalidInput(f"a radiograph is one slice; this study has shape "
                               f"{tuple(volume.array.shape)}")
        rows, cols = volume.array.shape[1:]
        x = torch.from_numpy(prepare_radiograph(volume.array[0], self.grid))[None, None]
        with torch.inference_mode():
            logits = self.loaded.forward(x.to(self.device)).float().cpu()
            prob = F.interpolate(torch.softmax(logits, 1), size=(rows, cols), mode="bilinear",
                                 align_corners=False)
        labels = clean_radiograph_labels(prob[0].argmax(0).to(torch.uint8).numpy())
        info = {"model": self.loaded.name, "model_name": self.loaded.name, "modality": "xr",
                "grid": self.grid, "device": self.device}
        return labels[None], info


def radiograph_summary(labels: np.ndarray) -> dict[str, Any]:
    """Areas in pixels and the share of the lung fields that is opaque (no volumes: 2D)."""
    counts = np.bincount(labels.ravel(), minlength=4)
    lung = int(counts[1:].sum())
    opaque = int(counts[2] + counts[3])
    return {"lung_px": lung, "ggo_px": int(counts[2]), "consolidation_px": int(counts[3]),
            "percent_involved": round(100.0 * opaque / lung, 2) if lung else 0.0}
