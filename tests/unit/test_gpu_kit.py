"""bench/gpu/: the prepared GPU run parses as bash and names only what .gpukit/ carries."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KIT = REPO / "bench" / "gpu"


@pytest.mark.parametrize("script", ["prepare.sh", "run.sh"])
def test_script_parses(script: str) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    r = subprocess.run([bash, "-n", str(KIT / script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_run_reads_the_folders_prepare_writes() -> None:
    prepare = (KIT / "prepare.sh").read_text()
    run = (KIT / "run.sh").read_text()
    for folder in (".gpukit/whl", ".gpukit/shared"):
        assert folder in prepare and folder in run, folder
    # the kit stays out of git (it holds licensed data) and every module run.sh starts exists
    assert "/.gpukit/" in (REPO / ".gitignore").read_text().splitlines()
    modules = re.findall(r"-m (lunglab\.[\w.]+)", run)
    scripts = re.findall(r"\$PY (bench/[\w/]+\.py)", run)
    assert modules and scripts
    for module in modules:
        assert (REPO / "src" / Path(*module.split("."))).with_suffix(".py").is_file(), module
    for script in scripts:
        assert (REPO / script).is_file(), script
