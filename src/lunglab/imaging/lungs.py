"""Classical anatomical lung mask (the "teacher"): threshold, outside-air and airway removal,
per-lung closing and hole filling, so that lesions against the pleura stay inside the lung.

Works on full CT volumes and on single slices cropped around the lungs (where the body outline
may be missing and the lungs may touch the image border).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

from lunglab.imaging.lung_parts import (
    _INPLANE,
    AIR_HU,
    DARK_HU,
    SMALL_DARK_HU,
    WORK_MM_VOLUME,
    _airway_tree,
    _body_box,
    _body_parts,
    _closing_mm,
    _dark_majority,
    _pad_slices,
    fill_holes_per_slice,
    fill_pleural_bites,
)
from lunglab.imaging.resample import resize_slices

CLOSING_MM = 20.0
"""In-plane closing radius per lung: bridges juxtapleural lesions and dense rims."""
WORK_MM = 1.5
"""In-plane pixel size the mask is computed at for single slices (then upsampled)."""


def _touches_border_inplane(labels: np.ndarray, n: int) -> np.ndarray:
    border = np.zeros(n + 1, bool)
    for edge in (labels[:, 0, :], labels[:, -1, :], labels[:, :, 0], labels[:, :, -1]):
        border[np.unique(edge)] = True
    return border[1:]


def _body_hull(candidate: np.ndarray) -> np.ndarray:
    """Per slice, the convex hull of the body: the tissue (non-candidate) regions that
    :func:`lunglab.imaging.lung_parts._body_parts` keeps.

    Air around the body lies outside it (but for small concavities); a lung that touches the
    border of a tight crop lies inside it, because the chest wall and mediastinum around it reach
    the crop's edges."""
    from skimage.morphology import convex_hull_image

    hull = np.zeros(candidate.shape, bool)
    for z in range(candidate.shape[0]):
        body = _body_parts(~candidate[z])
        if body.sum() >= 3:
            hull[z] = convex_hull_image(body)
    return hull


