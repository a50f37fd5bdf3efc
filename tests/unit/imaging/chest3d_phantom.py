"""A synthetic 3D chest-and-upper-abdomen phantom (no pytest import).

Slice 0 is the lowest (feet), as DICOM/LPS order gives it. 96 x 96 pixels of 2 mm, 40 slices
of 4 mm: body, two ellipsoid lungs (slices 14-36) joined by thin anterior and posterior
junction lines around the mediastinum, a trachea from the top that splits into two bronchi
entering the lungs, and under the lungs: a dark stomach bubble, a mottled (not dark) stool
pocket under the right lung (beside the lung's posterior recess, so within the lungs' slice
range) and a colon loop.
"""
from __future__ import annotations

import numpy as np

SPACING = (2.0, 2.0, 4.0)
"""Voxel size (x, y, z) in mm."""


def chest3d_phantom(seed: int = 0, junction: bool = True) -> dict[str, np.ndarray]:
    """The phantom: ``hu`` int16 and boolean ``lung``, ``trachea``, ``gas``, ``mediastinum``.

    With ``junction=False`` the lungs do not touch (two 3D components) and the right lung, the
    one over the stool pocket, is the smaller one.
    """
    rng = np.random.default_rng(seed)
    nz, n = 40, 96
    zz, yy, xx = np.mgrid[:nz, :n, :n].astype(float)
    body = ((yy - 48) / 42) ** 2 + ((xx - 48) / 45) ** 2 <= 1
    lung = np.zeros(body.shape, bool)
    for cx in (28.0, 68.0):
        rx = 12.0 if cx < 48 and not junction else 13.0  # apart: the stool's lung is smaller
        lung |= ((zz - 25) / 11) ** 2 + ((yy - 48) / 28) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        # posterior costophrenic recess: the lung reaches lower at the back
        lung |= ((zz - 14) / 4) ** 2 + ((yy - 66) / 6) ** 2 + ((xx - cx) / 10) ** 2 <= 1
    junction_lines = (zz >= 19) & (zz <= 31) & (xx >= 30) & (xx <= 66) & (
        ((yy >= 30) & (yy <= 31)) | ((yy >= 66) & (yy <= 67)))
    if junction:
        lung |= junction_lines
    mediastinum = body & ~lung & (zz >= 20) & (zz <= 30) & (xx >= 44) & (xx <= 52) & \
        (yy >= 34) & (yy <= 63)
    trachea = (zz >= 31) & ((yy - 40) ** 2 + (xx - 48) ** 2 <= 16)
    for side in (-1, 1):  # bronchi: from the trachea's foot into each lung
        trachea |= (zz >= 29) & (zz <= 31) & ((yy - 40) ** 2 <= 9) & \
            (side * (xx - 48) >= 0) & (side * (xx - 48) <= 22)
    trachea &= body
    lung &= ~trachea
    gas = ((zz - 7) / 2.5) ** 2 + ((yy - 40) / 10) ** 2 + ((xx - 66) / 9) ** 2 <= 1  # stomach
    gas |= ((zz - 4) / 1.5) ** 2 + ((yy - 62) / 5) ** 2 <= 1  # colon loop across
    stool = ((zz - 8.5) / 4) ** 2 + ((yy - 36) / 12) ** 2 + ((xx - 28) / 12) ** 2 <= 1
    gas &= body & ~stool
    hu = np.where(body, 40.0, -1000.0)
    hu[lung] = -850.0
    hu[trachea] = -1000.0
    hu[gas] = -1000.0
    hu[stool] = np.where(rng.random(int(stool.sum())) < 0.7, -850.0, 20.0)  # mottled, not dark
    hu += rng.normal(0, 15, hu.shape)
    return {"hu": np.rint(hu).astype(np.int16), "lung": lung, "trachea": trachea,
            "gas": gas | stool, "mediastinum": mediastinum}
