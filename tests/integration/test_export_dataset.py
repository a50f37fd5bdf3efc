"""Project dataset export in the nnU-Net / Decathlon layout, loaded back with MONAI."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import add_study, raw_labels


def _labels(shape: tuple[int, int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lab = np.zeros(shape, np.uint8)
    lab[:, 6:26, 5:35] = 1
    lab[rng.random(shape) < 0.05] = 2
    lab[:, 10:12, 10:12] = 3
    return lab


def test_dataset_export_loads_with_monai(app, admin_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from monai.apps import DecathlonDataset
    from monai.data import load_decathlon_datalist
    from monai.transforms import LoadImaged

    from lunglab.io.export.decathlon import frozen_split

    pid = admin_api.post("/api/projects", json={"name": "DS", "description": "d"}).json()["id"]
    labelled = {}
    for i in range(4):
        sid = add_study(app, pid, uid=f"2.25.{100 + i}")
        lab = _labels((6, 32, 40), i)
        r = admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(lab)},
                           data={"format": "raw"})
        assert r.status_code == 201
        labelled[sid] = lab
    unlabelled = add_study(app, pid, uid="2.25.999")
    r = admin_api.post(f"/api/projects/{pid}/exports/dataset")
    assert r.status_code == 200, r.text
    out = tmp_path / "export"
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(out)
    (folder,) = list(out.iterdir())
    assert folder.name.startswith("Dataset") and (folder / "README.txt").exists()
    meta = json.loads((folder / "dataset.json").read_text())
    assert meta["labels"] == {"background": 0, "lung": 1, "GGO": 2, "consolidation": 3}
    assert meta["channel_names"] == {"0": "CT"} and meta["file_ending"] == ".nii.gz"
    assert "research use only" in meta["lunglab"]["research_use_only"].lower()
    cases = {c["study_id"]: c for c in meta["lunglab"]["cases"]}
    assert cases[unlabelled]["split"] == "unlabelled" and cases[unlabelled]["label"] is None
    for sid in labelled:
        st = admin_api.get(f"/api/studies/{sid}").json()
        assert cases[sid]["split"] == frozen_split(st["patient_key"])  # frozen: from the key
    fold = json.loads((folder / "splits_final.json").read_text())[0]
    in_training = [c for c in cases.values() if c["split"] in ("train", "val")]
    assert sorted(fold["train"] + fold["val"]) == sorted(c["case"] for c in in_training)
    assert meta["numTraining"] == len(in_training) == len(meta["training"])

    datalist = load_decathlon_datalist(folder / "dataset.json", True, "training", folder)
    loader = LoadImaged(["image", "label"], image_only=True)
    for item in datalist:
        loaded = loader(item)
        case = next(c for c in cases.values() if item["image"].endswith(c["image"][2:]))
        # MONAI loads NIfTI as [x, y, z]; LungLab arrays are [z, y, x]
        label = np.asarray(loaded["label"]).transpose(2, 1, 0)
        assert np.array_equal(label, labelled[case["study_id"]])
        assert tuple(np.asarray(loaded["image"]).shape) == (40, 32, 6)

    class LungLabDecathlon(DecathlonDataset):
        resource = {folder.name: ""}
        md5 = {folder.name: ""}

    if meta["numTraining"] < 2:
        pytest.skip("the frozen split left fewer than two training cases")
    ds = LungLabDecathlon(out, folder.name, "training", download=False, val_frac=0.0,
                          cache_rate=0.0, progress=False)
    assert len(ds) == meta["numTraining"]
    sample = ds[0]
    assert set(np.unique(np.asarray(sample["label"]))) <= {0, 1, 2, 3}
    assert ds.get_properties("labels")["labels"]["GGO"] == 2


def test_dataset_export_needs_project_admin(app, admin_api, make_user, login) -> None:  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "DS2", "description": ""}).json()["id"]
    make_user("ann")
    admin_api.post(f"/api/projects/{pid}/members", json={"username": "ann", "role": "annotator"})
    assert login("ann").post(f"/api/projects/{pid}/exports/dataset").status_code == 403
    events = admin_api.get("/api/audit", params={"action": "export.dataset"}).json()
    assert events["count"] == 0
    assert admin_api.post(f"/api/projects/{pid}/exports/dataset").status_code == 200
    events = admin_api.get("/api/audit", params={"action": "export.dataset"}).json()
    assert events["count"] == 1 and events["data"][0]["actor"] == "admin"
