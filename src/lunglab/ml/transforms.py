"""MONAI dictionary transforms for training the lesion/lung network on 2D slices.

Random transforms draw their parameters from the Compose's random state, which
:func:`train_transforms` seeds, so a run is repeatable.
"""
from __future__ import annotations

from monai.transforms import (
    Compose,
    EnsureTyped,
    RandAdjustContrastd,
    RandAffined,
    RandFlipd,
    RandGaussianNoised,
    RandGaussianSmoothd,
    RandHistogramShiftd,
    RandRotate90d,
    RandShiftIntensityd,
    RandSpatialCropd,
    SpatialPadd,
)

KEYS = ("image", "label")


def train_transforms(patch: int = 160, seed: int = 0, strong: bool = False) -> Compose:
    """Orientation-robust augmentation: 90 degree rotations, flips, small affine, intensity.

    Args:
        patch: square patch size in pixels (at the model's pixel size).
        seed: random state of the pipeline.
        strong: stronger geometric and intensity changes (issue 14): wider scale and shear,
            blur (thicker slices, softer kernels), a non-linear window (histogram shift), larger
            gamma, offset and noise.

    Returns:
        A seeded ``Compose`` over ``{"image": [1,y,x] float, "label": [1,y,x] int}``.
    """
    blur_and_window = [RandGaussianSmoothd(keys="image", sigma_x=(0.4, 1.2),
                                           sigma_y=(0.4, 1.2), prob=0.3),
                       RandHistogramShiftd(keys="image", num_control_points=(5, 10), prob=0.3)]
    t = Compose([
        RandRotate90d(keys=KEYS, prob=0.75, max_k=3, spatial_axes=(0, 1)),
        RandFlipd(keys=KEYS, prob=0.5, spatial_axis=0),
        RandFlipd(keys=KEYS, prob=0.5, spatial_axis=1),
        RandAffined(keys=KEYS, prob=0.8 if strong else 0.6, rotate_range=0.45 if strong else 0.35,
                    scale_range=0.3 if strong else 0.15, shear_range=0.15 if strong else None,
                    mode=("bilinear", "nearest"), padding_mode="zeros"),
        SpatialPadd(keys=KEYS, spatial_size=(patch, patch)),
        RandSpatialCropd(keys=KEYS, roi_size=(patch, patch), random_size=False),
        *(blur_and_window if strong else []),
        RandShiftIntensityd(keys="image", offsets=0.06 if strong else 0.03,
                            prob=0.6 if strong else 0.5),
        RandAdjustContrastd(keys="image", gamma=(0.7, 1.4) if strong else (0.85, 1.15),
                            prob=0.5 if strong else 0.3),
        RandGaussianNoised(keys="image", std=0.02 if strong else 0.01,
                           prob=0.4 if strong else 0.3),
        EnsureTyped(keys=KEYS, track_meta=False),
    ])
    t.set_random_state(seed=seed)
    return t


def radiograph_transforms(patch: int = 224, seed: int = 0) -> Compose:
    """Augmentation for upright chest radiographs: left-right flips (dextrocardia and film
    orientation vary), small rotations and scales, a random crop, intensity changes. No 90
    degree turns and no up-down flips: a radiograph is never read sideways.

    Args:
        patch: square patch size in pixels (on the radiograph grid,
            :data:`lunglab.ml.radiograph.XR_GRID`).
        seed: random state of the pipeline.
    """
    t = Compose([
        RandFlipd(keys=KEYS, prob=0.5, spatial_axis=1),
        RandAffined(keys=KEYS, prob=0.7, rotate_range=0.17, scale_range=0.12,
                    translate_range=(12, 12), mode=("bilinear", "nearest"),
                    padding_mode="zeros"),
        SpatialPadd(keys=KEYS, spatial_size=(patch, patch)),
        RandSpatialCropd(keys=KEYS, roi_size=(patch, patch), random_size=False),
        RandShiftIntensityd(keys="image", offsets=0.05, prob=0.5),
        RandAdjustContrastd(keys="image", gamma=(0.7, 1.4), prob=0.5),
        RandGaussianNoised(keys="image", std=0.02, prob=0.3),
        EnsureTyped(keys=KEYS, track_meta=False),
    ])
    t.set_random_state(seed=seed)
    return t
