"""An ``ai-segment`` job takes a model *name*, never a file path: a path is refused at
submission (422), and a name that is neither one of the project's model versions nor a
shipped model fails the job with a message naming it, before any file is opened."""
from __future__ import annotations

import pytest

from lunglab.core.settings import Settings
from lunglab.db.session import session_scope
from lunglab.io.store import store_for
from lunglab.ml.checkpoints import DEFAULT_MODEL
from lunglab.services.training.model_versions import model_by_name, shipped_model_names
from tests.helpers import add_study


@pytest.fixture
def project(admin_api) -> int:  # type: ignore[no-untyped-def]
    r = admin_api.post("/api/projects", json={"name": "P", "description": ""})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.mark.parametrize("model", ["/etc/passwd", "../weights/x.pt", "a/b", ".hidden", ""])
def test_a_model_path_is_refused_at_submission(admin_api, app, project: int,  # type: ignore[no-untyped-def]
                                               model: str) -> None:
    sid = add_study(app, project)
    r = admin_api.post("/api/jobs", json={"kind": "ai-segment", "study_id": sid,
                                          "params": {"model": model}})
    assert r.status_code == 422, (model, r.status_code, r.text)
    assert "params.model" in str(r.json()["detail"]), r.text


def test_names_resolve_to_shipped_models_or_fail_clearly(app, project: int) -> None:  # type: ignore[no-untyped-def]
    settings: Settings = app.state.settings
    shipped = shipped_model_names()
    assert DEFAULT_MODEL in shipped and "lunglab-lesion2d-v1" in shipped
    with session_scope(settings.resolved_database_url) as db:
        store = store_for(settings)
        assert model_by_name(db, store, project, DEFAULT_MODEL) == DEFAULT_MODEL
        with pytest.raises(ValueError, match="unknown model 'lunglab-p99-v7'"):
            model_by_name(db, store, project, "lunglab-p99-v7")


def test_a_train_job_only_trains_a_run_of_its_own_project(admin_api, app) -> None:  # type: ignore[no-untyped-def]
    from lunglab.db.models_training import TrainingRun

    a = admin_api.post("/api/projects", json={"name": "A", "description": ""}).json()["id"]
    b = admin_api.post("/api/projects", json={"name": "B", "description": ""}).json()["id"]
    with session_scope(app.state.settings.resolved_database_url) as db:
        run = TrainingRun(project_id=a, state="done")
        db.add(run)
        db.flush()
        run_id = run.id
    app.state.runner.submit = lambda job_id, kind: None  # keep accepted jobs queued
    for project, expected in ((b, 422), (a, 201)):
        r = admin_api.post("/api/jobs", json={"kind": "train", "project_id": project,
                                              "params": {"run_id": run_id}})
        assert r.status_code == expected, (project, r.status_code, r.text)
    r = admin_api.post("/api/jobs", json={"kind": "train", "project_id": b,
                                          "params": {"run_id": run_id}})
    assert f"no training run {run_id} in project {b}" in str(r.json()["detail"])
