"""False-positive control for lesion labels in CT volumes (3D rules, array maths only).

Two rules, applied after the network's lesions were confined to the anatomical lung:

- **Partial volume with the diaphragm is not GGO.** Lung voxels just above the liver or
  spleen (soft tissue that has lung above it in the same column) read as hazy lung on thick
  slices; lesion voxels within :data:`DOME_MM` of that tissue become lung, and so do flat
  lesion components lying mostly within :data:`DOME_BAND_MM` of it.
- **A nodule or tumour is lung, not GGO.** Solid (HU > :data:`SOLID_HU`), compact, round
  components inside the lung (vessels detached by an opening, elongated ones rejected) are
  labelled lung, and so is every lesion component that lies mostly within
  :data:`HALO_MM` of such a nodule (its partial-volume rim: no GGO halo around it).

Example:
    >>> label_map = clean_lesions(label_map, hu, spacing)  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

from lunglab.domain.labels import Label

DOME_MM = 6.0
"""Lesion voxels this close (3D) to tissue under the lung become lung (at least 1.5 slices)."""
DOME_BAND_MM = 12.0
"""Band above the tissue under the lung where a flat lesion is partial volume (>= 2.5 slices)."""
DOME_SHARE = 0.8
"""A lesion component with at least this share in the band is partial volume, not a lesion."""
DOME_WINDOW_MM = 30.0
"""Tissue is "under the lung" when lung lies above it in the same column within this distance."""
SOLID_HU = -100.0
"""Solid soft tissue (nodule, tumour, vessel) is above this HU."""
NODULE_MIN_RADIUS_MM = 2.5
"""A nodule is at least this thick (inscribed-ball radius after the vessel-detaching opening)."""
NODULE_MAX_ELONGATION = 4.0
"""Volume over the volume of its inscribed ball: a ball is 1, a 5-diameter tube about 4."""
HALO_MM = 4.0
"""Lesion voxels within this distance of a nodule are its partial-volume rim (and at least
within the next slice)."""
HALO_SHARE = 0.7
"""A lesion component with at least this share in a nodule's rim is the nodule, not a lesion."""
WORK_MM = 2.0
"""In-plane pixel size the nodule search runs at (finer inputs are subsampled)."""
COARSE_MM = 2.5
"""In-plane pixel size the diaphragm rule runs at."""
NODULE_SEARCH_MM = 30.0
"""Nodules are searched within this distance of the lesions' bounding box."""


def _under_lung(lung: np.ndarray, up: int, window: int) -> np.ndarray:
    """Non-lung voxels with lung above them (towards the head) in the same column."""
    from lunglab.imaging.anatomy import _columns_with_lung_beyond

    return ~lung & _columns_with_lung_beyond(lung, up, window)


def drop_dome_partial_volume(label_map: np.ndarray, hu: np.ndarray, body: np.ndarray,
                             sampling: tuple[float, float, float], up: int = 1) -> np.ndarray:
    """Lesions that are partial volume with the diaphragm become lung (in place).

    Tissue under the lung is soft tissue (HU > -500) inside the body with lung above it in the
    same column (within :data:`DOME_WINDOW_MM`). Lesion voxels within ``max(DOME_MM, 1.5 x
    slice)`` of it become lung, and so does every lesion component that lies for at least
    :data:`DOME_SHARE` within ``max(DOME_BAND_MM, 2.5 x slice)`` of it (a flat patch on the
    dome; a basal lesion that rises above the dome keeps all but its lowest voxels).

    Args:
        label_map: uint8 ``[z, y, x]`` label map (changed in place and returned).
        hu: HU volume of the same shape.
        body: voxels inside the body.
        sampling: voxel size ``(z, y, x)`` in mm.
        up: +1 if the head is at higher slice indices, -1 if lower.
    """
    lesion = label_map >= Label.GGO
    if not lesion.any():
        return label_map
    step = _step(sampling, COARSE_MM)
    coarse = (sampling[0], sampling[1] * step, sampling[2] * step)
    lung = label_map[:, ::step, ::step] > 0
    window = max(1, round(DOME_WINDOW_MM / sampling[0]))
    under = (_under_lung(lung, up, window) & body[:, ::step, ::step]
             & (hu[:, ::step, ::step] > -500))
    if not under.any():
        return label_map
    voxel_mm = max(DOME_MM, 1.5 * sampling[0])
    band_mm = max(DOME_BAND_MM, 2.5 * sampling[0])
    box = _box(lesion[:, ::step, ::step], coarse, band_mm)
    if box is None or not under[box].any():  # None: lesion specks between coarse samples
        return label_map
    dist = ndi.distance_transform_edt(~under[box], sampling=coarse)
    small = label_map[box[0], ::step, ::step][:, box[1], box[2]] >= Label.GGO
    lab, n = ndi.label(small)
    total = np.bincount(lab.ravel(), minlength=n + 1)
    in_band = np.bincount(lab[dist <= band_mm], minlength=n + 1)
    flat = in_band >= DOME_SHARE * np.maximum(total, 1)
    flat[0] = False
    flat_vox = flat[lab]
    flat_vox = ndi.binary_dilation(flat_vox, structure=np.ones((1, 3, 3), bool)) & \
        ~((lab > 0) & ~flat_vox)  # also the fine voxels between coarse samples
    drop = (dist <= voxel_mm) | flat_vox
    full = _box_full(box, step, label_map.shape)
    sub = label_map[full]
    sub[_upsample(drop, step, sub.shape) & (sub >= Label.GGO)] = Label.LUNG
    return label_map


def _step(sampling: tuple[float, float, float], target_mm: float) -> int:
    return max(1, round(target_mm / max(sampling[1], 1e-3)))


