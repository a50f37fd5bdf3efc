"""Benchmark ingest on the real 141-slice series; prints slices/s and peak RSS.

Two figures: ``scan`` (parse, sort, check, de-identify: ``lunglab.io.scan.scan_upload``) and
``import`` (the whole ``lunglab import`` path: scan + NIfTI write + atomic store + database
row, into a temporary SQLite data folder; each run a fresh project so no duplicate).

Usage: ``.venv/bin/python bench/ingest.py [--repeat 3] [--zip]``. Goal: >= 100 slices/s.
Skips (exit 0, with a message) when ../shared/data/chest-ct-dicom-series is absent.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from lunglab.io.limits import UploadLimits
from lunglab.io.scan import scan_upload

REPO = Path(__file__).resolve().parents[1]
SERIES = Path(os.environ.get("LUNGLAB_SHARED_DIR", REPO / ".." / "shared")) / "data" / \
    "chest-ct-dicom-series" / "series"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--zip", action="store_true", help="upload the series as one .zip")
    args = parser.parse_args()
    if not SERIES.is_dir():
        print(f"SKIPPED: real series not found at {SERIES.resolve()}")
        return 0
    paths = sorted(SERIES.glob("*.dcm"))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    with tempfile.TemporaryDirectory(prefix="lunglab-bench-") as tmp:
        files = [(f"upload/{p.name}", p) for p in paths]
        if args.zip:
            archive = Path(tmp) / "series.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
                for p in paths:
                    zf.write(p, f"series/{p.name}")
            files = [("series.zip", archive)]
        for k in range(args.repeat):
            start = time.perf_counter()
            result = scan_upload(files, project_secret=b"bench-secret",
                                 limits=UploadLimits(), workdir=Path(tmp) / f"w{k}")
            times.append(time.perf_counter() - start)
            assert len(result.series) == 1 and not result.refused, result.refused
            shape = result.series[0].volume.shape
            del result
        import_times = _full_import(paths, Path(tmp), args.repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n = len(paths)
    print(f"input: {n} slices, volume {shape}, {'zip' if args.zip else 'files'}, "
          f"{sum(p.stat().st_size for p in paths) / 1e6:.1f} MB on disk")
    print(f"time per run: best {min(times):.3f} s, median {statistics.median(times):.3f} s "
          f"({args.repeat} runs)")
    print(f"throughput: best {n / min(times):.0f} slices/s, "
          f"median {n / statistics.median(times):.0f} slices/s (goal >= 100)")
    print(f"full import (scan + store + SQLite row): best {n / min(import_times):.0f} slices/s, "
          f"median {n / statistics.median(import_times):.0f} slices/s")
    print(f"peak RSS: {rss / 1024:.0f} MiB (before first run {rss_before / 1024:.0f} MiB; "
          f"volume itself {n * 512 * 512 * 2 / 2**20:.0f} MiB)")
    return 0


def _full_import(paths: list[Path], tmp: Path, repeat: int) -> list[float]:
    """Time ``services.ingest.import_paths`` (what ``lunglab import`` runs)."""
    from lunglab.core.settings import Settings
    from lunglab.db.migrate import upgrade_to_head
    from lunglab.db.session import session_scope
    from lunglab.io.store import make_store
    from lunglab.services.ingest import importer as ingest
    from lunglab.services.access.projects import create_project

    import lunglab.io.scan  # noqa: F401  (module imports are start-up cost, not per-import cost)

    settings = Settings(data_dir=tmp / "data")
    settings.data_dir.mkdir(parents=True)
    upgrade_to_head(settings.resolved_database_url)
    store = make_store("local", settings.data_dir / "store")
    times = []
    for k in range(repeat):
        with session_scope(settings.resolved_database_url) as db:
            project = create_project(db, f"bench-{k}", actor=None)
            start = time.perf_counter()
            out = ingest.import_paths(db, store, settings, project, None, [paths[0].parent])
            times.append(time.perf_counter() - start)
        assert [o.status for o in out] == ["imported"], out
    return times


if __name__ == "__main__":
    sys.exit(main())
