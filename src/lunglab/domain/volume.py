"""A CT volume with its geometry, independent of any file format.

Conventions (the same as SimpleITK):
- ``array`` is indexed ``[z, y, x]`` (slice, row, column);
- ``spacing`` and ``origin`` are ``(x, y, z)`` in millimetres, patient LPS coordinates;
- ``direction`` is the 3x3 direction cosine matrix, row-major, 9 floats.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class CTVolume:
    """A CT volume in Hounsfield units (int16) with its geometry.

    Args:
        array: HU values, shape ``(z, y, x)``, dtype int16.
        spacing: voxel size ``(x, y, z)`` in mm.
        origin: position of voxel ``[0, 0, 0]`` in LPS mm.
        direction: 3x3 direction cosines, row-major.
        meta: technical, de-identified attributes (modality, manufacturer, kernel, kVp, ...).
    """

    array: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape as ``(z, y, x)``."""
        z, y, x = self.array.shape
        return int(z), int(y), int(x)

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in millilitres."""
        sx, sy, sz = self.spacing
        return float(sx * sy * sz) / 1000.0

    def to_sitk(self) -> Any:
        """Return a ``SimpleITK.Image`` with the same voxels and geometry."""
        import SimpleITK as sitk

        img = sitk.GetImageFromArray(self.array)
        img.SetSpacing(tuple(float(s) for s in self.spacing))
        img.SetOrigin(tuple(float(o) for o in self.origin))
        img.SetDirection(tuple(float(d) for d in self.direction))
        return img

    @classmethod
    def from_sitk(cls, img: Any, meta: dict[str, Any] | None = None) -> CTVolume:
        """Build a volume from a ``SimpleITK.Image`` (cast to int16 HU)."""
        import SimpleITK as sitk

        arr = sitk.GetArrayFromImage(img)
        if arr.ndim == 2:
            arr = arr[None]
        arr = np.clip(arr, -32768, 32767).astype(np.int16, copy=False)
        sp = tuple(float(s) for s in img.GetSpacing())
        org = tuple(float(o) for o in img.GetOrigin())
        dr = tuple(float(d) for d in img.GetDirection())
        if len(sp) == 2:
            sp = (sp[0], sp[1], 1.0)
            org = (org[0], org[1], 0.0)
            dr = (dr[0], dr[1], 0.0, dr[2], dr[3], 0.0, 0.0, 0.0, 1.0)
        return cls(arr, sp, org, dr, dict(meta or {}))  # type: ignore[arg-type]
