"""Model factory: the 2D networks LungLab compares and ships (MONAI implementations)."""
from __future__ import annotations

from typing import Any

import torch

NUM_CLASSES = 4
"""Network outputs: 0 background, 1 lung (not lesion), 2 GGO, 3 consolidation."""

ARCHITECTURES: dict[str, dict[str, Any]] = {
    "unet2d": {"channels": (16, 32, 64, 128, 256), "strides": (2, 2, 2, 2), "num_res_units": 1},
    "unet2d-small": {"channels": (16, 32, 64, 128), "strides": (2, 2, 2), "num_res_units": 1},
    "segresnet2d": {"init_filters": 8, "blocks_down": (1, 2, 2, 4), "blocks_up": (1, 1, 1)},
    # the UNet at twice the width: a capacity candidate for GPU training (bench/gpu/run.sh);
    # 4x the parameters (3.4 M), about 2.3x the time per iteration on 2 CPU cores
    "unet2d-wide": {"channels": (32, 64, 128, 256, 512), "strides": (2, 2, 2, 2),
                    "num_res_units": 1},
}


def build_model(arch: str, in_channels: int = 1,
                out_channels: int = NUM_CLASSES) -> torch.nn.Module:
    """Build one of :data:`ARCHITECTURES` (randomly initialised).

    Args:
        arch: architecture name, a key of :data:`ARCHITECTURES`.
        in_channels: input channels (1: the windowed HU slice).
        out_channels: classes.

    Returns:
        The network in training mode.

    Raises:
        ValueError: for an unknown name.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose from {sorted(ARCHITECTURES)}")
    from monai.networks.nets import SegResNet, UNet  # imported here: inference may not need it

    cfg = ARCHITECTURES[arch]
    if arch.startswith("unet"):
        return UNet(spatial_dims=2, in_channels=in_channels, out_channels=out_channels,
                    channels=cfg["channels"], strides=cfg["strides"],
                    num_res_units=cfg["num_res_units"], norm="batch")
    return SegResNet(spatial_dims=2, in_channels=in_channels, out_channels=out_channels,
                     init_filters=cfg["init_filters"], blocks_down=cfg["blocks_down"],
                     blocks_up=cfg["blocks_up"], norm="batch")


def size_divisor(arch: str) -> int:
    """Input sizes must be multiples of this for ``arch``."""
    if arch.startswith("unet"):
        return 2 ** len(ARCHITECTURES[arch]["strides"])
    return 2 ** (len(ARCHITECTURES[arch]["blocks_down"]) - 1)