def _box(mask: np.ndarray, sampling: tuple[float, float, float], margin_mm: float
         ) -> tuple[slice, ...] | None:
    """Bounding box of ``mask`` plus ``margin_mm`` on every side; None when ``mask`` is empty."""
    objects = ndi.find_objects(mask.astype(np.uint8))
    if not objects or objects[0] is None:
        return None
    found = objects[0]
    return tuple(slice(max(0, s.start - int(np.ceil(margin_mm / mm)) - 1),
                       min(n, s.stop + int(np.ceil(margin_mm / mm)) + 1))
                 for s, mm, n in zip(found, sampling, mask.shape, strict=True))


def _box_full(box: tuple[slice, ...], step: int, shape: tuple[int, ...]) -> tuple[slice, ...]:
    return (box[0], slice(box[1].start * step, min(shape[1], box[1].stop * step)),
            slice(box[2].start * step, min(shape[2], box[2].stop * step)))


def _upsample(mask: np.ndarray, step: int, shape: tuple[int, ...]) -> np.ndarray:
    up = np.repeat(np.repeat(mask, step, axis=1), step, axis=2)
    return up[:, :shape[1], :shape[2]]


def solid_nodules(hu: np.ndarray, lung: np.ndarray, sampling: tuple[float, float, float]
                  ) -> np.ndarray:
    """Compact, round, solid components inside the lung (nodules, tumours), not vessels."""
    solid = lung & (hu > SOLID_HU)
    if not solid.any():
        return solid
    r_vox = [max(1, round(NODULE_MIN_RADIUS_MM / s)) for s in sampling]
    ball = _ellipsoid(r_vox)
    opened = ndi.binary_opening(solid, structure=ball)
    lab, _n = ndi.label(opened)
    out = np.zeros_like(solid)
    voxel = float(np.prod(sampling))
    for i, sl in enumerate(ndi.find_objects(lab), start=1):
        comp = lab[sl] == i
        radius = float(ndi.distance_transform_edt(np.pad(comp, 1), sampling=sampling).max())
        ball_mm3 = 4.0 / 3.0 * np.pi * radius ** 3
        compact = comp.sum() * voxel <= NODULE_MAX_ELONGATION * ball_mm3
        if radius >= NODULE_MIN_RADIUS_MM and compact:
            out[sl] |= comp
    # give back the voxels the opening shaved off the nodule's own surface
    if out.any():
        out = ndi.binary_dilation(out, structure=ball) & solid
    return out


def _ellipsoid(r: Sequence[int]) -> np.ndarray:
    grid = np.ogrid[tuple(slice(-k, k + 1) for k in r)]
    total = np.zeros(tuple(2 * k + 1 for k in r))
    for g, k in zip(grid, r, strict=True):
        total = total + (g / max(k, 1)) ** 2
    return np.asarray(total <= 1.0)


def nodules_to_lung(label_map: np.ndarray, hu: np.ndarray,
                    sampling: tuple[float, float, float]) -> np.ndarray:
    """Lesion components that are only a nodule's rim become lung (in place).

    Runs on a :data:`WORK_MM` grid inside the lesions' bounding box (plus
    :data:`NODULE_SEARCH_MM`); lesion specks too small to show on that grid are left alone.
    """
    lesion = label_map >= Label.GGO
    if not lesion.any():
        return label_map
    step = _step(sampling, WORK_MM)
    coarse = (sampling[0], sampling[1] * step, sampling[2] * step)
    box = _box(lesion[:, ::step, ::step], coarse, NODULE_SEARCH_MM)
    if box is None:  # only specks between the coarse samples: left alone
        return label_map
    full = _box_full(box, step, label_map.shape)
    sub = label_map[full]
    small = sub[:, ::step, ::step]
    nod = solid_nodules(hu[full][:, ::step, ::step], small > 0, coarse)
    if not nod.any():
        return label_map
    halo_mm = max(HALO_MM, 1.01 * sampling[0])  # at least the next slice
    near = _box(nod, coarse, halo_mm)
    assert near is not None  # nod.any() above
    rim = np.zeros(nod.shape, bool)
    rim[near] = ndi.distance_transform_edt(~nod[near], sampling=coarse) <= halo_mm
    lab, n = ndi.label(small >= Label.GGO)
    total = np.bincount(lab.ravel(), minlength=n + 1)
    inside = np.bincount(lab[rim], minlength=n + 1)
    rim_only = inside >= HALO_SHARE * np.maximum(total, 1)
    rim_only[0] = False
    if not rim_only.any():
        return label_map
    # one coarse pixel wider, so the fine voxels between coarse samples go too, but never
    # into another (real) lesion
    grow = ndi.binary_dilation(rim_only[lab], structure=np.ones((1, 3, 3), bool))
    to_lung = _upsample(grow & ~((lab > 0) & ~rim_only[lab]), step, sub.shape)
    sub[to_lung & (sub >= Label.GGO)] = Label.LUNG
    return label_map


def clean_lesions(label_map: np.ndarray, hu: np.ndarray, spacing: Sequence[float],
                  body: np.ndarray | None = None, up: int = 1) -> np.ndarray:
    """Both rules on a volume's label map (in place; returns it).

    Args:
        label_map: uint8 ``[z, y, x]``.
        hu: HU volume of the same shape.
        spacing: voxel size ``(x, y, z)`` in mm.
        body: voxels inside the body (default: all).
        up: +1 if the head is at higher slice indices, -1 if lower.
    """
    sx, sy, sz = (float(s) for s in spacing)
    sampling = (sz, sy, sx)
    if body is None:
        body = np.ones(label_map.shape, bool)
    drop_dome_partial_volume(label_map, hu, body, sampling, up)
    nodules_to_lung(label_map, hu, sampling)
    return label_map
