"""Classical anatomical lung mask (the "teacher"): threshold, outside-air and airway removal,
per-lung closing and hole filling, so that lesions against the pleura stay inside the lung.

Works on full CT volumes and on single slices cropped around the lungs (where the body outline
may be missing and the lungs may touch the image border).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

from lunglab.imaging.resample import resize_slices

AIR_HU = -320.0
"""Upper HU of the lung/air candidate mask."""
DARK_HU = -940.0
"""Median HU below which a component is outside air or an airway lumen, not lung parenchyma."""
SMALL_DARK_HU = -900.0
"""Median HU below which a small (< 50 mL) component is an airway lumen or gas, not lung."""
CLOSING_MM = 20.0
"""In-plane closing radius per lung: bridges juxtapleural lesions and dense rims."""
WORK_MM = 1.5
"""In-plane pixel size the mask is computed at for single slices (then upsampled)."""
WORK_MM_VOLUME = 2.5
"""In-plane pixel size for volumes of more than 4 slices (speed)."""


def _closing_mm(mask: np.ndarray, radius_mm: float,
                sampling: tuple[float, float, float]) -> np.ndarray:
    """Binary closing with a ball of ``radius_mm`` via distance transforms.

    Voxels outside the array count as foreground for the erosion, so a lung touching the
    image border is not eaten from the border.
    """
    if not mask.any():
        return mask
    dilated = ndi.distance_transform_edt(~mask, sampling=sampling) <= radius_mm
    return ndi.distance_transform_edt(dilated, sampling=sampling) > radius_mm


_INPLANE = np.zeros((3, 3, 3), bool)
_INPLANE[1] = ndi.generate_binary_structure(2, 1)


def fill_holes_per_slice(mask: np.ndarray) -> np.ndarray:
    """Fill the holes of every axial slice: background not connected in-plane to the border."""
    background = ~mask
    lab, n = ndi.label(background, structure=_INPLANE)
    outside = np.zeros(n + 1, bool)
    for edge in (lab[:, 0, :], lab[:, -1, :], lab[:, :, 0], lab[:, :, -1]):
        outside[np.unique(edge)] = True
    outside[0] = True
    return mask | ~outside[lab]


def _body_box(small: np.ndarray, margin: int = 3) -> tuple[slice, slice]:
    """In-plane box of the largest non-air region over all slices (whole image if none)."""
    proj = (small > -500).any(axis=0)
    lab, n = ndi.label(proj)
    if n == 0:
        return slice(0, small.shape[1]), slice(0, small.shape[2])
    big = int(np.argmax(np.bincount(lab.ravel())[1:])) + 1
    ys, xs = np.nonzero(lab == big)
    return (slice(max(0, ys.min() - margin), min(small.shape[1], ys.max() + margin + 1)),
            slice(max(0, xs.min() - margin), min(small.shape[2], xs.max() + margin + 1)))


def _dark_majority(labels: np.ndarray, hu: np.ndarray, n: int, below: float) -> np.ndarray:
    """Per component: is its median HU below ``below`` (more than half its voxels darker)?"""
    flat = labels.ravel()
    total = np.bincount(flat, minlength=n + 1)[1:]
    dark = np.bincount(flat[hu.ravel() < below], minlength=n + 1)[1:]
    return dark > 0.5 * total


def _touches_border_inplane(labels: np.ndarray, n: int) -> np.ndarray:
    border = np.zeros(n + 1, bool)
    for edge in (labels[:, 0, :], labels[:, -1, :], labels[:, :, 0], labels[:, :, -1]):
        border[np.unique(edge)] = True
    return border[1:]


def _airway_tree(candidate: np.ndarray, hu: np.ndarray, sampling: tuple[float, float, float]
                 ) -> np.ndarray:
    """Trachea and main bronchi: long, thin dark tubes (3D only)."""
    dark = candidate & (hu < DARK_HU)
    dark = ndi.binary_opening(dark, structure=np.ones((1, 2, 2), bool))
    lab, n = ndi.label(dark)
    out = np.zeros_like(candidate)
    if n == 0:
        return out
    pix_mm2 = sampling[1] * sampling[2]
    for i, sl in enumerate(ndi.find_objects(lab), start=1):
        comp = lab[sl] == i
        z_extent_mm = comp.shape[0] * sampling[0]
        area_per_slice = comp.sum() / comp.shape[0] * pix_mm2
        if z_extent_mm >= 30.0 and area_per_slice <= 700.0:
            out[sl] |= comp
    if out.any():
        out = ndi.binary_dilation(out, structure=np.ones((1, 3, 3), bool), iterations=2)
    return out


def _keep_lung_components(candidate: np.ndarray, hu: np.ndarray, voxel_ml: float
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Lung components and the outside-air components of the candidate mask."""
    lab, n = ndi.label(candidate)
    if n == 0:
        return candidate, candidate
    sizes = np.bincount(lab.ravel(), minlength=n + 1)[1:]
    border = _touches_border_inplane(lab, n)
    dark = _dark_majority(lab, hu, n, DARK_HU)
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