def _keep_lung_components(candidate: np.ndarray, hu: np.ndarray, voxel_ml: float
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Lung components and the outside-air components of the candidate mask.

    Outside air touches the image border, is darker than lung (median below
    :data:`DARK_HU`) and lies mostly outside the body's convex hull (:func:`_body_hull`): a very
    aerated lung in a crop tight around the lungs touches the border and is as dark, but sits
    inside the hull of the chest wall and mediastinum around it (MedSeg slice 20, where both
    lungs were taken for outside air and the slice got no lung and no lesion at all)."""
    lab, n = ndi.label(candidate)
    if n == 0:
        return candidate, candidate
    sizes = np.bincount(lab.ravel(), minlength=n + 1)[1:]
    dark = _dark_majority(lab, hu, n, DARK_HU)
    border = _touches_border_inplane(lab, n)
    if (border & dark).any():  # the hull test only matters for dark border-touching components
        inside = np.bincount(lab[_body_hull(candidate)], minlength=n + 1)[1:]
        border &= inside < 0.5 * sizes
    darkish = _dark_majority(lab, hu, n, SMALL_DARK_HU)
    # Outside air touches the border and is darker than lung; a small dark island is an airway
    # lumen or bowel gas (blurred by partial volume, hence the milder threshold).
    drop = (border & dark) | (darkish & (sizes * voxel_ml < 50.0))
    outside = np.zeros(n + 1, bool)
    outside[1:] = border & dark
    sizes_kept = np.where(drop, 0, sizes)
    if sizes_kept.max() == 0:
        return np.zeros_like(candidate), outside[lab]
    min_size = max(0.04 * sizes_kept.max(), 1.0 / voxel_ml / 1000.0 * 50.0)  # >= 50 mm^3
    keep = np.zeros(n + 1, bool)
    keep[1:] = (~drop) & (sizes_kept >= min_size)
    return keep[lab], outside[lab]


def lung_mask(hu: np.ndarray, spacing: Sequence[float], *, closing_mm: float | None = None,
              work_mm: float | None = None) -> np.ndarray:
    """Anatomical mask of both lungs (see :func:`lung_and_outside_air`)."""
    return lung_and_outside_air(hu, spacing, closing_mm=closing_mm, work_mm=work_mm)[0]


def lung_and_outside_air(hu: np.ndarray, spacing: Sequence[float], *,
                         closing_mm: float | None = None, work_mm: float | None = None,
                         superior: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Anatomical mask of both lungs, lesions against the pleura included.

    Volumes of 5 or more slices go through the 3D version,
    :func:`lunglab.imaging.anatomy.lung_anatomy_3d` (3D components, gas below the lungs
    rejected, each lung closed on its own); 1-4 slices are handled slice by slice here.

    Args:
        hu: HU volume ``[z, y, x]`` (a single slice is ``[1, y, x]``).
        spacing: voxel size ``(x, y, z)`` in mm.
        closing_mm: in-plane closing radius per lung; default :data:`CLOSING_MM` up to 4
            slices, :data:`lunglab.imaging.anatomy.VOLUME_CLOSING_MM` for volumes.
        work_mm: in-plane pixel size of the computation (finer inputs are downsampled);
            default :data:`WORK_MM` up to 4 slices, else :data:`WORK_MM_VOLUME`.
        superior: volumes only: +1 if the head is at higher slice indices, -1 if lower,
            None to find it from the trachea.

    Returns:
        ``(lung, outside_air)`` boolean masks with the shape of ``hu``; outside air is the air
        around the body (dark, touching the image border) and everything outside the body box.

    Raises:
        ValueError: if ``hu`` is not 3D.

    Example:
        >>> mask = lung_mask(volume.array, volume.spacing)  # doctest: +SKIP
    """
    if hu.ndim != 3:
        raise ValueError(f"expected [z, y, x], got shape {hu.shape}")
    if hu.shape[0] > 4:
        from lunglab.imaging.anatomy import lung_anatomy_3d

        return lung_anatomy_3d(hu, spacing, superior=superior, closing_mm=closing_mm,
                               work_mm=work_mm or WORK_MM_VOLUME)
    if closing_mm is None:
        closing_mm = CLOSING_MM
    sx, sy, sz = (float(s) for s in spacing)
    shape = hu.shape
    if work_mm is None:
        work_mm = WORK_MM if shape[0] <= 4 else WORK_MM_VOLUME
    work_shape = (max(1, round(shape[1] * sy / max(work_mm, sy))),
                  max(1, round(shape[2] * sx / max(work_mm, sx))))
    small = resize_slices(hu.astype(np.float32), work_shape)
    wy, wx = sy * shape[1] / work_shape[0], sx * shape[2] / work_shape[1]
    sampling = (sz, wy, wx)
    by, bx = _body_box(small)
    small = small[:, by, bx]
    if work_shape == shape[1:]:  # an antialiased downsampling has smoothed the noise already
        small = ndi.uniform_filter(small, size=(1, 3, 3))
    candidate = small < AIR_HU
    airways = _airway_tree(candidate, small, sampling) if shape[0] >= 5 else None
    if airways is not None:
        candidate &= ~airways
    lung, outside = _keep_lung_components(candidate, small, sz * wy * wx / 1000.0)
    lung = _close_per_lung(lung, closing_mm, sampling)
    lung = fill_pleural_bites(lung)
    if airways is not None:
        lung &= ~airways
    full = np.zeros((shape[0], *work_shape), np.uint8)
    full[:, by, bx] = fill_holes_per_slice(lung)
    air = np.ones((shape[0], *work_shape), np.uint8)
    air[:, by, bx] = ndi.binary_dilation(outside, structure=_INPLANE, iterations=2)  # + skin rim
    if work_shape != shape[1:]:
        full = resize_slices(full, shape[1:]) > 0.5
        air = resize_slices(air, shape[1:]) > 0.5
    return full.astype(bool, copy=False), air.astype(bool, copy=False)


def _close_per_lung(lung: np.ndarray, radius_mm: float, sampling: tuple[float, float, float]
                    ) -> np.ndarray:
    """Close each lung on its own, so the mediastinum between them stays open."""
    lab, n = ndi.label(lung)
    if n == 0:
        return lung
    sizes = np.bincount(lab.ravel(), minlength=n + 1)[1:]
    order = np.argsort(sizes)[::-1]
    out = np.zeros_like(lung)
    flat = (sampling[0] * 1e3, sampling[1], sampling[2])  # per-slice (2D) closing
    big = [i + 1 for i in order[:2] if sizes[i] >= 0.2 * sizes[order[0]]]
    for i in big:
        sl = _pad_slices(ndi.find_objects(lab)[i - 1], lung.shape, radius_mm, sampling)
        out[sl] |= _closing_mm(lab[sl] == i, radius_mm, flat)
    rest = lung & ~np.isin(lab, big)
    if rest.any():
        out |= _closing_mm(rest, radius_mm, flat)
    return out
