"""The fine-tuning loop without a server: determinism, exact resume, bounded cache, exports."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import synthetic_volume
from tests.integration.training_support import lung_labels


@pytest.fixture
def tiny_cases(tmp_path: Path):  # type: ignore[no-untyped-def]
    import SimpleITK as sitk

    from lunglab.io.store import LocalVolumeStore
    from lunglab.ml.cases import CaseRef

    store = LocalVolumeStore(tmp_path / "store")
    refs = []
    for i in range(3):
        vol = synthetic_volume(seed=i)
        for name, arr in (("ct", vol.array), ("labels", lung_labels())):
            img = sitk.GetImageFromArray(arr)
            img.SetSpacing(vol.spacing)
            sitk.WriteImage(img, str(tmp_path / f"{name}{i}.nii.gz"))
            store.put_file(f"cases/{i}/{name}.nii.gz", tmp_path / f"{name}{i}.nii.gz")
        refs.append(CaseRef(i, i, f"cases/{i}/ct.nii.gz", f"cases/{i}/labels.nii.gz",
                            vol.spacing, tuple(range(6))))
    return store, refs


def _config(**kw):  # type: ignore[no-untyped-def]
    from lunglab.ml.train_loop import FineTuneConfig

    base = {"arch": "unet2d-small", "patch": 32, "batch_size": 4, "slices_per_epoch": 8,
            "val_slices_per_case": 2, "epochs": 2, "seed": 3}
    return FineTuneConfig(**{**base, **kw})


def _train(store, refs, run_dir, **kw):  # type: ignore[no-untyped-def]
    from lunglab.ml import build_model
    from lunglab.ml.train_loop import fine_tune

    torch.manual_seed(123)  # the starting weights (a base model in real runs)
    net = build_model("unet2d-small")
    out = fine_tune(net, refs[:2], refs[2:], _config(**kw), run_dir, store)
    return net, out


def test_same_seed_same_model_and_resume_is_exact(tiny_cases, tmp_path):
    store, refs = tiny_cases
    net_a, out_a = _train(store, refs, tmp_path / "a")
    net_b, _ = _train(store, refs, tmp_path / "b")
    for (k, va), vb in zip(net_a.state_dict().items(), net_b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k
    _, first = _train(store, refs, tmp_path / "c", epochs=1)
    assert first["resumed_from_epoch"] is None
    net_c, resumed = _train(store, refs, tmp_path / "c")  # a fresh process would do the same
    assert resumed["resumed_from_epoch"] == 1 and [h["epoch"] for h in resumed["history"]] == [1, 2]
    for (k, va), vc in zip(net_a.state_dict().items(), net_c.state_dict().values(), strict=True):
        assert torch.allclose(va.float(), vc.float(), atol=1e-6), k
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in out_a["history"]]
    assert sorted(p.name for p in (tmp_path / "a").glob("epoch-*.pt")) == \
        ["epoch-0001.pt", "epoch-0002.pt"]
    dice = out_a["history"][-1]["val_dice"]
    assert set(dice) == {"lung", "ggo", "consolidation"}
    assert all(v is None or 0 <= v <= 1 for v in dice.values())


def test_cache_holds_at_most_max_cases(tiny_cases):
    from lunglab.ml.cases import CaseCache, epoch_order

    store, refs = tiny_cases
    cache = CaseCache(store, 1.5, max_cases=1)
    order = epoch_order(refs, 18, seed=0, epoch=1)
    assert sorted(order) == sorted((c, z) for c in range(3) for z in range(6))
    for ci, z in order:
        item = cache.get(refs[ci], z)
        assert cache.held == 1 and item["image"].dtype == np.float32
    assert cache.loads == 3  # grouped by case: each case read once per epoch
    assert epoch_order(refs, 7, 0, 2) == epoch_order(refs, 7, 0, 2) != epoch_order(refs, 7, 0, 3)


def test_exports_run_and_monai_bundle_loads(tmp_path):
    from monai.bundle import ConfigParser, load

    from lunglab.ml import build_model
    from lunglab.ml.train import save_checkpoint
    from lunglab.services.training.model_export import export_model

    torch.manual_seed(0)
    net = build_model("unet2d-small").eval()
    weights = tmp_path / "lunglab-p1-v1.pt"
    save_checkpoint(net, {"config": {"arch": "unet2d-small", "model_mm": 1.5}, "version": "1"},
                    weights)
    ref_net = build_model("unet2d-small")
    saved = torch.load(weights, weights_only=True)["state_dict"]
    ref_net.load_state_dict({k: v.float() if v.is_floating_point() else v
                             for k, v in saved.items()})
    ref_net.eval()
    x = torch.rand(2, 1, 48, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = ref_net(x)
    ts = torch.jit.load(str(export_model(weights, "torchscript", tmp_path / "out", "m")))
    with torch.no_grad():
        assert torch.allclose(ts(x), expected, atol=1e-5)
    import onnxruntime as ort

    sess = ort.InferenceSession(str(export_model(weights, "onnx", tmp_path / "out", "m")),
                                providers=["CPUExecutionProvider"])
    got = sess.run(["logits"], {"image": x.numpy()})[0]
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-4)
    archive = export_model(weights, "bundle", tmp_path / "out", "lunglab-p1-v1", {"seed": 0})
    bundles = tmp_path / "bundles"
    zipfile.ZipFile(archive).extractall(bundles)
    root = bundles / "lunglab-p1-v1"
    meta = json.loads((root / "configs" / "metadata.json").read_text())
    assert meta["preprocessing"]["model_mm"] == 1.5 and meta["lunglab"] == {"seed": 0}
    parser = ConfigParser()
    parser.read_config(str(root / "configs" / "inference.json"))
    parser["bundle_root"] = str(root)
    bundle_net = parser.get_parsed_content("network_def")
    bundle_net.load_state_dict(torch.load(parser.get_parsed_content("checkpoint"),
                                          weights_only=True))
    with torch.no_grad():
        assert torch.allclose(bundle_net.eval()(x), expected, atol=1e-5)
    loaded = load("lunglab-p1-v1", bundle_dir=str(bundles), workflow_type="inference",
                  device="cpu")
    with torch.no_grad():
        assert torch.allclose(loaded.eval()(x), expected, atol=1e-5)
    ts_net, _, _ = load("lunglab-p1-v1", bundle_dir=str(bundles), load_ts_module=True,
                        device="cpu")
    with torch.no_grad():
        assert torch.allclose(ts_net(x), expected, atol=1e-5)
