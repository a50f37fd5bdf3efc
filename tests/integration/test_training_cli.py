"""``lunglab train`` and ``lunglab models ...`` (in-process with typer's runner: the CLI
imports are paid once)."""
from __future__ import annotations

import json

from tests.integration.training_support import add_approved_study


def test_train_list_promote_rollback_export(app, admin_api, settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lunglab.core.settings import get_settings
    from lunglab.cli.main import app as cli_app

    pid = admin_api.post("/api/projects", json={"name": "cli-train"}).json()["id"]
    for i in range(3):
        add_approved_study(app, pid, uid=f"2.25.9{i}")
    monkeypatch.setenv("LUNGLAB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LUNGLAB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    monkeypatch.setattr("lunglab.core.settings.get_settings", get_settings)
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        res = runner.invoke(cli_app, list(args))
        res.returncode = res.exit_code
        return res

    r = run("train", "--project", "cli-train", "--epochs", "1", "--from-scratch",
            "--arch", "unet2d-small", "--patch", "32", "--slices-per-epoch", "8",
            "--batch-size", "4", "--device", "cpu", "--smartclick-iterations", "2")
    assert r.returncode == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["state"] == "succeeded" and out["result"]["epochs"] == 1
    version = out["result"]["model_version_id"]
    listed = run("models", "list", "--project", "cli-train")
    assert listed.returncode == 0 and out["result"]["model"] in listed.stdout
    assert "candidate" in listed.stdout
    r = run("models", "promote", str(version), "--override", "--reason", "tiny test model")
    assert r.returncode == 0 and "is active" in r.stderr, r.output
    assert run("models", "promote", str(version)).returncode == 1  # already active
    assert "already active" in run("models", "promote", str(version)).output
    r = run("models", "rollback", "--project", "cli-train", "--to", "0")
    assert r.returncode == 0 and "shipped default" in r.stderr
    r = run("models", "export", str(version), "--format", "onnx", "--out", str(tmp_path / "x"))
    assert r.returncode == 0, r.output
    assert (tmp_path / "x" / f"{out['result']['model']}.onnx").stat().st_size > 1000
    assert run("models", "list", "--project", "nope").returncode == 1
    # a radiograph model from the CLI: none yet, one trained, promoted, then none again
    from tests.integration.test_radiograph_training import add_radiograph

    assert "radiographs: no model" in run("models", "list", "--project", "cli-train").stdout
    assert run("train", "--project", "cli-train", "--modality", "xr", "--epochs", "1").returncode \
        == 1  # no approved radiographs: the message says how many are needed
    for seed in range(2):
        add_radiograph(app, pid, seed)
    r = run("train", "--project", "cli-train", "--modality", "xr", "--epochs", "1",
            "--arch", "unet2d-small", "--patch", "64", "--slices-per-epoch", "4",
            "--batch-size", "4", "--device", "cpu")
    assert r.returncode == 0, r.output
    xr = json.loads(r.stdout.strip().splitlines()[-1])["result"]
    # a first radiograph model must reach the lung-field floor, else it needs an override
    assert xr["gate"]["floor"] == 0.5
    if not xr["gate"]["passed"]:  # what one epoch usually gives
        refused = run("models", "promote", str(xr["model_version_id"]))
        assert refused.returncode == 1 and "lung-field" in refused.output, refused.output
    r = run("models", "promote", str(xr["model_version_id"]), "--override",
            "--reason", "tiny xr test model")
    assert r.returncode == 0, r.output
    listed = run("models", "list", "--project", "cli-train").stdout
    assert f"radiographs: {xr['model']}" in listed and " xr " in listed
    r = run("models", "rollback", "--project", "cli-train", "--to", "0", "--modality", "xr")
    assert r.returncode == 0 and "no radiograph model" in r.stderr, r.output
    assert run("models", "rollback", "--project", "cli-train", "--modality", "mr").returncode == 1
    get_settings.cache_clear()
    events = admin_api.get("/api/audit?action=model.promote").json()["data"]
    assert events and events[0]["actor"] == "admin"
