"""Leftovers of interrupted work are removed at start; referenced and recent files are kept."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from tests.helpers import add_study, raw_labels


def _age(path, seconds: float) -> None:  # type: ignore[no-untyped-def]
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_orphans_and_stale_scratch_removed_referenced_kept(app, admin_api, settings):
    from lunglab.services.ingest import housekeeping

    pid = admin_api.post("/api/projects", json={"name": "p"}).json()["id"]
    sid = add_study(app, pid, shape=(2, 8, 8))
    r = admin_api.post(f"/api/studies/{sid}/versions",
                       files={"file": raw_labels(np.zeros((2, 8, 8), np.uint8))},
                       data={"format": "raw"})
    assert r.status_code == 201
    store = settings.data_dir / "store"
    kept = [p for p in store.rglob("*") if p.is_file()]
    assert len(kept) == 1  # the CT; label maps live in the database
    orphan = store / "labelmaps" / str(sid) / "deadbeef.nii.gz"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"written, then the server died before the commit")
    fresh_orphan = store / "labelmaps" / str(sid) / "inflight.nii.gz"
    fresh_orphan.write_bytes(b"another process is saving this right now")
    scratch = settings.data_dir / "tmp" / "tmpabc"
    scratch.mkdir(parents=True)
    (scratch / "part-0.dcm").write_bytes(b"x")
    for p in [*kept, orphan, scratch]:
        _age(p, 2 * 86400)
    report = housekeeping.clean(settings)
    assert (report.orphans_removed, report.scratch_removed) == (1, 1)
    assert not orphan.exists() and not scratch.exists()
    assert fresh_orphan.exists()  # too recent: may belong to work in flight
    assert all(p.exists() for p in kept)
    assert admin_api.get(f"/api/versions/{r.json()['id']}/labels.nii.gz").status_code == 200
    # the NIfTI written for that download is referenced: the next clean keeps it
    written = store / "labelmaps" / str(sid)
    files = [p for p in written.glob("*.nii.gz") if p != fresh_orphan]
    assert len(files) == 1
    _age(files[0], 2 * 86400)
    assert housekeeping.clean(settings).orphans_removed == 0 and files[0].exists()


def test_store_temporaries_removed_only_when_old(settings):
    """A ``.tmp-`` file younger than the limit may be another process's write in flight (a CLI
    import while the server starts): start-up keeps it; an old one is removed."""
    from lunglab.api.app import create_app
    from lunglab.io.store import LocalVolumeStore

    folder = settings.data_dir / "store" / "studies" / "1"
    folder.mkdir(parents=True)
    fresh, old = folder / ".tmp-inflight", folder / ".tmp-crashed"
    fresh.write_bytes(b"an import is writing this right now")
    old.write_bytes(b"written before a crash")
    _age(old, 2 * 3600)
    _age(fresh, 60)
    store = LocalVolumeStore(settings.data_dir / "store")
    assert store.remove_temporaries() == 1
    assert fresh.exists() and not old.exists()
    assert store.remove_temporaries(max_age_s=30) == 1 and not fresh.exists()
    # the server's start-up applies the same limit
    fresh.write_bytes(b"in flight")
    old.write_bytes(b"crashed")
    _age(old, 2 * 3600)
    create_app(settings, start_runner=False, web_dist=Path("/nonexistent"))
    assert fresh.exists() and not old.exists()
