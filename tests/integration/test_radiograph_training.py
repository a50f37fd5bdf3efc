"""The radiograph retraining path (issue 19): approved radiograph label maps train a 2D
radiograph model (modality ``xr``), which is promoted, rolled back and run from the AI job,
beside and never mixed with the CT model."""
from __future__ import annotations

import gzip

import numpy as np
import pytest
from tests.helpers import wait_job
from tests.integration.training_support import add_approved_study

SHAPE = (1, 96, 128)
# 10 epochs (about 6 s): at 5 the from-scratch lung-field Dice sat near the 0.7 bar (0.66 in one
# fresh-clone CI run on PostgreSQL, above it in the runs before)
XR_RUN = {"modality": "xr", "xr_grid": 128, "epochs": 10, "arch": "unet2d-small", "patch": 128,
          "batch_size": 4, "slices_per_epoch": 32, "val_slices_per_case": 1, "device": "cpu",
          "seed": 0, "lr": 0.003}


def chest(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A radiograph-like picture (bright body, dark lung fields, a hazy and a dense opacity)
    and its label map; positions and grey levels vary with ``seed``."""
    rng = np.random.default_rng(seed)
    _, h, w = SHAPE
    yy, xx = np.mgrid[:h, :w]
    labels = np.zeros((h, w), np.uint8)
    dy, dx = rng.integers(-5, 6, 2)
    for cx in (w * 0.3 + dx, w * 0.7 + dx):
        field = ((yy - h * 0.5 - dy) / (h * 0.33)) ** 2 + ((xx - cx) / (w * 0.14)) ** 2 < 1
        labels[field] = 1
    ggo = ((yy - h * 0.6 - dy) ** 2 + (xx - w * 0.3 - dx) ** 2 < 8 ** 2) & (labels == 1)
    cons = ((yy - h * 0.45 - dy) ** 2 + (xx - w * 0.7 - dx) ** 2 < 6 ** 2) & (labels == 1)
    labels[ggo], labels[cons] = 2, 3
    body = (np.abs(xx - w / 2) < w * 0.45).astype(np.float32)
    gain = float(rng.uniform(0.8, 1.25))
    image = 300 + 1500 * body - 1000 * (labels > 0) + 450 * ggo + 850 * cons
    image = gain * image + rng.normal(0, 40, image.shape)
    return image.astype(np.int16)[None], labels[None]


def add_radiograph(app, pid: int, seed: int, approved: bool = True) -> int:  # type: ignore[no-untyped-def]
    """A one-slice XR study through the real ingest path, with an imported (approved) label map."""
    from lunglab.db.models import Project
    from lunglab.db.session import session_scope
    from lunglab.domain.volume import CTVolume
    from lunglab.io.results import ParsedSeries
    from lunglab.services.ingest.importer import register_series
    from lunglab.services.labels.labelmaps import save_version

    image, labels = chest(seed)
    uid = f"2.25.900{seed}"
    series = ParsedSeries(volume=CTVolume(image, (0.5, 0.5, 1.0), meta={"Modality": "XR"}),
                          study_uid_pseudo=uid + ".0", series_uid_pseudo=uid,
                          patient_key=f"xr-{seed}", name=f"chest x-ray {seed}",
                          source_names=[], meta={"Modality": "XR"}, slice_count=1,
                          kind="picture")
    url = app.state.settings.resolved_database_url
    with session_scope(url) as db:
        outcome = register_series(db, app.state.store, db.get(Project, pid), None, series)
    assert outcome.status == "imported", outcome
    sid = int(outcome.study_id)
    if approved:
        with session_scope(url) as db:
            save_version(db, app.state.store, None, sid, labels, base_version_id=None,
                         kind="imported", check_base=False, message="reference")
    return sid


def _labels(api, version_id: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    import nibabel as nib

    r = api.get(f"/api/versions/{version_id}/labels.nii.gz")
    assert r.status_code == 200, r.text
    img = nib.Nifti1Image.from_bytes(gzip.decompress(r.content))
    return np.asarray(img.dataobj).transpose(2, 1, 0)


@pytest.fixture
def project(app, admin_api):  # type: ignore[no-untyped-def]
    pid = admin_api.post("/api/projects", json={"name": "xr-train"}).json()["id"]
    sids = [add_radiograph(app, pid, seed) for seed in range(5)]
    ct = add_approved_study(app, pid, uid="2.25.9101")[0]
    return pid, sids, ct


def test_radiograph_model_trains_promotes_runs_and_rolls_back(app, admin_api, project):  # type: ignore[no-untyped-def]
    pid, sids, ct = project
    new = add_radiograph(app, pid, 42, approved=False)
    # no radiograph model yet: the AI job is refused with the reason, the page says so
    r = admin_api.post("/api/jobs", json={"kind": "ai-segment", "study_id": new})
    assert r.status_code == 422, r.text
    assert "no radiograph model is active" in r.text and "Chest radiographs" in r.text
    assert admin_api.get(f"/api/studies/{new}/radiograph").json()["ai"]["available"] is False
    # the training data never mixes CT and radiographs
    xr_data = admin_api.get(f"/api/projects/{pid}/training/data?modality=xr").json()
    ct_data = admin_api.get(f"/api/projects/{pid}/training/data").json()
    assert sorted(a["study_id"] for a in xr_data["approved"]) == sorted(sids)
    assert [a["study_id"] for a in ct_data["approved"]] == [ct]

    r = admin_api.post(f"/api/projects/{pid}/training", json=XR_RUN)
    assert r.status_code == 201, r.text
    run, job = r.json()["run"], r.json()["job"]
    assert run["modality"] == "xr" and run["params"]["from_scratch"] is True
    assert set(run["val_study_ids"]) < set(sids) and len(run["val_study_ids"]) == 1
    assert {d["study_id"] for d in run["data_snapshot"]} == set(sids) - set(run["val_study_ids"])
    done = wait_job(admin_api, job["id"], timeout=600)
    assert done["state"] == "succeeded", admin_api.get(f"/api/jobs/{job['id']}/log").text

    models = admin_api.get(f"/api/projects/{pid}/models").json()
    v1 = models["data"][0]
    assert v1["modality"] == "xr" and v1["state"] == "candidate"
    assert v1["comparison"]["active"] is None
    gate = v1["comparison"]["gate"]  # nothing to compare with: the first-model floor applies
    assert gate["passed"] and gate["floor"] == 0.5, gate
    assert v1["comparison"]["new"]["lung_field_dice"] >= 0.5
    # a radiograph has no thickness: its size errors are areas, not volumes
    assert set(v1["comparison"]["new"]["abs_area_error_cm2"]) == {"lung", "ggo", "consolidation"}
    assert "abs_volume_error_ml" not in v1["comparison"]["new"]
    # the frozen validation radiograph, segmented by the new model through the AI pipeline
    val_dice = v1["comparison"]["new"]["dice"]
    assert val_dice["lung"] > 0.7, (v1["metrics"], admin_api.get(f"/api/jobs/{job['id']}/log").text)
    r = admin_api.post(f"/api/models/{v1['id']}/promote", json={})
    assert r.status_code == 200 and r.json()["state"] == "active"
    models = admin_api.get(f"/api/projects/{pid}/models").json()
    assert models["active_radiograph_id"] == v1["id"] and models["active_id"] is None
    assert models["active_name"] == models["shipped"]["name"]  # CT still uses the shipped model

    ai = admin_api.get(f"/api/studies/{new}/radiograph").json()["ai"]
    assert ai == {"available": True, "model": v1["name"], "message": ai["message"]}
    job = admin_api.post("/api/jobs", json={"kind": "ai-segment", "study_id": new}).json()
    done = wait_job(admin_api, job["id"])
    assert done["state"] == "succeeded", admin_api.get(f"/api/jobs/{job['id']}/log").text
    version = admin_api.get(f"/api/studies/{new}/versions").json()["data"][0]
    assert version["kind"] == "ai" and version["model_name"] == v1["name"]
    pred = _labels(admin_api, version["id"])
    ref = chest(42)[1]
    assert pred.shape == SHAPE and set(np.unique(pred)) <= {0, 1, 2, 3}
    lung_dice = 2 * ((pred > 0) & (ref > 0)).sum() / ((pred > 0).sum() + (ref > 0).sum())
    assert lung_dice > 0.7, lung_dice
    # a radiograph model is never run on a CT, nor a CT model on a radiograph
    r = admin_api.post("/api/jobs", json={"kind": "ai-segment", "study_id": ct,
                                          "params": {"model": v1["name"]}})
    assert r.status_code == 422 and "is a radiograph model" in r.text, r.text
    r = admin_api.post("/api/jobs", json={"kind": "ai-segment", "study_id": new,
                                          "params": {"model": "lunglab-lesion2d-v1"}})
    assert r.status_code == 422 and "is a CT model" in r.text, r.text

    # rolling the radiographs back to "no model" leaves the CT side as it was
    r = admin_api.post(f"/api/projects/{pid}/models/rollback",
                       json={"version_id": 0, "modality": "xr"})
    assert r.status_code == 200, r.text
    models = admin_api.get(f"/api/projects/{pid}/models").json()
    assert models["active_radiograph_id"] is None and models["data"][0]["state"] == "retired"
    assert admin_api.get(f"/api/studies/{new}/radiograph").json()["ai"]["available"] is False


def test_radiograph_and_ct_runs_keep_their_own_frozen_splits(app, admin_api, project):  # type: ignore[no-untyped-def]
    from lunglab.db.models_training import ValidationSplit
    from lunglab.db.session import session_scope
    from sqlalchemy import select

    pid, sids, _ = project
    add_approved_study(app, pid, uid="2.25.9102")
    quick = {**XR_RUN, "epochs": 1, "slices_per_epoch": 4}
    xr_run = admin_api.post(f"/api/projects/{pid}/training", json=quick).json()["run"]
    ct_run = admin_api.post(f"/api/projects/{pid}/training",
                            json={**quick, "modality": "ct", "from_scratch": True,
                                  "patch": 32}).json()["run"]
    assert set(xr_run["val_study_ids"]) <= set(sids)
    assert not set(ct_run["val_study_ids"]) & set(sids)
    with session_scope(app.state.settings.resolved_database_url) as db:
        splits = {s.modality: list(s.study_ids) for s in db.scalars(
            select(ValidationSplit).where(ValidationSplit.project_id == pid))}
    assert splits == {"xr": xr_run["val_study_ids"], "ct": ct_run["val_study_ids"]}
    # a CT model cannot be the base of a radiograph run
    for r in (xr_run, ct_run):
        wait_job(admin_api, r["job_id"], timeout=600)
    ct_model = next(m for m in admin_api.get(f"/api/projects/{pid}/models").json()["data"]
                    if m["modality"] == "ct")
    r = admin_api.post(f"/api/projects/{pid}/training",
                       json={**quick, "base_version_id": ct_model["id"]})
    assert r.status_code == 422 and "needs a xr base" in r.text, r.text
