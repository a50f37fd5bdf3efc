"""The Smart click model (issue 18): input maps, crop geometry, simulated clicks, class by HU,
the 3D walk, and the shipped network on a synthetic and a held-out real slice."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lunglab.ml.click_sim import error_click
from lunglab.ml.interactive import (
    CROP_PX, MODEL_MM, NEGATIVE_DISC_MM, WEIGHTS_DIR, DEFAULT_CLICK_MODEL, Click, ClickModel,
    build_click_net, click_map, geometry, lesion_classes, network_input, paste,
)
from lunglab.ml.interactive_3d import correct_3d

SHIPPED = WEIGHTS_DIR / f"{DEFAULT_CLICK_MODEL}.pt"


def disc(shape, cy, cx, r):  # type: ignore[no-untyped-def]
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def test_click_map_peaks_at_the_click():
    m = click_map((32, 32), [(10.0, 20.0)])
    assert m[10, 20] == pytest.approx(1.0) and m.max() == m[10, 20] and m[0, 0] < 1e-6
    assert not click_map((8, 8), []).any()


def test_network_input_and_paste_cover_the_crop():
    hu = np.full((300, 300), -850.0, np.float32)
    lesion = disc((300, 300), 150, 150, 20)
    geo = geometry(150, 150, (0.75, 0.75))
    x = network_input(hu, lesion, [Click(150, 150, True), Click(100, 100, False)], geo)
    assert x.shape == (4, CROP_PX, CROP_PX)
    c = CROP_PX // 2
    assert x[1, c, c] == 1 and x[2, c, c] > 0.9 and x[3, c, c] < 0.01 and x[3].max() > 0.9
    mask, covered = paste(np.ones((CROP_PX, CROP_PX), np.float32), geo, (300, 300))
    side = CROP_PX * MODEL_MM / 0.75
    assert abs(covered.sum() - side * side) < 4 * side  # the crop's area on the slice
    assert np.array_equal(mask, covered)
    far, cov_far = paste(np.ones((CROP_PX, CROP_PX), np.float32),
                         geometry(-1000, -1000, (0.75, 0.75)), (50, 50))
    assert not far.any() and not cov_far.any()


def test_error_click_is_at_the_centre_of_the_largest_error():
    truth = disc((64, 64), 30, 30, 10)
    click = error_click(np.zeros_like(truth), truth)
    assert click == Click(30, 30, True)
    fp = disc((64, 64), 10, 50, 4) | truth
    click = error_click(fp, truth)
    assert click is not None and not click.positive
    assert abs(click.y - 10) <= 1 and abs(click.x - 50) <= 1
    assert error_click(truth, truth) is None


def test_lesion_classes_by_hu_keep_existing_classes():
    hu = np.full((40, 40), -850.0)
    hu[5:15, 5:15] = -100  # dense: consolidation
    hu[20:30, 20:30] = -550  # GGO
    before = np.zeros((40, 40), np.uint8)
    before[20:25, 20:30] = 3  # the reader called part of it consolidation: kept
    after = np.zeros((40, 40), bool)
    after[5:15, 5:15] = True
    after[20:30, 20:30] = True
    out = lesion_classes(hu, before, after)
    assert (out[5:15, 5:15] == 3).all() and (out[20:25, 20:30] == 3).all()
    assert (out[25:30, 20:30] == 2).all() and out[0, 0] == 0


class TubeModel:
    """Answers the lesion = a disc of radius 6 around the click where the HU is lesion-like."""

    def __init__(self, hu):  # type: ignore[no-untyped-def]
        self.hu = hu
        self.calls = 0

    def correct(self, hu, lesion, spacing_yx, clicks):  # type: ignore[no-untyped-def]
        self.calls += 1
        c = clicks[-1]
        region = disc(lesion.shape, c.y, c.x, 6) & (hu > -700)
        out = lesion.astype(bool).copy()
        if c.positive:
            out |= region
        else:
            out &= ~disc(lesion.shape, c.y, c.x, 6)
        return out


def test_3d_walk_follows_the_lesion_and_stops_where_it_ends():
    hu = np.full((12, 40, 40), -850.0, np.float32)
    for z in range(3, 9):  # a lesion on slices 3..8
        hu[z][disc((40, 40), 20, 20, 5)] = -500
    lesion = np.zeros(hu.shape, bool)
    model = TubeModel(hu)
    out = correct_3d(model, hu, lesion, 5, (2.0, 0.8, 0.8), [Click(20, 20, True)], max_mm=30)  # type: ignore[arg-type]
    assert [z for z in range(12) if out[z].any()] == [3, 4, 5, 6, 7, 8]
    # a negative click takes it out again, on every slice it reaches
    back = correct_3d(model, hu, out, 5, (2.0, 0.8, 0.8), [Click(20, 20, False)], max_mm=30)  # type: ignore[arg-type]
    assert not back.any()
    # the reach is bounded
    near = correct_3d(model, hu, lesion, 5, (2.0, 0.8, 0.8), [Click(20, 20, True)], max_mm=2)  # type: ignore[arg-type]
    assert [z for z in range(12) if near[z].any()] == [4, 5, 6]


def test_missing_weights_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError):
        ClickModel.load(tmp_path / "none.pt")


@pytest.mark.skipif(not SHIPPED.is_file(), reason="shipped Smart click weights not present")
def test_shipped_model_draws_a_clicked_ggo_blob():
    rng = np.random.default_rng(0)
    hu = np.full((256, 256), -1000.0, np.float32)
    hu[20:236, 20:236] = 40
    hu[40:216, 40:216] = -860
    blob = disc((256, 256), 128, 128, 18)
    hu[blob] = -520
    hu += rng.normal(0, 25, hu.shape).astype(np.float32)
    model = ClickModel.load()
    out = model.correct(hu, np.zeros_like(blob), (0.75, 0.75), [Click(128, 128, True)])
    dice = 2 * (out & blob).sum() / (out.sum() + blob.sum())
    assert dice > 0.6, dice
    # a negative click on it takes out the part the network agrees with, never adds lesion
    # (the shipped network is cautious there: about a tenth of a GGO-like blob; docs/models.md)
    gone = model.correct(hu, blob, (0.75, 0.75), [Click(128, 128, False)])
    assert not gone[128, 128] and not (gone & ~blob).any() and gone.sum() < blob.sum()


class _KeepsEverything(torch.nn.Module):
    """A network that calls every crop pixel lesion (it disagrees with any negative click)."""

    def forward(self, x):  # type: ignore[no-untyped-def]
        return torch.full_like(x[:, :1], 10.0)


def test_negative_click_the_network_disagrees_with_takes_out_a_disc_not_the_lesion():
    hu = np.full((200, 200), -500.0, np.float32)
    lesion = np.zeros((200, 200), bool)
    lesion[40:160, 40:160] = True  # a large lesion; the reader says "not lesion" at its edge
    out = ClickModel(_KeepsEverything()).correct(hu, lesion, (0.75, 0.75),
                                                 [Click(100, 150, False)])
    gone = lesion & ~out
    assert not (out & ~lesion).any()  # a negative click never adds lesion
    assert gone[100, 150] and gone[100, 145] and not gone[100, 140]  # 4 mm = 5.3 px
    yy, xx = np.nonzero(gone)
    assert (((yy - 100) * 0.75) ** 2 + ((xx - 150) * 0.75) ** 2 <= NEGATIVE_DISC_MM ** 2).all()
    assert out.sum() > 0.99 * lesion.sum()  # the rest of the lesion stays


@pytest.mark.skipif(not SHIPPED.is_file(), reason="shipped Smart click weights not present")
def test_shipped_model_improves_a_held_out_slice_with_clicks():
    from lunglab.ml.dataset import list_ids, load_slice, shared_dir, split_ids

    if shared_dir() is None:
        pytest.skip("../shared/data absent (MedSeg slices)")
    item = load_slice(split_ids(list_ids())[1][0])  # a validation slice, never trained on
    truth = item.labels > 0
    pred, clicks = np.zeros_like(truth), []
    model = ClickModel.load()
    for _ in range(3):
        c = error_click(pred, truth)
        assert c is not None
        clicks.append(c)
        pred = model.correct(item.hu, pred, (0.75, 0.75), clicks)
    dice = 2 * (pred & truth).sum() / (pred.sum() + truth.sum())
    assert dice > 0.5, dice


class _SeesDenseBlobs(torch.nn.Module):
    """Calls lesion wherever the windowed HU is above lung (a reader-free stand-in network)."""

    def forward(self, x):  # type: ignore[no-untyped-def]
        return (x[:, :1] - 0.3) * 50.0


def test_training_samples_carry_up_to_loop_clicks_plus_one_clicks():
    from scipy.ndimage import label

    from lunglab.ml.interactive_train import make_sample

    hu = np.full((256, 256), -860.0, np.float32)
    truth = np.zeros(hu.shape, bool)
    for i, (cy, cx) in enumerate([(60, 60), (60, 128), (60, 196), (128, 60), (128, 196),
                                  (196, 128)]):
        truth |= disc(hu.shape, cy, cx, 14 - i)  # sizes differ: the reader's order is fixed
    hu[truth] = -500.0
    model = ClickModel(_SeesDenseBlobs())

    def clicks_in(x: np.ndarray) -> int:
        return sum(label(x[c] > 0.5)[1] for c in (2, 3))

    rng = np.random.default_rng(0)
    for loops, most in ((0, 1), (1, 2), (4, 5)):
        counts = [clicks_in(make_sample((hu, truth, 0.75), rng, model, loops)[0])
                  for _ in range(60)]
        # a click outside the crop around the latest one is not in its maps
        assert most - 1 <= max(counts) <= most and min(counts) >= 1, (loops, counts)
        assert loops < 4 or np.mean(counts) > 2, counts
    counts = [clicks_in(make_sample((hu, truth, 0.75), rng, None, 4)[0]) for _ in range(10)]
    assert max(counts) == 1  # no network yet: one click


def test_a_wider_click_network_trains_saves_and_loads_with_its_channels(tmp_path):
    from lunglab.ml.interactive_train import ClickTrainConfig, train_click_model

    hu = np.full((96, 96), -860.0, np.float32)
    truth = disc(hu.shape, 48, 48, 12)
    hu[truth] = -500.0
    out = tmp_path / "wide.pt"
    cfg = ClickTrainConfig(iterations=2, batch_size=2, replay_medseg=False, loop_clicks=0,
                           extra=[(hu, truth, 0.75)], channels=[8, 16, 32])
    meta = train_click_model(cfg, out, log=lambda m: None)
    assert meta["channels"] == [8, 16, 32]
    model = ClickModel.load(out)
    n = sum(p.numel() for p in model.net.parameters())
    assert n == sum(p.numel() for p in build_click_net((8, 16, 32)).parameters())
    assert n != sum(p.numel() for p in build_click_net().parameters())
    # fine-tuning from it keeps its channels, whatever the config says
    meta2 = train_click_model(ClickTrainConfig(iterations=1, batch_size=2, replay_medseg=False,
                                               init=str(out), extra=[(hu, truth, 0.75)]),
                              tmp_path / "tuned.pt", log=lambda m: None)
    assert meta2["channels"] == [8, 16, 32]
    prob = ClickModel.load(tmp_path / "tuned.pt").correct(hu, np.zeros_like(truth), (0.75, 0.75),
                                                         [Click(48, 48, True)])
    assert prob.shape == hu.shape and prob[48, 48]
