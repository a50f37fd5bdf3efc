"""Benchmark: N readers (default 20) saving label maps concurrently through the HTTP API.

For each database (SQLite and PostgreSQL) the script starts a real server (uvicorn, one
process, in a child process), imports the real 512x512x141 series (or a synthetic volume when
../shared is absent or with ``--synthetic``), assigns the study to every reader and lets each
reader save ``--saves`` label maps in a row, each on top of their previous one, all readers at
once. It prints the p50/p95 save latency and then checks every acknowledged save: the version
exists, its parent is the reader's previous save, its stored file matches its checksum and its
voxels equal what the reader sent. Goals: p95 <= 500 ms, no lost or corrupted edits.

Usage: ``.venv/bin/python bench/collab.py [--db sqlite|postgres|both] [--readers 20]
[--saves 2] [--synthetic]``. PostgreSQL: ``LUNGLAB_BENCH_PG_URL`` (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), in a private schema dropped afterwards.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SERIES = Path(os.environ.get("LUNGLAB_SHARED_DIR", REPO / ".." / "shared")) / "data" / \
    "chest-ct-dicom-series" / "series"
PG_URL = os.environ.get("LUNGLAB_BENCH_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def reader_labels(shape: tuple[int, int, int], reader: int, save: int) -> np.ndarray:
    """A distinct, deterministic label map per reader and save: lungs, GGO and consolidation."""
    z, y, x = shape
    labels = np.zeros(shape, np.uint8)
    labels[z // 8: z - z // 8, y // 4: 3 * y // 4, x // 8: x // 2 - 4] = 1
    labels[z // 8: z - z // 8, y // 4: 3 * y // 4, x // 2 + 4: x - x // 8] = 1
    rng = np.random.default_rng(1000 * reader + save)
    for _ in range(3):
        cz, cy, cx = (int(rng.integers(s // 4, 3 * s // 4)) for s in shape)
        r = int(rng.integers(3, max(4, y // 16)))
        labels[max(0, cz - r // 4): cz + r // 4 + 1, cy - r: cy + r, cx - r: cx + r] = 2
        labels[cz, cy - r // 2: cy + r // 2, cx - r // 2: cx + r // 2] = 3
    return labels


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_schema_url() -> tuple[str, str] | None:
    import psycopg

    raw = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        conn = psycopg.connect(raw, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        print(f"postgres: SKIPPED ({str(exc).strip()[:120]})")
        return None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", schema


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def prepare(settings, n_readers: int, synthetic: bool) -> tuple[int, tuple, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Migrate, import the study, create readers with API tokens, assign the study to all."""
    from lunglab.db.migrate import upgrade_to_head
    from lunglab.db.session import session_scope
    from lunglab.io.store import make_store
    from lunglab.services import accounts, ingest, projects

    upgrade_to_head(settings.resolved_database_url)
    store = make_store("local", settings.data_dir / "store")
    tokens = {}
    with session_scope(settings.resolved_database_url) as db:
        admin = accounts.create_user(db, "admin", "bench-password-1", is_admin=True)
        project = projects.create_project(db, "bench", actor=admin)
        if synthetic or not SERIES.is_dir():
            sid = _synthetic_study(db, store, settings, project)
        else:
            out = ingest.import_paths(db, store, settings, project, admin, [SERIES])
            assert [o.status for o in out] == ["imported"], out
            sid = int(out[0].study_id)
        for i in range(n_readers):
            name = f"reader{i:02d}"
            user = accounts.create_user(db, name, "bench-password-1")
            projects.add_member(db, admin, project.id, name, "annotator")
            projects.assign(db, admin, sid, name)
            tokens[name] = accounts.create_api_token(db, user, "bench")
        from lunglab.db.models import Study

        shape = tuple(db.get(Study, sid).shape)
    return sid, shape, tokens


def _synthetic_study(db, store, settings, project) -> int:  # type: ignore[no-untyped-def]
    from lunglab.domain.volume import CTVolume
    from lunglab.io.results import ParsedSeries
    from lunglab.services.ingest import register_series

    arr = np.full((141, 512, 512), -1000, np.int16)
    arr[:, 60:450, 40:470] = 40
    vol = CTVolume(arr, (0.7, 0.7, 2.5), (0.0, 0.0, 0.0))
    series = ParsedSeries(volume=vol, study_uid_pseudo="2.25.9.0", series_uid_pseudo="2.25.9",
                          patient_key="pk-bench", name="synthetic", source_names=[],
                          meta={"Modality": "CT"}, slice_count=141, kind="nifti")
    return int(register_series(db, store, project, None, series).study_id)


