"""Fixtures of the lunglab.io tests: synthetic series are generated, real data is optional."""
from __future__ import annotations

from pathlib import Path

import pytest

from dicom_factory import REAL_SERIES, shared_dir


@pytest.fixture
def real_series_dir() -> Path:
    """The real 141-slice series from ../shared (skips when the shared folder is absent)."""
    root = shared_dir()
    if root is None or not (root / REAL_SERIES).is_dir():
        pytest.skip("real data absent: ../shared/data/chest-ct-dicom-series (or "
                    "LUNGLAB_SHARED_DIR) not found")
    return root / REAL_SERIES


@pytest.fixture
def ny_sbu_dir() -> Path:
    """Single COVID-19-NY-SBU slices from ../shared (skips when absent)."""
    root = shared_dir()
    path = root / "data" / "covid-ny-sbu-slices" if root else None
    if path is None or not path.is_dir():
        pytest.skip("real data absent: ../shared/data/covid-ny-sbu-slices not found")
    return path


def as_files(paths: list[Path]) -> list[tuple[str, Path]]:
    """``(name, path)`` pairs as the ingest service passes them."""
    return [(p.name, p) for p in paths]
