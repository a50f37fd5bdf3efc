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