def start_server(settings, port: int) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {**os.environ, "LUNGLAB_DATA_DIR": str(settings.data_dir),
           "LUNGLAB_DATABASE_URL": settings.resolved_database_url, "LUNGLAB_ENV_FILE": "/dev/null"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "lunglab.api.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=settings.data_dir)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def run_readers(base: str, sid: int, shape: tuple, tokens: dict[str, str], saves: int) -> dict:
    """Every reader saves ``saves`` versions in a row; all readers start together."""
    payloads = {(name, j): reader_labels(shape, i, j)
                for i, name in enumerate(tokens) for j in range(saves)}
    bodies = {k: gzip.compress(v.tobytes(), 1) for k, v in payloads.items()}
    expected = {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in payloads.items()}
    del payloads
    results: dict[str, list[dict]] = {name: [] for name in tokens}
    barrier = threading.Barrier(len(tokens))

    def reader(name: str) -> None:
        headers = {"Authorization": f"Bearer {tokens[name]}"}
        with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
            base_id = None
            barrier.wait()
            for j in range(saves):
                t0 = time.perf_counter()
                r = client.post(f"/api/studies/{sid}/versions",
                                files={"file": ("labels.raw.gz", bodies[(name, j)])},
                                data={"base_version_id": "" if base_id is None else str(base_id),
                                      "format": "raw", "message": f"{name} save {j}"})
                ms = (time.perf_counter() - t0) * 1000
                row = {"save": j, "status": r.status_code, "ms": ms, "base": base_id,
                       "sha": expected[(name, j)]}
                if r.status_code == 201:
                    row["version_id"] = r.json()["id"]
                    base_id = row["version_id"]
                else:
                    row["error"] = r.text[:200]
                results[name].append(row)

    threads = [threading.Thread(target=reader, args=(n,)) for n in tokens]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"results": results, "wall_s": time.perf_counter() - t0}


def verify(settings, results: dict[str, list[dict]]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Check each acknowledged save against the database and the store."""
    from lunglab.db.models import LabelMapVersion
    from lunglab.db.session import session_scope
    from lunglab.io.store import make_store
    from lunglab.services.labelmaps import read_labels

    from sqlalchemy import func, select

    store = make_store("local", settings.data_dir / "store")
    lost = corrupted = 0
    with session_scope(settings.resolved_database_url) as db:
        stored = db.scalar(select(func.count()).select_from(LabelMapVersion)
                           .where(LabelMapVersion.kind == "human")) or 0
        for rows in results.values():
            for row in rows:
                if row["status"] != 201:
                    continue
                v = db.get(LabelMapVersion, row["version_id"])
                if v is None or v.parent_id != row["base"]:
                    lost += 1
                    continue
                data = store.local_path(v.file_key).read_bytes()
                arr = read_labels(store, v)
                if (hashlib.sha256(data).hexdigest() != v.checksum or
                        hashlib.sha256(np.ascontiguousarray(arr, np.uint8).tobytes()).hexdigest()
                        != row["sha"]):
                    corrupted += 1
    acknowledged = sum(r["status"] == 201 for rows in results.values() for r in rows)
    return {"lost": lost, "corrupted": corrupted, "unexpected": stored - acknowledged}


def bench(db_kind: str, args: argparse.Namespace) -> None:
    from lunglab.core.settings import Settings

    schema = None
    with tempfile.TemporaryDirectory(prefix="lunglab-bench-collab-") as tmp:
        url = None
        if db_kind == "postgres":
            made = pg_schema_url()
            if made is None:
                return
            url, schema = made
        settings = Settings(data_dir=Path(tmp) / "data", database_url=url)
        settings.data_dir.mkdir(parents=True)
        try:
            sid, shape, tokens = prepare(settings, args.readers, args.synthetic)
            port = free_port()
            server = start_server(settings, port)
            try:
                run = run_readers(f"http://127.0.0.1:{port}", sid, shape, tokens, args.saves)
            finally:
                server.terminate()
                server.wait(timeout=30)
            rows = [r for rs in run["results"].values() for r in rs]
            ok = [r["ms"] for r in rows if r["status"] == 201]
            refused = [r for r in rows if r["status"] != 201]
            checks = verify(settings, run["results"])
        finally:
            if schema:
                from lunglab.db.session import get_engine

                get_engine(url).dispose()
                drop_schema(schema)
    q = (statistics.quantiles(ok, n=20, method="inclusive") if len(ok) >= 2
         else [float("nan")] * 19)
    print(f"{db_kind}: {args.readers} readers x {args.saves} saves on {shape} (z, y, x): "
          f"{len(ok)} saved, {len(refused)} refused, wall {run['wall_s']:.1f} s")
    print(f"{db_kind}: save latency p50 {statistics.median(ok):.0f} ms, p95 {q[18]:.0f} ms, "
          f"max {max(ok):.0f} ms (goal p95 <= 500 ms)")
    print(f"{db_kind}: lost edits {checks['lost']}, corrupted edits {checks['corrupted']} "
          f"(of {len(ok)} acknowledged saves); versions stored but not acknowledged "
          f"{checks['unexpected']}")
    for r in refused[:5]:
        print(f"{db_kind}:   refused {r['status']}: {r.get('error', '')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--saves", type=int, default=2)
    parser.add_argument("--synthetic", action="store_true",
                        help="a synthetic 512x512x141 volume instead of the real series")
    args = parser.parse_args()
    if not args.synthetic and not SERIES.is_dir():
        print(f"real series not found at {SERIES}; using a synthetic 512x512x141 volume")
    for kind in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        bench(kind, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
