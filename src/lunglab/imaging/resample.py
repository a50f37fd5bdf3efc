"""In-plane resampling of slice stacks and label maps (torch interpolation, no I/O)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def inplane_shape(shape_yx: tuple[int, int], spacing_yx: tuple[float, float],
                  target_mm: float) -> tuple[int, int]:
    """Shape of a slice of ``shape_yx`` pixels at ``spacing_yx`` mm resampled to ``target_mm``."""
    return (max(1, round(shape_yx[0] * spacing_yx[0] / target_mm)),
            max(1, round(shape_yx[1] * spacing_yx[1] / target_mm)))


def resize_slices(stack: np.ndarray, shape_yx: tuple[int, int], *,
                  labels: bool = False) -> np.ndarray:
    """Resize every slice of a ``[z, y, x]`` stack to ``shape_yx``.

    Args:
        stack: image (float) or label (integer) stack ``[z, y, x]``.
        shape_yx: target in-plane shape.
        labels: nearest-neighbour for label maps, bilinear (antialiased when shrinking) otherwise.

    Returns:
        The resized stack; float32 for images, the input dtype for labels.
    """
    if stack.ndim != 3:
        raise ValueError(f"expected a [z, y, x] stack, got shape {stack.shape}")
    if tuple(stack.shape[1:]) == tuple(shape_yx):
        return stack if labels else stack.astype(np.float32, copy=False)
    t = torch.from_numpy(np.ascontiguousarray(stack))[:, None]
    if labels:
        out = F.interpolate(t.to(torch.float32), size=shape_yx, mode="nearest-exact")
        return out[:, 0].numpy().astype(stack.dtype)
    shrink = shape_yx[0] < stack.shape[1] or shape_yx[1] < stack.shape[2]
    out = F.interpolate(t.to(torch.float32), size=shape_yx, mode="bilinear",
                        align_corners=False, antialias=shrink)
    return out[:, 0].numpy()


def resize_probabilities(prob: torch.Tensor, shape_yx: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of class scores ``[n, c, y, x]`` back to ``shape_yx``."""
    if tuple(prob.shape[-2:]) == tuple(shape_yx):
        return prob
    return F.interpolate(prob, size=shape_yx, mode="bilinear", align_corners=False)
