"""A synthetic chest phantom (no pytest import)."""
from __future__ import annotations

import numpy as np


def chest_phantom(n_slices: int = 12, size: int = 96, seed: int = 0, trachea: bool = True
                  ) -> dict[str, np.ndarray]:
    """Body, two lungs, a dense lesion against the right lung's pleura, and a trachea.

    Returns:
        ``hu`` int16 ``[z, y, x]`` (1.5 mm pixels, 5 mm slices) and boolean ``lung``
        (parenchyma + lesion), ``lesion`` and ``trachea`` masks.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size].astype(float)
    c = size / 2
    body = ((yy - c) / (0.42 * size)) ** 2 + ((xx - c) / (0.46 * size)) ** 2 <= 1
    lungs = np.zeros_like(body)
    for cx in (c - 0.21 * size, c + 0.21 * size):
        lungs |= ((yy - c) / (0.29 * size)) ** 2 + ((xx - cx) / (0.145 * size)) ** 2 <= 1
    edge_x = c - 0.21 * size - 0.145 * size
    lesion = ((yy - c) ** 2 + (xx - edge_x) ** 2 <= (0.1 * size) ** 2) & lungs  # on the pleura
    tube = (yy - (c - 0.2 * size)) ** 2 + (xx - c) ** 2 <= (0.045 * size) ** 2
    hu2d = np.full((size, size), -1000.0)
    hu2d[body] = 30.0
    hu2d[lungs] = -850.0
    hu2d[lesion] = 40.0
    if trachea:
        hu2d[tube] = -1000.0
    hu = np.repeat(hu2d[None], n_slices, axis=0) + rng.normal(0, 15, (n_slices, size, size))

    def rep(m: np.ndarray) -> np.ndarray:
        return np.repeat(m[None], n_slices, axis=0)

    return {"hu": np.rint(hu).astype(np.int16), "lung": rep(lungs | lesion), "lesion": rep(lesion),
            "trachea": rep(tube if trachea else np.zeros_like(tube))}
