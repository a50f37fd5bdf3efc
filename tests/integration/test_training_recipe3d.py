"""The 3D SegResNet recipe on a tiny Decathlon export: trains, validates, resumes (CPU)."""
from __future__ import annotations

from pathlib import Path

from tests.helpers import synthetic_volume
from tests.integration.training_support import lung_labels


def _export(root: Path) -> Path:
    from lunglab.io.export.decathlon import DatasetCase, write_decathlon

    shape = (8, 32, 40)
    cases = [DatasetCase(f"case_{i}", (lambda i=i: (synthetic_volume(shape, seed=i),
                                                    lung_labels(shape))),
                         "val" if i == 2 else "train") for i in range(3)]
    return write_decathlon(root, "Dataset900_Tiny", cases)


def test_recipe3d_trains_validates_and_resumes(tmp_path):
    from lunglab.ml.recipes.segresnet3d import Recipe3D, datalists, train_segresnet3d

    ds = _export(tmp_path)
    train, val = datalists(ds)
    assert len(train) == 2 and len(val) == 1 and val[0]["label"].endswith("case_2.nii.gz")
    cfg = Recipe3D(roi=(16, 16, 8), pixdim=(1.6, 1.6, 2.5), init_filters=8, epochs=1,
                   batch_size=2, samples_per_volume=1, device="cpu")
    first = train_segresnet3d(ds, tmp_path / "run", cfg)
    assert [h["epoch"] for h in first["history"]] == [1]
    assert set(first["history"][0]["val_dice"]) == {"lung", "ggo", "consolidation"}
    cfg.epochs = 2
    second = train_segresnet3d(ds, tmp_path / "run", cfg)
    assert second["resumed_from_epoch"] == 1
    assert [h["epoch"] for h in second["history"]] == [1, 2]
    assert Path(second["weights"]).is_file()
