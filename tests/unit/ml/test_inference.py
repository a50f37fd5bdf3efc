from __future__ import annotations


import numpy as np
import pytest

from lunglab.domain.volume import CTVolume
from lunglab.imaging.lungs import lung_mask
from lunglab.ml import Segmenter, segment_volume, summarize
from lunglab.ml.inference import combine
from lunglab.ml.checkpoints import model_path, resolve_device


def _volume(z: int = 6, size: int = 64) -> CTVolume:
    yy, xx = np.mgrid[:size, :size]
    c = size / 2
    body = (yy - c) ** 2 / (0.42 * size) ** 2 + (xx - c) ** 2 / (0.46 * size) ** 2 <= 1
    lungs = np.zeros_like(body)
    for cx in (0.3 * size, 0.7 * size):
        lungs |= (yy - size / 2) ** 2 / (0.3 * size) ** 2 + (xx - cx) ** 2 / (0.14 * size) ** 2 <= 1
    hu = np.where(body, 30, -1000)
    hu = np.where(lungs, -850, hu).astype(np.int16)
    return CTVolume(np.repeat(hu[None], z, axis=0), (1.5, 1.5, 5.0))


@pytest.mark.parametrize("z", [1, 6])
def test_segment_volume_geometry_and_labels(tiny_checkpoint, z):
    vol = _volume(z)
    label_map, info = segment_volume(vol, device="cpu", model=str(tiny_checkpoint))
    assert label_map.shape == vol.shape and label_map.dtype == np.uint8
    assert set(np.unique(label_map)) <= {0, 1, 2, 3}
    assert info["model"] == "tiny" and info["arch"] == "unet2d-small"
    teacher = lung_mask(vol.array, vol.spacing)
    assert not (teacher & (label_map == 0)).any(), "teacher lung must stay lung"
    s = summarize(label_map, vol.spacing)
    assert s["lung_ml"] > 0


def test_combine_keeps_lesions_inside_filled_lung():
    teacher = np.zeros((1, 9, 9), bool)
    teacher[0, 1:8, 1:8] = True
    teacher[0, 4, 4] = False  # a hole where a lesion is
    classes = np.zeros((1, 9, 9), np.uint8)
    classes[0, 4, 4] = 3
    classes[0, 0, 0] = 2  # outside the teacher: the network's lesion counts as lung
    out = combine(teacher, classes)
    assert out[0, 4, 4] == 3 and out[0, 0, 0] == 2
    assert (out[0, 1:8, 1:8] > 0).all()


def test_bad_device_and_model(tiny_checkpoint):
    with pytest.raises(ValueError):
        resolve_device("tpu")
    with pytest.raises(FileNotFoundError):
        model_path("no-such-model")
    seg = Segmenter(str(tiny_checkpoint), "cpu")
    with pytest.raises(ValueError):
        seg(CTVolume(np.zeros((4, 4), np.int16), (1.0, 1.0, 1.0)))


def test_network_lung_in_outside_air_is_dropped(tiny_checkpoint, monkeypatch):
    import lunglab.ml.inference as inference

    def everything_lung(loaded, hu, spacing_yx, batch_size=16, tta=False, class_scale=None):
        return np.ones(hu.shape, np.uint8)

    monkeypatch.setattr(inference, "predict_slices", everything_lung)
    vol = _volume(1, 96)
    label_map, _ = Segmenter(str(tiny_checkpoint), "cpu")(vol)
    outside = vol.array < -900
    outside[:, 20:76, 20:76] = False  # air around the body, away from the lungs
    assert not (label_map[outside] > 0).any()


def test_default_name_resolves_to_one_network_and_to_the_ensemble():
    from lunglab.ml.checkpoints import DEFAULT_MODEL, WEIGHTS_DIR, load_model, manifest_members

    if not (WEIGHTS_DIR / f"{DEFAULT_MODEL}.json").is_file():
        pytest.skip("default model is not an ensemble")
    first = manifest_members(WEIGHTS_DIR / f"{DEFAULT_MODEL}.json")[0]
    single = load_model(None, "cpu")
    assert single.name == first
    seg = Segmenter(None, "cpu")
    assert seg.info["model"] == DEFAULT_MODEL
    assert len(seg.loaded.members) == 2


def test_class_scale_tips_the_argmax_towards_the_scaled_classes():
    import math
    from types import SimpleNamespace

    import torch

    from lunglab.ml.inference import predict_slices

    probs = torch.tensor([0.05, 0.40, 0.35, 0.20])  # lung just ahead of GGO everywhere

    def forward(x: torch.Tensor) -> torch.Tensor:
        return probs.log()[None, :, None, None].expand(x.shape[0], 4, *x.shape[2:]).clone()

    net = SimpleNamespace(model_mm=1.5, arch="unet2d-small", device="cpu", forward=forward)
    hu = np.full((2, 40, 48), -700, np.int16)
    plain = predict_slices(net, hu, (1.5, 1.5))
    assert plain.shape == hu.shape and (plain == 1).all()
    b = 0.25  # 0.35 * e^0.25 = 0.449 > 0.40
    tipped = predict_slices(net, hu, (1.5, 1.5), class_scale=(1, 1, math.exp(b), math.exp(b)))
    assert (tipped == 2).all()
    assert (predict_slices(net, hu, (1.5, 1.5), class_scale=(1, 1, 1, 3)) == 3).all()
