"""``lunglab quantify`` and ``lunglab export ...``: one run as a user would (subprocess), the
rest in-process with typer's runner (the same command code, without paying the import of
torch that ``lunglab.imaging`` brings once per process)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import SimpleITK as sitk

from tests.helpers import synthetic_volume

CLI = [sys.executable, "-m", "lunglab.cli.main"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(CLI + args, env=env, capture_output=True, text=True, timeout=300)


def _cli(args: list[str], env: dict[str, str]) -> Any:
    """Run a command in-process with ``LUNGLAB_DATA_DIR`` from ``env``."""
    from typer.testing import CliRunner

    from lunglab.core.settings import get_settings
    from lunglab.cli.main import app

    old = os.environ.get("LUNGLAB_DATA_DIR")
    os.environ["LUNGLAB_DATA_DIR"] = env["LUNGLAB_DATA_DIR"]
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, args, env={"COLUMNS": "200", "NO_COLOR": "1"})
    finally:
        if old is None:
            os.environ.pop("LUNGLAB_DATA_DIR", None)
        else:
            os.environ["LUNGLAB_DATA_DIR"] = old
        get_settings.cache_clear()
    result.returncode = result.exit_code
    return result


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, LUNGLAB_DATA_DIR=str(tmp_path / "data"), NO_COLOR="1",
               COLUMNS="200")
    env.pop("LUNGLAB_DATABASE_URL", None)
    return env


def _labels() -> np.ndarray:
    lab = np.zeros((6, 32, 40), np.uint8)
    lab[:, 6:26, 5:18] = 1
    lab[:, 6:26, 22:35] = 1
    lab[:, 6:10, 5:18] = 2
    lab[0, 20:24, 24:30] = 3
    return lab


def test_quantify_prints_the_api_figures(tmp_path: Path) -> None:
    from lunglab.imaging.quantify import quantify

    vol = synthetic_volume()
    img = sitk.GetImageFromArray(_labels())
    img.SetSpacing(vol.spacing)
    img.SetOrigin(vol.origin)
    sitk.WriteImage(img, str(tmp_path / "labels.nii.gz"))
    sitk.WriteImage(vol.to_sitk(), str(tmp_path / "ct.nii.gz"))
    env = _env(tmp_path)
    r = _run(["quantify", str(tmp_path / "labels.nii.gz"), "--ct", str(tmp_path / "ct.nii.gz"),
              "--json"], env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    expected = quantify(_labels(), vol.spacing, vol.direction, vol.array)
    assert out["lungs"] == expected["lungs"] and out["zones"] == expected["zones"]
    assert out["density"]["ggo"]["mean_hu"] == expected["density"]["ggo"]["mean_hu"]
    assert "research use only" in out["research_use_only"].lower()
    table = _cli(["quantify", str(tmp_path / "labels.nii.gz")], env)
    assert table.returncode == 0 and "severity score" in table.stdout
    assert f"{expected['lungs']['total']['involvement_pct']:.2f}" in table.stdout
    (tmp_path / "bad.nii.gz").write_bytes(b"not a nifti")
    bad = _cli(["quantify", str(tmp_path / "bad.nii.gz")], env)
    assert bad.returncode == 1 and "not a readable NIfTI" in bad.output
    small = sitk.GetImageFromArray(np.zeros((2, 4, 4), np.uint8))
    sitk.WriteImage(small, str(tmp_path / "small.nii.gz"))
    mismatch = _cli(["quantify", str(tmp_path / "small.nii.gz"), "--ct",
                     str(tmp_path / "ct.nii.gz")], env)
    assert mismatch.returncode == 1 and "differ in shape" in mismatch.output


def test_export_commands_write_seg_ct_dataset_and_summary(tmp_path: Path) -> None:
    from lunglab.core.settings import Settings
    from lunglab.db.migrate import upgrade_to_head
    from lunglab.db.session import session_scope
    from lunglab.io.results import ParsedSeries
    from lunglab.io.store import make_store
    from lunglab.services.ingest.importer import register_series
    from lunglab.services.labels.labelmaps import save_version
    from lunglab.services.access.projects import create_project

    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    upgrade_to_head(settings.resolved_database_url)
    store = make_store("local", settings.data_dir / "store")
    vol = synthetic_volume()
    series = ParsedSeries(volume=vol, study_uid_pseudo="2.25.8.0", series_uid_pseudo="2.25.8",
                          patient_key="pk8", name="s", source_names=[], meta={"Modality": "CT"},
                          slice_count=6, kind="nifti")
    with session_scope(settings.resolved_database_url) as db:
        project = create_project(db, "CLI project", actor=None)
        sid = register_series(db, store, project, None, series).study_id
    with session_scope(settings.resolved_database_url) as db:
        vid = save_version(db, store, None, int(sid), _labels(), base_version_id=None,
                           kind="ai", model_name="test-model", check_base=False).id
    env = _env(tmp_path)
    r = _cli(["export", "seg", str(vid), "-o", str(tmp_path / "out" / "seg.dcm")], env)
    assert r.returncode == 0, r.output
    seg = pydicom.dcmread(tmp_path / "out" / "seg.dcm")
    assert seg.Modality == "SEG" and seg.SegmentSequence[0].SegmentAlgorithmType == "AUTOMATIC"
    r = _cli(["export", "ct", str(sid), "-o", str(tmp_path / "out" / "ct")], env)
    assert r.returncode == 0, r.output
    ct_files = sorted((tmp_path / "out" / "ct" / "CT").iterdir())
    assert len(ct_files) == 6
    refs = {i.ReferencedSOPInstanceUID
            for i in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert refs == {pydicom.dcmread(p).SOPInstanceUID for p in ct_files}
    r = _cli(["export", "ct", str(sid), "-o", str(tmp_path / "out" / "ct.nii.gz")], env)
    assert r.returncode == 0 and (tmp_path / "out" / "ct.nii.gz").stat().st_size > 0
    r = _cli(["export", "dataset", "CLI project", "-o", str(tmp_path / "ds")], env)
    assert r.returncode == 0, r.output
    (folder,) = list((tmp_path / "ds").iterdir())
    meta = json.loads((folder / "dataset.json").read_text())
    assert meta["lunglab"]["cases"][0]["kind"] == "ai"
    r = _cli(["export", "summary", "CLI project", "-o", str(tmp_path / "s.csv")], env)
    assert r.returncode == 0 and "test-model" in (tmp_path / "s.csv").read_text()
    missing = _cli(["export", "seg", "9999", "-o", str(tmp_path / "x.dcm")], env)
    assert missing.returncode == 1 and "not found" in missing.output
    nope = _cli(["export", "dataset", "no such project", "-o", str(tmp_path / "ds2")], env)
    assert nope.returncode == 1 and "not found" in nope.output
