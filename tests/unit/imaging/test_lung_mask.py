from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from lung_phantom import chest_phantom
from lunglab.imaging.lungs import fill_holes_per_slice, lung_mask

SPACING = (1.5, 1.5, 5.0)


def test_dense_juxtapleural_lesion_is_inside_lung_without_hole(phantom):
    mask = lung_mask(phantom["hu"], SPACING)
    lesion = phantom["lesion"]
    core = ndi.binary_erosion(lesion, structure=np.ones((1, 5, 5), bool))
    assert not (core & ~mask).any(), "lesion core outside the lung mask"
    assert (mask & lesion).sum() / lesion.sum() >= 0.8  # rim pixels: hull chord vs outline
    assert np.array_equal(fill_holes_per_slice(mask), mask), "lung mask has a hole"
    overlap = (mask & phantom["lung"]).sum()
    dice = 2 * overlap / (mask.sum() + phantom["lung"].sum())
    assert dice > 0.9


def test_outside_air_and_trachea_excluded(phantom):
    mask = lung_mask(phantom["hu"], SPACING)
    trachea = phantom["trachea"]
    assert (mask & trachea).sum() / trachea.sum() < 0.05
    outside = phantom["hu"] < -900
    outside &= ~ndi.binary_dilation(phantom["lung"] | trachea, iterations=3)
    assert (mask & outside).sum() == 0


def test_single_slice_crop_touching_border_without_body_outline():
    ph = chest_phantom(n_slices=1, trachea=False)
    crop = (slice(None), slice(20, 76), slice(14, 82))  # lungs reach the border, no body outline
    hu, truth = ph["hu"][crop], ph["lung"][crop]
    mask = lung_mask(hu, SPACING)
    assert mask.shape == hu.shape
    assert (mask & truth).sum() / truth.sum() > 0.9
    assert (mask & ph["lesion"][crop]).sum() / ph["lesion"][crop].sum() >= 0.9


def test_fine_pixels_are_downsampled_and_restored():
    ph = chest_phantom(n_slices=1, size=192, trachea=False)
    mask = lung_mask(ph["hu"], (0.75, 0.75, 5.0))
    assert mask.shape == ph["hu"].shape
    overlap = (mask & ph["lung"]).sum()
    assert 2 * overlap / (mask.sum() + ph["lung"].sum()) > 0.9


def test_no_lung_in_soft_tissue_only():
    hu = np.full((3, 40, 40), 40, np.int16)
    assert not lung_mask(hu, SPACING).any()


def test_rejects_2d_input():
    with pytest.raises(ValueError):
        lung_mask(np.zeros((10, 10), np.int16), SPACING)


def _tight_crop(lung_hu: float) -> tuple[np.ndarray, np.ndarray]:
    """A slice cropped tight around the lungs, as in the public COVID-19 slice sets: a
    mediastinal band across the middle, one lung above it and one below, both reaching the
    crop's edges, so the chest wall is cut into pieces (the bottom corners are separate from the
    rest of the body). 1.5 mm pixels; each lung over 50 mL, so not a gas pocket.
    Returns ``(hu [1, y, x], lung truth)``."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:165, :150].astype(float) / 1.5  # the geometry below is in units of 2.25 mm
    top = ((yy - 18) / 34) ** 2 + ((xx - 50) / 48) ** 2 <= 1
    bottom = ((yy - 80) / 30) ** 2 + ((xx - 50) / 54) ** 2 <= 1
    lungs = (top & (yy < 46)) | (bottom & (yy >= 58))
    hu = np.where(lungs, lung_hu, 40.0)
    vessels = lungs & (rng.random(lungs.shape) < 0.01)  # a few dense dots, as vessels
    hu[ndi.binary_dilation(vessels)] = 40.0
    hu += rng.normal(0, 10, hu.shape)
    return np.rint(hu).astype(np.int16)[None], lungs[None]


@pytest.mark.parametrize("lung_hu", [-850.0, -955.0])
def test_tight_crop_keeps_both_whole_lungs(lung_hu: float) -> None:
    # -955 HU: a very aerated lung that touches the crop's edges is as dark as outside air (MedSeg
    # slice 20 got no lung at all); -850: the old body box, the largest tissue region only, cut
    # the bottom lung off below the mediastinum (MedSeg slices 2, 10, 13, 24, 26, 43, 51)
    from lunglab.imaging.lungs import lung_and_outside_air

    hu, truth = _tight_crop(lung_hu)
    mask, outside = lung_and_outside_air(hu, SPACING)
    bottom = truth.copy()
    bottom[:, :87] = False  # the lung below the mediastinum (row 58 x 1.5)
    assert (mask & truth).sum() / truth.sum() > 0.9
    assert (mask & bottom).sum() / bottom.sum() > 0.9
    assert not (outside & truth).any()


def _joined_lungs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A crop tight around the lungs whose two lungs meet along its left edge (MedSeg slices 10,
    34, 43, 51), so they form one component curled around the mediastinum. 1.5 mm pixels.
    Returns ``(hu [1, y, x], lung truth, mediastinum core)``."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[:170, :160].astype(float)
    top = ((yy - 35) / 34) ** 2 + ((xx - 80) / 86) ** 2 <= 1
    bottom = ((yy - 132) / 34) ** 2 + ((xx - 80) / 86) ** 2 <= 1
    strip = (xx < 14) & (yy > 30) & (yy < 140)
    lungs = top | bottom | strip
    hu = np.where(lungs, -850.0, 40.0)
    hu += rng.normal(0, 10, hu.shape)
    core = (yy > 76) & (yy < 92) & (xx > 40) & (xx < 130)
    return np.rint(hu).astype(np.int16)[None], lungs[None], core[None]


def test_joined_lungs_leave_the_mediastinum_out() -> None:
    # One component holding both lungs made "towards the mediastinum" meaningless, and the
    # pleural-bite filling added the whole mediastinum between them as lung
    hu, truth, core = _joined_lungs()
    mask = lung_mask(hu, SPACING)
    assert (mask & truth).sum() / truth.sum() > 0.95
    assert (mask & core).sum() / core.sum() < 0.05
