from __future__ import annotations

import math

import pytest

from lunglab.ml.kfold import cross_validate, kfold_ids, summarize_folds
from lunglab.ml.train import TrainConfig

IDS = [str(i) for i in range(50)]


def _half_scores(ids):
    """What a stand-in ``evaluate`` returns: every slice scored 0.5."""
    from lunglab.ml.evaluate import aggregate

    rows = [{"infection": 0.5, "ggo": 0.5, "consolidation": 0.5, "covered": 1.0,
             "lesion_pixels": 1.0, "ggo_pixels": 1.0, "cons_pixels": 1.0, "id": i} for i in ids]
    return {"summary": aggregate(rows), "per_slice": rows}


def test_folds_are_disjoint_cover_all_and_are_seeded():
    folds = kfold_ids(IDS, 5, seed=0)
    flat = [i for f in folds for i in f]
    assert sorted(flat, key=int) == IDS and len(set(flat)) == 50
    assert {len(f) for f in folds} == {10}
    assert folds == kfold_ids(IDS, 5, seed=0) and folds != kfold_ids(IDS, 5, seed=1)
    assert {len(f) for f in kfold_ids(IDS[:12], 5)} == {2, 3}
    with pytest.raises(ValueError):
        kfold_ids(IDS[:3], 5)
    with pytest.raises(ValueError):
        kfold_ids(IDS, 1)


def test_summary_is_mean_and_sample_sd_skipping_nan():
    folds = [{"infection_dice": 0.6, "ggo_dice": float("nan"), "consolidation_dice": 0.5,
              "lesion_in_lung": 1.0},
             {"infection_dice": 0.8, "ggo_dice": 0.4, "consolidation_dice": 0.5,
              "lesion_in_lung": 1.0}]
    s = summarize_folds(folds)
    assert s["mean"]["infection_dice"] == pytest.approx(0.7)
    assert s["sd"]["infection_dice"] == pytest.approx(0.1414, abs=1e-4)
    assert s["mean"]["ggo_dice"] == pytest.approx(0.4) and math.isnan(s["sd"]["ggo_dice"])


def test_each_fold_is_scored_only_on_slices_it_never_trained_on(monkeypatch, tmp_path):
    import lunglab.ml.evaluate as evaluate_mod
    import lunglab.ml.train as train_mod

    trained: list[set[str]] = []

    def fake_train(cfg, out, device="cpu", log_every=50):
        trained.append(set(cfg.train_ids))
        out.write_bytes(b"x")
        return {"train_seconds": 0.0}

    def fake_evaluate(ids, model=None, device="cpu", tta=None):
        assert not set(ids) & trained[-1], "scored on a training slice"
        return _half_scores(ids)

    monkeypatch.setattr(train_mod, "train", fake_train)
    monkeypatch.setattr(evaluate_mod, "evaluate", fake_evaluate)
    res = cross_validate(TrainConfig(iterations=1), k=5, ids=IDS, out_dir=tmp_path)
    assert len(res["folds"]) == 5 and len(res["per_slice"]) == 50
    assert all(len(t) == 40 for t in trained)
    assert res["mean"]["infection_dice"] == pytest.approx(0.5)


def test_a_rerun_scores_saved_folds_of_the_same_recipe_instead_of_training_them(
        monkeypatch, tmp_path):
    import copy
    from dataclasses import asdict

    import torch

    import lunglab.ml.evaluate as evaluate_mod
    import lunglab.ml.train as train_mod
    from lunglab.ml.train import save_checkpoint

    recipe = TrainConfig(iterations=7)
    folds = kfold_ids(IDS, 5, seed=0)

    def saved(fold: int, cfg: TrainConfig) -> None:
        done = copy.deepcopy(cfg)
        done.train_ids = [i for i in IDS if i not in folds[fold]]
        done.val_ids = list(folds[fold])
        save_checkpoint(torch.nn.Linear(1, 1), {"config": asdict(done), "train_seconds": 12.0},
                        tmp_path / f"fold{fold}.pt")

    saved(0, recipe)                       # the same recipe: scored, not trained
    saved(1, TrainConfig(iterations=8))    # another recipe: trained again
    trained: list[int] = []

    def fake_train(cfg, out, device="cpu", log_every=50):
        trained.append(int(out.stem.removeprefix("fold")))
        return {"train_seconds": 0.0}

    def fake_evaluate(ids, model=None, device="cpu", tta=None):
        return _half_scores(ids)

    monkeypatch.setattr(train_mod, "train", fake_train)
    monkeypatch.setattr(evaluate_mod, "evaluate", fake_evaluate)
    res = cross_validate(recipe, k=5, ids=IDS, out_dir=tmp_path)
    assert trained == [1, 2, 3, 4]
    assert [f["train_seconds"] for f in res["folds"]][:2] == [12.0, 0.0]
