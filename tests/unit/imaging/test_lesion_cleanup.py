from __future__ import annotations

import numpy as np

from lunglab.domain.labels import Label
from lunglab.imaging.lesion_cleanup import (
    clean_lesions,
    drop_dome_partial_volume,
    nodules_to_lung,
    solid_nodules,
)

SPACING = (1.0, 1.0, 2.0)  # x, y, z mm
SAMPLING = (2.0, 1.0, 1.0)  # z, y, x mm


def _grid(shape):
    return np.mgrid[tuple(slice(0, n) for n in shape)].astype(float)


def _lung_block(shape=(30, 64, 64)):
    hu = np.full(shape, -850.0)
    labels = np.full(shape, Label.LUNG, np.uint8)
    return hu, labels


def test_round_solid_nodule_and_its_rim_become_lung():
    hu, labels = _lung_block()
    zz, yy, xx = _grid(hu.shape)
    r_mm = np.sqrt(((zz - 15) * 2) ** 2 + (yy - 20) ** 2 + (xx - 20) ** 2)
    hu[r_mm <= 7] = 40
    labels[r_mm <= 7] = Label.CONSOLIDATION
    labels[(r_mm > 7) & (r_mm <= 9)] = Label.GGO  # partial-volume rim, no halo
    # a GGO patch elsewhere (not solid) and a solid lesion with a wide GGO halo: both stay
    ggo = (np.abs(zz - 10) <= 3) & (np.abs(yy - 48) <= 8) & (np.abs(xx - 48) <= 10)
    hu[ggo] = -600
    labels[ggo] = Label.GGO
    halo = np.sqrt(((zz - 22) * 2) ** 2 + (yy - 48) ** 2 + (xx - 18) ** 2)
    labels[halo <= 14] = Label.GGO
    hu[halo <= 14] = -550
    hu[halo <= 5] = 30
    labels[halo <= 5] = Label.CONSOLIDATION
    assert solid_nodules(hu, labels > 0, SAMPLING)[r_mm <= 5].all()
    out = nodules_to_lung(labels.copy(), hu, SAMPLING)
    assert (out[r_mm <= 9] == Label.LUNG).all()
    assert (out[ggo] == Label.GGO).all()
    assert (out[halo <= 14] >= Label.GGO).all()


def test_vessels_are_not_nodules():
    hu, labels = _lung_block()
    _zz, yy, xx = _grid(hu.shape)
    vessel = (yy - 32) ** 2 + (xx - 32) ** 2 <= 9  # 6 mm wide tube through every slice
    hu[vessel] = 40
    assert not solid_nodules(hu, labels > 0, SAMPLING).any()


def test_flat_lesion_on_the_diaphragm_becomes_lung_tall_one_stays():
    hu, labels = _lung_block()
    hu[:8] = 50  # liver under the lung (slices 0-7), lung above
    labels[:8] = Label.BACKGROUND
    body = np.ones(hu.shape, bool)
    flat = np.zeros(hu.shape, bool)
    flat[8:10, 10:30, 10:30] = True  # 4 mm thick, right on the dome
    tall = np.zeros(hu.shape, bool)
    tall[8:28, 40:58, 40:58] = True  # 40 mm tall basal lesion
    labels[flat] = Label.GGO
    labels[tall] = Label.GGO
    hu[flat | tall] = -600
    out = drop_dome_partial_volume(labels.copy(), hu, body, SAMPLING, up=1)
    assert (out[flat] == Label.LUNG).all()
    assert (out[tall][..., None] >= 0).all()
    kept = out[8:28, 40:58, 40:58] == Label.GGO
    assert kept[5:].all() and not kept[:2].any()  # only the lowest ~6 mm goes
    # head at the other end: the same lesions, flipped, give the same answer
    flipped = drop_dome_partial_volume(labels[::-1].copy(), hu[::-1].copy(), body, SAMPLING,
                                       up=-1)
    assert np.array_equal(flipped[::-1], out)


def test_clean_lesions_without_lesions_is_a_no_op():
    hu, labels = _lung_block((10, 20, 20))
    assert np.array_equal(clean_lesions(labels.copy(), hu, SPACING), labels)


def test_lesion_specks_between_the_coarse_samples_are_left_alone():
    # 1 mm pixels: both rules work on a grid of every 2nd/3rd pixel, so a one-voxel lesion at an
    # odd position is on neither grid (this raised IndexError on an AI proposal before)
    hu, labels = _lung_block((10, 20, 20))
    labels[:, 15:, :] = Label.BACKGROUND  # a dome below the lung
    hu[:, 15:, :] = 40.0
    labels[5, 13, 13] = Label.GGO
    out = clean_lesions(labels.copy(), hu, SPACING, up=1)
    assert out[5, 13, 13] == Label.GGO and (out >= Label.GGO).sum() == 1
