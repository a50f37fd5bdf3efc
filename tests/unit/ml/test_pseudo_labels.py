"""The pseudo-labelled slices as training slices (issue 14): HU per source, lesion classes by
density, and, on the real slices, lesions only inside the lung and never on the crop's edge."""
from __future__ import annotations

import numpy as np
import pytest

from lunglab.domain.labels import Label
from lunglab.ml.dataset import shared_dir
from lunglab.ml.pseudo_labels import (
    CONSOLIDATION_HU, classes_by_density, list_pseudo_ids, load_pseudo_slice, source_hu,
)

needs_data = pytest.mark.skipif(
    shared_dir() is None, reason="shared data absent (set LUNGLAB_SHARED_DIR or ../shared)")


def test_source_hu_anchors():
    v = np.array([0, 13, 100], np.uint8)
    corona = source_hu("Data-1_coronacases_org_001_5", v)
    assert abs(corona[0] + 1000) < 15 and abs(corona[1] + 858) < 5 and abs(corona[2] - 42) < 5
    lung_window = source_hu("Data-1_radiopaedia_org_covid-19-pneumonia-10_85902_3-dcm_4", v)
    assert abs(lung_window[0] + 1100) < 1 and lung_window[2] < -500  # the labelled slices' window


def test_lesion_classes_by_smoothed_density():
    hu = np.full((40, 40), -600.0, np.float32)
    hu[:, 20:] = 0.0
    lesion = np.zeros((40, 40), bool)
    lesion[10:30, 5:35] = True
    out = classes_by_density(hu, lesion)
    assert set(np.unique(out)) == {0, Label.GGO, Label.CONSOLIDATION}
    assert (out[10:30, 5:15] == Label.GGO).all() and (out[10:30, 25:35] == 3).all()
    assert (out[~lesion] == 0).all()
    hu[:, 20:] = CONSOLIDATION_HU - 50  # just below the line: GGO
    assert (classes_by_density(hu, lesion)[10:30, 25:35] == Label.GGO).all()


@needs_data
@pytest.mark.parametrize("fraction", [0.0, 1.0])
def test_training_draws_pseudo_slices_only_when_asked(monkeypatch, tmp_path, fraction):
    """A pseudo pair whose image is NaN poisons the loss exactly when pseudo slices are drawn
    (once NaN, the weights stay NaN: every later loss is NaN too)."""
    from lunglab.ml import train as train_mod

    poisoned = {"image": np.full((1, 48, 48), np.nan, np.float32),
                "label": np.zeros((1, 48, 48), np.uint8)}
    monkeypatch.setattr(train_mod, "pseudo_pairs", lambda model_mm: [poisoned])
    cfg = train_mod.TrainConfig(arch="unet2d-small", iterations=2, batch_size=2, patch=32,
                                pseudo_fraction=fraction, train_ids=["0", "1"], val_ids=["2"])
    meta = train_mod.train(cfg, tmp_path / "m.pt", log_every=1)
    losses = [row["loss"] for row in meta["log"]]
    assert np.isnan(losses).all() if fraction else np.isfinite(losses).all()
    assert meta["config"]["pseudo_fraction"] == fraction


@needs_data
def test_real_pseudo_slices_keep_lesions_inside_the_lung_and_off_the_edge():
    names = list_pseudo_ids()
    assert len(names) > 1000  # 1,600 in the data, those with a lesion of >= 150 pixels
    assert any("coronacases" in n for n in names) and any("radiopaedia" in n for n in names)
    from lunglab.imaging.lungs import lung_mask
    from lunglab.ml.dataset import MEDSEG_PIXEL_MM, MEDSEG_SLICE_MM

    lesion_total = 0
    for name in names[::200]:
        item = load_pseudo_slice(name)
        assert item.hu.shape == item.labels.shape
        assert set(np.unique(item.labels)) <= {0, Label.GGO, Label.CONSOLIDATION}
        lesion = item.labels > 0
        border = np.concatenate([lesion[0], lesion[-1], lesion[:, 0], lesion[:, -1]])
        assert not border.any(), name
        from scipy.ndimage import binary_fill_holes

        lung = binary_fill_holes(lung_mask(item.hu[None], (MEDSEG_PIXEL_MM, MEDSEG_PIXEL_MM,
                                                           MEDSEG_SLICE_MM))[0])
        assert not (lesion & ~lung).any(), name
        lesion_total += int(lesion.sum())
    assert lesion_total > 0


@needs_data
def test_pseudo_until_stops_drawing_pseudo_slices(monkeypatch, tmp_path):
    """With ``pseudo_until`` the pseudo slices feed only the first iterations: a marked pseudo
    image reaches the augmentation in iteration 1 and never after."""
    from lunglab.ml import train as train_mod

    marker = 0.123
    pair = {"image": np.full((1, 48, 48), marker, np.float32),
            "label": np.zeros((1, 48, 48), np.uint8)}
    seen: list[bool] = []
    real = train_mod.train_transforms

    def counting(patch, seed, strong=False):  # type: ignore[no-untyped-def]
        t = real(patch, seed, strong)

        def apply(d):  # type: ignore[no-untyped-def]
            seen.append(bool(np.all(d["image"] == marker)))
            return t(d)
        return apply

    monkeypatch.setattr(train_mod, "pseudo_pairs", lambda model_mm: [pair])
    monkeypatch.setattr(train_mod, "train_transforms", counting)
    cfg = train_mod.TrainConfig(arch="unet2d-small", iterations=4, batch_size=2, patch=32,
                                pseudo_fraction=1.0, pseudo_until=1, train_ids=["0", "1"],
                                val_ids=["2"])
    train_mod.train(cfg, tmp_path / "m.pt", log_every=1)
    assert seen == [True, True] + [False] * 6  # batch 2, iteration 1 only
