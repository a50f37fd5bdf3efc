"""Load benchmark: readers saving, viewers loading, an import and a training job at once.

For SQLite and PostgreSQL (``--db both``) a real server (uvicorn, one process) is started on a
free loopback port. At the same time:

- ``--readers`` readers (default 20) each save ``--saves`` versions of the real 512x512x141
  series (synthetic with ``--synthetic`` or without ../shared) the way the browser does: the
  first on the AI proposal stored in the prepare step, each later one on the reader's previous
  version, each sending only the ``--slices`` (default 8) changed axial slices
  (``format=slices``).
  Readers are light ``http.client`` threads with request bodies built before the run
  (``bench/collab.py``'s ``plan_saves``/``run_readers``);
- ``--viewers`` viewers (default 50) each open the study: metadata, versions, the CT volume;
- one upload imports a second (synthetic) series through the API;
- one training job (1 tiny epoch) runs on two small studies with imported label maps.

It prints throughput, p50/p95/p99 latency per request kind, the error count, the CPU the
benchmark's own clients used, the server-side save timings (``Server-Timing``), and checks every
acknowledged save as ``bench/collab.py`` does (the version exists on the right parent, its
slices match their digests and its voxels equal what the reader meant). Goals: no errors, p95
save <= 500 ms, no lost edits. Usage: ``.venv/bin/python bench/load.py [--db
sqlite|postgres|both] [--readers 20] [--viewers 50] [--saves 2] [--slices 8] [--synthetic]``.
Only loopback traffic; bounded in count and time.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_collab", HERE / "collab.py")
collab = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
assert _spec and _spec.loader
_spec.loader.exec_module(collab)


def _pcts(ms: list[float]) -> str:
    if len(ms) < 2:
        return "n/a"
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms"


def _training_project(settings) -> int:  # type: ignore[no-untyped-def]
    """A second project with two small studies carrying imported label maps."""
    from lunglab.db.models import Project
    from lunglab.db.session import session_scope
    from lunglab.domain.volume import CTVolume
    from lunglab.io.results import ParsedSeries
    from lunglab.io.store import make_store
    from lunglab.services.labels import labelmaps
    from lunglab.services.access import projects
    from lunglab.services.access.accounts import get_user_by_name
    from lunglab.services.ingest.importer import register_series

    store = make_store("local", settings.data_dir / "store")
    with session_scope(settings.resolved_database_url) as db:
        admin = get_user_by_name(db, "admin")
        pid = projects.create_project(db, "load-train", actor=admin).id
    for k in range(2):
        arr = np.full((12, 128, 128), -1000, np.int16)
        arr[:, 10:118, 10:118] = 40
        arr[:, 30:100, 20:60] = -850
        arr[:, 30:100, 70:110] = -850
        arr[4:8, 50:60, 30:45] = -400
        lab = np.zeros(arr.shape, np.uint8)
        lab[:, 30:100, 20:60] = 1
        lab[:, 30:100, 70:110] = 1
        lab[4:8, 50:60, 30:45] = 2
        vol = CTVolume(arr, (1.5, 1.5, 5.0))
        series = ParsedSeries(volume=vol, study_uid_pseudo=f"2.25.8{k}.0",
                              series_uid_pseudo=f"2.25.8{k}", patient_key=f"pk-load-{k}",
                              name=f"train {k}", source_names=[], meta={"Modality": "CT"},
                              slice_count=12, kind="nifti")
        with session_scope(settings.resolved_database_url) as db:
            project = db.get(Project, pid)
            sid = register_series(db, store, project, None, series).study_id
        with session_scope(settings.resolved_database_url) as db:
            labelmaps.save_version(db, store, None, int(sid), lab, base_version_id=None,
                                   kind="imported", check_base=False)
    return pid


def _viewer(base: str, token: str, sid: int, out: list[tuple[str, float, int]],
            cpu: list[float]) -> None:
    """Open the study as the browser does: metadata, versions, the whole CT volume (read in
    1 MiB pieces and dropped). A plain ``http.client`` connection: on this machine the
    viewers share the CPU with the server, and an httpx client spends about 0.3 s of CPU
    per 39 MB volume assembling it."""
    import http.client
    from urllib.parse import urlsplit

    cpu0 = time.thread_time()
    host = urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=300)
    try:
        for kind, url in (("study", f"/api/studies/{sid}"),
                          ("versions", f"/api/studies/{sid}/versions"),
                          ("volume", f"/api/studies/{sid}/volume.nii.gz")):
            t0 = time.perf_counter()
            try:
                conn.request("GET", url, headers={"Authorization": f"Bearer {token}"})
                r = conn.getresponse()
                size, want = 0, int(r.getheader("content-length") or -1)
                while chunk := r.read(1024 * 1024):
                    size += len(chunk)
                status = r.status if want in (-1, size) else 598  # short body
            except (OSError, http.client.HTTPException):
                status = 599
            out.append((kind, (time.perf_counter() - t0) * 1000, status))
    finally:
        conn.close()
    cpu.append(time.thread_time() - cpu0)


def bench(db_kind: str, args: argparse.Namespace) -> None:
    from lunglab.db.session import session_scope
    from lunglab.services.access import accounts

    with collab.bench_settings(db_kind, "lunglab-bench-load-") as settings:
        if settings is None:
            return
        sid, shape, tokens, ai_id = collab.prepare(settings, args.readers, args.synthetic)
        plan = collab.plan_saves(shape, list(tokens), args.saves, "slices", args.slices,
                                 collab.ai_proposal(shape))
        train_pid = _training_project(settings)
        with session_scope(settings.resolved_database_url) as db:
            admin_token = accounts.create_api_token(
                db, accounts.get_user_by_name(db, "admin"), "load")
        port = collab.free_port()
        base = f"http://127.0.0.1:{port}"
        server = collab.start_server(settings, port)
        samples: list[tuple[str, float, int]] = []
        viewer_cpu: list[float] = []
        try:
            admin = httpx.Client(base_url=base, timeout=300,
                                 headers={"Authorization": f"Bearer {admin_token}"})
            t0 = time.perf_counter()
            train = admin.post(f"/api/projects/{train_pid}/training",
                               json={"epochs": 1, "slices_per_epoch": 16, "batch_size": 4,
                                     "patch": 96, "val_slices_per_case": 2})
            samples.append(("train-submit", (time.perf_counter() - t0) * 1000,
                            train.status_code))
            threads = [threading.Thread(target=_viewer, args=(base, admin_token, sid,
                                                               samples, viewer_cpu))
                       for _ in range(args.viewers)]
            up_arr = np.random.default_rng(1).integers(-1000, 400, (8, 256, 256),
                                                       dtype=np.int16)
            up_path = settings.data_dir.parent / "upload.nii.gz"
            import nibabel as nib

            nib.save(nib.Nifti1Image(up_arr.T.copy(), np.diag([0.8, 0.8, 5, 1])), up_path)

            def upload() -> None:
                t = time.perf_counter()
                try:
                    r = admin.post("/api/projects/1/import", files=[
                        ("files", ("upload.nii.gz", up_path.read_bytes(), "application/gzip"))])
                    status = r.status_code if r.json()["results"][0]["status"] == \
                        "imported" else 598
                except httpx.HTTPError:
                    status = 599
                samples.append(("import", (time.perf_counter() - t) * 1000, status))

            threads.append(threading.Thread(target=upload))
            t_all, cpu_all = time.perf_counter(), time.process_time()
            for t in threads:
                t.start()
            run = collab.run_readers(base, sid, ai_id, tokens, args.saves, plan)
            for t in threads:
                t.join()
            wall = time.perf_counter() - t_all
            client_cpu = time.process_time() - cpu_all
            job_state = "not started"
            if train.status_code == 201:
                job_id = train.json()["job"]["id"]
                end = time.time() + 600
                while time.time() < end:
                    job_state = admin.get(f"/api/jobs/{job_id}").json()["state"]
                    if job_state in ("succeeded", "failed", "cancelled"):
                        break
                    time.sleep(1)
            admin.close()
        finally:
            # py-spy (LUNGLAB_BENCH_PYSPY) writes its profile on SIGINT; uvicorn stops on either
            server.send_signal(signal.SIGINT if os.environ.get("LUNGLAB_BENCH_PYSPY")
                               else signal.SIGTERM)
            server.wait(timeout=60)
        checks = collab.verify(settings, run["results"])
    saves = [r for rs in run["results"].values() for r in rs]
    samples += [("save", r["ms"], r["status"]) for r in saves]
    errors = [s for s in samples if s[2] >= 400]
    print(f"{db_kind}: {args.readers} readers x {args.saves} saves ({args.slices} changed "
          f"slices each, on {shape} (z, y, x)), {args.viewers} viewers, 1 import, 1 training "
          f"job; {len(samples)} requests in {wall:.1f} s ({len(samples) / wall:.1f} req/s), "
          f"errors {len(errors)}")
    print(f"{db_kind}: the benchmark's own clients used {client_cpu:.1f} s of CPU of this "
          f"machine meanwhile (viewers {sum(viewer_cpu):.1f} s, readers and the upload "
          f"{max(0.0, client_cpu - sum(viewer_cpu)):.1f} s)")
    for kind in ("save", "study", "versions", "volume", "import", "train-submit"):
        ms = [m for k, m, s in samples if k == kind and s < 400]
        if ms:
            print(f"{db_kind}:   {kind:12s} n={len(ms):3d}  {_pcts(ms)}  max {max(ms):.0f} ms")
    for part, what in (("slot", "waiting for a save slot"), ("save", "the save's own work")):
        got = sorted(r[f"server_{part}"] for r in saves if f"server_{part}" in r)
        if got:
            print(f"{db_kind}:   server side, {what}: p50 {statistics.median(got):.0f} ms, "
                  f"max {got[-1]:.0f} ms")
    print(f"{db_kind}: training job {job_state}; lost edits {checks['lost']}, corrupted "
          f"{checks['corrupted']}, unacknowledged versions {checks['unexpected']} "
          f"(goal: 0 errors, save p95 <= 500 ms, no lost edits)")
    for k, m, s in errors[:5]:
        print(f"{db_kind}:   error {k} {s} after {m:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--saves", type=int, default=2)
    parser.add_argument("--slices", type=int, default=8, help="slices changed per save")
    parser.add_argument("--synthetic", action="store_true")
    args = parser.parse_args()
    for db_kind in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        bench(db_kind, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
