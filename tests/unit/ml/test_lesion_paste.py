"""Lesion copy-paste augmentation: lesions land in the receiving lung only, inputs stay as they
were, and the pasted CT values are the lesion's own."""
from __future__ import annotations

import numpy as np

from lunglab.domain.labels import Label
from lunglab.ml.lesion_paste import MIN_IN_LUNG, lesion_bank, paste_lesions


def _pair(lung_box: tuple[slice, slice], lesion_box: tuple[slice, slice] | None = None,
          lesion_value: float = 0.6) -> dict[str, np.ndarray]:
    image = np.full((1, 96, 96), 0.9, np.float32)  # soft tissue
    label = np.zeros((1, 96, 96), np.uint8)
    image[0][lung_box] = 0.1
    label[0][lung_box] = Label.LUNG
    if lesion_box is not None:
        image[0][lesion_box] = lesion_value
        label[0][lesion_box] = Label.GGO
    return {"image": image, "label": label}


def test_bank_holds_each_lesion_component_above_the_size_floor() -> None:
    a = _pair((slice(10, 80), slice(10, 80)), (slice(20, 30), slice(20, 30)))
    a["label"][0, 50:52, 50:52] = Label.CONSOLIDATION  # 4 px: below the floor
    bank = lesion_bank([a, _pair((slice(10, 80), slice(10, 80)))])
    assert len(bank) == 1
    assert bank[0].mask.sum() == 100 and bank[0].source == 0
    assert set(np.unique(bank[0].labels)) == {Label.GGO}  # a full square: no 0 in its box


def test_pasted_lesion_lies_in_the_receiving_lung_with_its_own_values() -> None:
    donor = _pair((slice(5, 90), slice(5, 90)), (slice(40, 52), slice(40, 60)), 0.55)
    receiver = _pair((slice(30, 70), slice(20, 80)))
    bank = lesion_bank([donor])
    before = {k: v.copy() for k, v in receiver.items()}
    rng = np.random.default_rng(1)
    pasted = 0
    for _ in range(20):
        out = paste_lesions(receiver, bank, rng)
        lesion = out["label"][0] >= Label.GGO
        assert not (lesion & (before["label"][0] == 0)).any()  # never outside the lung
        assert ((out["label"][0] >= Label.LUNG) == (before["label"][0] >= Label.LUNG)).all()
        if lesion.any():
            pasted += 1
            assert lesion.sum() >= MIN_IN_LUNG * 240 - 1e-6
            # the lesion's inner pixels carry the donor's value; the lung outside is untouched
            inner = lesion & (np.abs(out["image"][0] - 0.55) < 1e-5)
            assert inner.sum() > 0.5 * lesion.sum()
            assert np.allclose(out["image"][0][~lesion], before["image"][0][~lesion])
    assert pasted >= 15
    for k in before:  # the input pair is not modified
        assert np.array_equal(receiver[k], before[k])


def test_no_lung_no_paste_and_own_lesions_are_not_drawn() -> None:
    donor = _pair((slice(5, 90), slice(5, 90)), (slice(40, 52), slice(40, 60)))
    no_lung = {"image": np.full((1, 96, 96), 0.9, np.float32),
               "label": np.zeros((1, 96, 96), np.uint8)}
    out = paste_lesions(no_lung, lesion_bank([donor]), np.random.default_rng(0))
    assert (out["label"] == 0).all() and np.allclose(out["image"], 0.9)
    # a slice whose only bank lesion is its own still gets it (nothing else to draw)
    out = paste_lesions(donor, lesion_bank([donor]), np.random.default_rng(0), exclude_source=0)
    assert (out["label"][0] >= Label.GGO).sum() >= 240
