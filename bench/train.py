"""Benchmark retraining: seconds per epoch per 100 slices (CPU, and GPU when present), and the
time from the Train click to a registered model for 10 annotated studies.

Studies are synthetic chest-CT phantoms at a realistic size (default 48 slices of 256x256 at
1.4 mm, 5 mm apart: body, two lungs, GGO and consolidation blobs) with exact label maps
imported as approved references, registered through the real ingest path into a temporary
SQLite data folder. "Click to model" times ``start_training`` (the POST's service call) plus the
``train`` job run to its end in this process (what a worker does): streaming, epochs,
checkpoints, registration and the comparison on the frozen validation set.

Usage: ``.venv/bin/python bench/train.py [--studies 10] [--epochs 3] [--slices-per-epoch 200]``
Goal: click to registered model <= 15 min on CPU.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def phantom(seed: int, z: int, size: int, spacing: tuple[float, float, float]):  # type: ignore[no-untyped-def]
    """A CT-like volume and its exact label map."""
    from lunglab.domain.volume import CTVolume

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    body = ((yy - 0.5) / 0.42) ** 2 + ((xx - 0.5) / 0.47) ** 2 < 1
    left = ((yy - 0.5) / 0.3) ** 2 + ((xx - 0.3) / 0.14) ** 2 < 1
    right = ((yy - 0.5) / 0.3) ** 2 + ((xx - 0.7) / 0.14) ** 2 < 1
    hu = np.full((z, size, size), -1000, np.int16)
    lab = np.zeros((z, size, size), np.uint8)
    for k in range(z):
        scale = 1 - abs(k - z / 2) / (z * 0.6)
        lungs = (left | right) & (((yy - 0.5) / (0.3 * scale)) ** 2 < 1)
        hu[k][body] = 40
        hu[k][lungs] = -850
        lab[k][lungs] = 1
    for _ in range(int(rng.integers(2, 5))):
        cz, cy, cx = rng.integers(z // 4, 3 * z // 4), rng.uniform(0.35, 0.65), \
            rng.choice([0.3, 0.7])
        r = rng.uniform(0.03, 0.07)
        zz = np.arange(z)[:, None, None]
        blob = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r)[None] & (np.abs(zz - cz) < 4) & (lab > 0)
        cons = ((yy - cy) ** 2 + (xx - cx) ** 2 < (r / 2) ** 2)[None] & blob
        hu[blob], lab[blob] = -450, 2
        hu[cons], lab[cons] = 20, 3
    hu = (hu + rng.normal(0, 15, hu.shape)).astype(np.int16)
    return CTVolume(hu, spacing, (0.0, 0.0, 0.0)), lab


def setup(tmp: Path, n: int, z: int, size: int):  # type: ignore[no-untyped-def]
    from lunglab.core.settings import Settings
    from lunglab.db.migrate import upgrade_to_head
    from lunglab.db.models import Project
    from lunglab.db.session import session_scope
    from lunglab.io.results import ParsedSeries
    from lunglab.io.store import make_store
    from lunglab.services.access import accounts
    from lunglab.services.ingest.importer import register_series
    from lunglab.services.labels.labelmaps import save_version
    from lunglab.services.access.projects import get_or_create_project

    settings = Settings(data_dir=tmp / "data")
    settings.data_dir.mkdir(parents=True)
    upgrade_to_head(settings.resolved_database_url)
    store = make_store("local", settings.data_dir / "store")
    (tmp / "scratch").mkdir()
    with session_scope(settings.resolved_database_url) as db:
        admin = accounts.create_user(db, "admin", "bench-password-1", is_admin=True)
        pid = get_or_create_project(db, "bench", admin).id
    for i in range(n):
        vol, lab = phantom(i, z, size, (1.4, 1.4, 5.0))
        uid = f"2.25.{1000 + i}"
        series = ParsedSeries(volume=vol, study_uid_pseudo=uid + ".0", series_uid_pseudo=uid,
                              patient_key=f"pk{i}", name=f"phantom {i}", source_names=[],
                              meta={"Modality": "CT"}, slice_count=z, kind="nifti")
        with session_scope(settings.resolved_database_url) as db:
            out = register_series(db, store, db.get(Project, pid), None, series)
            save_version(db, store, None, out.study_id, lab, base_version_id=None,
                         kind="imported", check_base=False)
    return settings, pid


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--studies", type=int, default=10)
    p.add_argument("--slices", type=int, default=48, help="slices per study")
    p.add_argument("--size", type=int, default=256, help="in-plane pixels")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--slices-per-epoch", type=int, default=200)
    p.add_argument("--arch", default="unet2d")
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    import torch

    from lunglab.db.models import User
    from lunglab.db.session import session_scope
    from lunglab.services import jobs
    from lunglab.services.training import runs as training

    if a.threads:
        torch.set_num_threads(a.threads)
    print(json.dumps({"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                      "load_avg": os.getloadavg()[0], "cuda": torch.cuda.is_available()}))
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        settings, pid = setup(Path(d), a.studies, a.slices, a.size)
        print(json.dumps({"setup_s": round(time.perf_counter() - t0, 1), "studies": a.studies,
                          "shape": [a.slices, a.size, a.size]}))
        for device in devices:
            params = {"epochs": a.epochs, "slices_per_epoch": a.slices_per_epoch, "arch": a.arch,
                      "device": device, "seed": 0}
            click = time.perf_counter()
            with session_scope(settings.resolved_database_url) as db:
                admin = db.query(User).filter(User.username == "admin").one()
                run, job = training.start_training(db, admin, pid, params, settings)
                run_id, job_id = run.id, job.id
            state = jobs.execute_job(settings, job_id)
            total = time.perf_counter() - click
            with session_scope(settings.resolved_database_url) as db:
                from lunglab.db.models import Job
                from lunglab.db.models_training import TrainingRun

                hist = db.get(TrainingRun, run_id).history
                job_row = db.get(Job, job_id)
                result, log = job_row.result, job_row.log
            if state != "succeeded":
                print(log[-3000:])
                return 1
            train_s = [h["train_seconds"] for h in hist]
            per100 = [h["train_seconds"] / h["slices"] * 100 for h in hist]
            print(json.dumps({
                "device": device, "arch": a.arch, "epochs": len(hist),
                "slices_per_epoch": hist[0]["slices"],
                "s_per_epoch_per_100_slices": round(float(np.median(per100)), 2),
                "epoch_train_s": train_s, "epoch_total_s": [h["seconds"] for h in hist],
                "click_to_registered_model_s": round(total, 1),
                "goal_s": 900, "met": total <= 900,
                "final_val_dice": result["final_val_dice"],
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
