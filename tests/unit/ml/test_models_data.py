from __future__ import annotations

import numpy as np
import pytest
import torch

from lunglab.ml.dataset import shared_dir, split_ids
from lunglab.ml.models import ARCHITECTURES, build_model, size_divisor

needs_data = pytest.mark.skipif(
    shared_dir() is None, reason="shared data absent (set LUNGLAB_SHARED_DIR or ../shared)")


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_models_output_four_classes(arch):
    net = build_model(arch).eval()
    d = size_divisor(arch)
    with torch.inference_mode():
        out = net(torch.zeros(2, 1, 2 * d, 3 * d))
    assert out.shape == (2, 4, 2 * d, 3 * d)
    with pytest.raises(ValueError):
        build_model("resnet9000")


def test_split_is_deterministic_and_disjoint():
    ids = [str(i) for i in range(50)]
    a = split_ids(ids, 0.2, seed=0)
    assert a == split_ids(ids, 0.2, seed=0)
    assert len(a[1]) == 10 and not set(a[0]) & set(a[1])
    assert sorted(a[0] + a[1], key=int) == ids


@needs_data
def test_medseg_slice_in_hu_and_training_pair():
    from lunglab.ml.dataset import list_ids, load_slice
    from lunglab.ml.targets import training_pair

    ids = list_ids()
    assert len(ids) == 50
    item = load_slice(ids[0])
    assert item.hu.min() >= -1100.5 and item.hu.max() <= 300.5
    assert set(np.unique(item.labels)) <= {0, 2, 3}
    pair = training_pair(item, model_mm=1.5)
    assert pair["image"].shape[1:] == pytest.approx(np.array(item.hu.shape) / 2, abs=1)
    lesion = item.labels >= 2
    lab = pair["label"][0]
    assert set(np.unique(lab)) <= {0, 1, 2, 3}
    assert (lab >= 1).mean() > 0.2  # lung taught by the classical mask plus lesions
    assert lesion.any() == (lab >= 2).any()


@needs_data
def test_training_is_deterministic(tmp_path):
    from lunglab.ml.train import TrainConfig, train

    def run(name: str) -> dict:
        cfg = TrainConfig(arch="unet2d-small", iterations=2, batch_size=2, patch=64, seed=3,
                          train_ids=["0", "1"], val_ids=["2"])
        train(cfg, tmp_path / name, log_every=1)
        return torch.load(tmp_path / name, weights_only=True)["state_dict"]

    a, b = run("a.pt"), run("b.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)


@needs_data
def test_batch_dice_changes_the_loss_and_is_recorded(tmp_path):
    import json

    from lunglab.ml.train import TrainConfig, train

    def run(name: str, batch_dice: bool) -> dict:
        cfg = TrainConfig(arch="unet2d-small", iterations=2, batch_size=2, patch=64, seed=3,
                          train_ids=["0", "1"], val_ids=["2"], batch_dice=batch_dice)
        train(cfg, tmp_path / name, log_every=1)
        return torch.load(tmp_path / name, weights_only=True)

    per_sample, per_batch = run("a.pt", False), run("b.pt", True)
    assert json.loads(per_batch["meta_json"])["config"]["batch_dice"] is True
    assert json.loads(per_sample["meta_json"])["config"]["batch_dice"] is False
    a, b = per_sample["state_dict"], per_batch["state_dict"]
    assert any(not torch.equal(a[k], b[k]) for k in a if a[k].is_floating_point())


def test_checkpoint_keeps_batchnorm_statistics_beyond_fp16(tmp_path):
    """A wide network's running variance can pass fp16's 65,504; saved as fp16 it loaded as inf
    and zeroed that channel at inference (the wide UNet's k-fold, 2026-12-07)."""
    from lunglab.ml.checkpoints import load_model
    from lunglab.ml.train import save_checkpoint

    torch.manual_seed(0)
    net = build_model("unet2d-small").eval()
    bn = next(m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    bn.running_var[0] = 2.5e5
    bn.running_mean[1] = 7e4
    x = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        want = net(x)
    path = tmp_path / "wide.pt"
    save_checkpoint(net, {"config": {"arch": "unet2d-small", "model_mm": 1.5}}, path)
    saved = torch.load(path, weights_only=True)["state_dict"]
    assert all(torch.isfinite(v.float()).all() for v in saved.values() if v.is_floating_point())
    assert saved[next(k for k in saved if k.endswith("conv.weight"))].dtype == torch.float16
    loaded = load_model(str(path), "cpu", use_onnx=False)
    with torch.no_grad():
        got = loaded.forward(x)
    assert torch.isfinite(got).all()
    assert float((got - want).abs().max()) <= 0.01 * float(want.abs().max())  # fp16 weights
