"""The train job's Smart click step: lesion slices from a run's studies, weights stored beside the
automatic model's, a failure only logged."""
from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from lunglab.io.store import make_store
from lunglab.ml.cases import CaseRef
from lunglab.ml.interactive import ClickModel
from lunglab.services.training import smartclick_tune


def _case(store, tmp_path, with_lesion=True):  # type: ignore[no-untyped-def]
    hu = np.full((4, 64, 64), -850, np.int16)
    hu[:, 20:40, 20:40] = -450
    labels = np.zeros(hu.shape, np.uint8)
    labels[:, 10:54, 10:54] = 1
    if with_lesion:
        labels[1:3, 20:40, 20:40] = 2
    for name, arr in (("ct", hu), ("lab", labels)):
        path = tmp_path / f"{name}.nii.gz"
        img = sitk.GetImageFromArray(arr)
        img.SetSpacing((0.8, 0.8, 2.5))
        sitk.WriteImage(img, str(path))
        store.put_file(f"t/{name}.nii.gz", path)
    return CaseRef(1, 1, "t/ct.nii.gz", "t/lab.nii.gz", (0.8, 0.8, 2.5), (0, 1, 2, 3))


def test_lesion_slices_and_fine_tune_store_weights_beside_the_model(tmp_path, monkeypatch):
    store = make_store("local", tmp_path / "store")
    ref = _case(store, tmp_path)
    slices = smartclick_tune.lesion_slices(store, [ref])
    assert len(slices) == 2 and all(s[1].sum() == 400 and s[2] == 0.8 for s in slices)
    monkeypatch.setattr(smartclick_tune, "MAX_SLICES_PER_STUDY", 1)
    assert len(smartclick_tune.lesion_slices(store, [ref])) == 1
    logs: list[str] = []
    meta = smartclick_tune.fine_tune_smartclick(store, [ref], "models/1/run1/m.pt", iterations=2,
                                                log=logs.append)
    assert meta is not None and meta["iterations"] == 2 and meta["project_slices"] == 1
    key = smartclick_tune.smartclick_key("models/1/run1/m.pt")
    assert key == "models/1/run1/m.smartclick.pt" and store.exists(key)
    ClickModel.load(store.local_path(key))
    assert "fine-tuned on 1 lesion slices" in logs[-1]


def test_no_lesion_slices_means_no_fine_tune(tmp_path):
    store = make_store("local", tmp_path / "store")
    ref = _case(store, tmp_path, with_lesion=False)
    logs: list[str] = []
    out = smartclick_tune.fine_tune_smartclick(store, [ref], "models/m.pt", log=logs.append)
    assert out is None
    assert "not fine-tuned" in logs[0] and not store.exists("models/m.smartclick.pt")