def _faces_outward(directions: np.ndarray, outward: np.ndarray, min_cos: float) -> np.ndarray:
    """Whether each direction points away from the mediastinum (cosine with ``outward``)."""
    norm_out = np.linalg.norm(outward)
    if norm_out < 1.0:  # lung centred on the middle: no preferred side
        return np.ones(len(directions), bool)
    norms = np.linalg.norm(directions, axis=1) + 1e-9
    return (directions @ outward) / (norms * norm_out) > min_cos


def fill_pleural_bites(lung: np.ndarray, min_area: int = 50, max_ratio: float = 0.5,
                       step: int = 1, min_cos: float = 0.0,
                       centre: tuple[float, float] | None = None) -> np.ndarray:
    """Add the parts of each lung's per-slice convex hull that face away from the mediastinum.

    A dense lesion against the costal pleura bites into the lung outline; the convex hull
    restores it. Hull additions that lie towards the mediastinum (the centroid of all lung) as
    seen from the lung's centroid (cosine <= ``min_cos``) are the heart and hilum; lateral,
    anterior and posterior bites are kept. Additions larger than
    ``max_ratio`` of the lung's area are organs below a thin basal crescent: they are left out.
    With ``step`` > 1 the bites are found on every step-th pixel and added back blockwise.
    ``centre`` (row, column) is the mediastinum when ``lung`` holds one lung only (default: the
    centroid of ``lung`` projected over all slices).
    """
    if step > 1:
        coarse = lung[:, ::step, ::step]
        coarse_centre = None if centre is None else (centre[0] / step, centre[1] / step)
        added = fill_pleural_bites(coarse, min_area, max_ratio, 1, min_cos,
                                   coarse_centre) & ~coarse
        full = np.repeat(np.repeat(added, step, axis=1), step, axis=2)
        return lung | full[:, :lung.shape[1], :lung.shape[2]]
    from skimage.morphology import convex_hull_image

    if not lung.any():
        return lung
    mid = np.array(centre if centre is not None else ndi.center_of_mass(lung.any(axis=0)))
    out = lung.copy()
    for z in range(lung.shape[0]):
        lab, _ = ndi.label(lung[z])
        for i, sl in enumerate(ndi.find_objects(lab), start=1):
            comp = lab[sl] == i
            if comp.sum() < min_area:
                continue
            added = convex_hull_image(comp) & ~comp
            parts, m = ndi.label(added)
            if m == 0:
                continue
            offset = np.array([sl[0].start, sl[1].start])
            own = np.array(ndi.center_of_mass(comp)) + offset
            centres = np.array(ndi.center_of_mass(added, parts, range(1, m + 1))) + offset
            areas = np.bincount(parts.ravel(), minlength=m + 1)[1:]
            keep = np.zeros(m + 1, bool)
            keep[1:] = _faces_outward(centres - own, own - mid, min_cos)
            keep[1:] &= areas <= max_ratio * comp.sum()
            out[z][sl] |= keep[parts]
    return out


def _pad_slices(sl: tuple[slice, ...], shape: tuple[int, ...], radius_mm: float,
                sampling: tuple[float, float, float]) -> tuple[slice, ...]:
    pads = (0, int(np.ceil(radius_mm / sampling[1])) + 1, int(np.ceil(radius_mm / sampling[2])) + 1)
    return tuple(slice(max(0, s.start - p), min(n, s.stop + p))
                 for s, p, n in zip(sl, pads, shape, strict=True))
