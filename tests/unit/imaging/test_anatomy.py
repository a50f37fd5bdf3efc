from __future__ import annotations

import numpy as np
import pytest
from chest3d_phantom import SPACING, chest3d_phantom

from lunglab.imaging.anatomy import lung_anatomy_3d
from lunglab.imaging.lungs import fill_holes_per_slice, lung_mask
from lunglab.imaging.zones import lung_pair


@pytest.fixture(scope="module")
def chest() -> dict[str, np.ndarray]:
    return chest3d_phantom()


@pytest.fixture(scope="module")
def mask(chest: dict[str, np.ndarray]) -> np.ndarray:
    return lung_anatomy_3d(chest["hu"], SPACING)[0]


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * float((a & b).sum()) / float(a.sum() + b.sum())


def test_lungs_found_in_3d(chest, mask):
    assert _dice(mask, chest["lung"]) > 0.95


def test_gas_below_the_lungs_is_not_lung(chest, mask):
    assert not (mask & chest["gas"]).any()


def test_trachea_and_bronchi_are_not_lung(chest, mask):
    assert (mask & chest["trachea"]).sum() <= 0.02 * chest["trachea"].sum()


def test_mediastinum_between_touching_lungs_stays_out(chest, mask):
    # the lungs touch in front of and behind the mediastinum: a per-slice hole fill of both
    # lungs together would take it in
    assert fill_holes_per_slice(chest["lung"])[chest["mediastinum"]].all()
    assert not (mask & chest["mediastinum"]).any()
    assert len(lung_pair(chest["lung"], (SPACING[2], SPACING[1], SPACING[0]))) == 2


@pytest.mark.parametrize("mirror", [False, True])
def test_gas_under_either_lung_when_the_lungs_do_not_touch(mirror):
    chest = chest3d_phantom(junction=False)
    hu = chest["hu"][:, :, ::-1] if mirror else chest["hu"]
    lung = lung_anatomy_3d(np.ascontiguousarray(hu), SPACING)[0]
    gas = chest["gas"][:, :, ::-1] if mirror else chest["gas"]
    assert len(lung_pair(chest["lung"], (SPACING[2], SPACING[1], SPACING[0]))) == 2
    assert not (lung & gas).any()


def test_head_direction_from_header_or_trachea(chest, mask):
    flipped = np.ascontiguousarray(chest["hu"][::-1])
    told = lung_anatomy_3d(flipped, SPACING, superior=-1)[0][::-1]
    found = lung_anatomy_3d(flipped, SPACING, superior=None)[0][::-1]
    assert np.array_equal(told, mask) and np.array_equal(found, mask)
    # told the wrong way round, the mottled pocket under the right lung passes as lung: the
    # "under the lung" rule is what rejects it
    wrong = lung_anatomy_3d(flipped, SPACING, superior=1)[0][::-1]
    assert (wrong & chest["gas"]).any()


def test_prone_and_thick_slices(chest, mask):
    prone = lung_anatomy_3d(np.ascontiguousarray(chest["hu"][:, ::-1]), SPACING)[0][:, ::-1]
    assert _dice(prone, chest["lung"]) > 0.95 and not (prone & chest["gas"]).any()
    thick_hu = chest["hu"][::2]  # 8 mm slices
    thick = lung_anatomy_3d(thick_hu, (SPACING[0], SPACING[1], 8.0))[0]
    assert _dice(thick, chest["lung"][::2]) > 0.93 and not (thick & chest["gas"][::2]).any()


def test_thin_slices_are_pooled_and_restored(chest):
    thin_hu = np.repeat(chest["hu"], 4, axis=0)  # 1 mm slices
    thin = lung_anatomy_3d(thin_hu, (SPACING[0], SPACING[1], 1.0))[0]
    assert thin.shape == thin_hu.shape
    assert _dice(thin, np.repeat(chest["lung"], 4, axis=0)) > 0.95


def test_lung_mask_uses_3d_version_for_volumes_only(chest, mask):
    assert np.array_equal(lung_mask(chest["hu"], SPACING), mask)
    one = lung_mask(chest["hu"][25:26], SPACING)  # one slice: per-slice logic
    assert one.shape == (1, 96, 96) and one.any()


def test_empty_and_bad_input():
    soft = np.full((6, 32, 32), 40, np.int16)
    lung, air = lung_anatomy_3d(soft, (1.0, 1.0, 2.0))
    assert not lung.any() and lung.shape == soft.shape and air.shape == soft.shape
    with pytest.raises(ValueError):
        lung_anatomy_3d(np.zeros((8, 8), np.int16), (1.0, 1.0, 1.0))
