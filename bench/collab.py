"""Benchmark: N readers (default 20) saving label maps concurrently through the HTTP API.

For each database (SQLite and PostgreSQL) the script starts a real server (uvicorn, one
process, in a child process), imports the real 512x512x141 series (or a synthetic volume when
../shared is absent or with ``--synthetic``), stores an AI proposal, assigns the study to every
reader and lets each reader save ``--saves`` versions in a row, all readers at once:

- ``slices`` mode (what the browser sends): each save changes ``--slices`` neighbouring axial
  slices (a lesion painted across them) on top of the reader's previous version (the first on
  the AI proposal) and sends only those slices;
- ``whole`` mode: each save sends the whole label map (an API client or a script).

It prints the p50/p95 save latency per mode and then checks every acknowledged save: the
version exists, its parent is the reader's previous save, every stored slice matches its
digest, the version digest matches its slices and its voxels equal what the reader meant.
Goals: p95 <= 500 ms, no lost or corrupted edits.

Usage: ``.venv/bin/python bench/collab.py [--db sqlite|postgres|both] [--mode slices|whole|both]
[--readers 20] [--saves 2] [--slices 8] [--pace 0] [--synthetic]``. PostgreSQL:
``LUNGLAB_BENCH_PG_URL`` (default postgresql+psycopg://postgres@127.0.0.1:5432/test), in a
private schema dropped afterwards.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np

if TYPE_CHECKING:
    from lunglab.core.settings import Settings

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


@contextmanager
def bench_settings(db_kind: str, prefix: str) -> Iterator[Settings | None]:
    """Settings for a throwaway installation in a temporary folder: SQLite there, or
    PostgreSQL in a private schema dropped afterwards; None when PostgreSQL is unreachable."""
    from lunglab.core.settings import Settings

    schema = url = None
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        if db_kind == "postgres":
            made = pg_schema_url()
            if made is None:
                yield None
                return
            url, schema = made
        settings = Settings(data_dir=Path(tmp) / "data", database_url=url)
        settings.data_dir.mkdir(parents=True)
        try:
            yield settings
        finally:
            if schema:
                from lunglab.db.session import get_engine

                get_engine(url).dispose()
                drop_schema(schema)


def prepare(settings, n_readers: int, synthetic: bool) -> tuple[int, tuple, dict[str, str], int]:  # type: ignore[no-untyped-def]
    """Migrate, import the study, store an AI proposal, create readers with API tokens and
    assign the study to all; return the study id, shape, tokens and the proposal's id."""
    from lunglab.db.migrate import upgrade_to_head
    from lunglab.db.session import session_scope
    from lunglab.io.store import store_for
    from lunglab.services.access import accounts
    from lunglab.services.ingest import importer as ingest
    from lunglab.services.access import projects

    upgrade_to_head(settings.resolved_database_url)
    store = store_for(settings)
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
        from lunglab.services.labels.labelmaps import save_version

        shape = tuple(db.get(Study, sid).shape)
        ai_id = save_version(db, store, None, sid, ai_proposal(shape), base_version_id=None,
                             kind="ai", model_name="bench").id
    return sid, shape, tokens, ai_id


def _synthetic_study(db, store, settings, project) -> int:  # type: ignore[no-untyped-def]
    from lunglab.domain.volume import CTVolume
    from lunglab.io.results import ParsedSeries
    from lunglab.services.ingest.importer import register_series

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
    profile = os.environ.get("LUNGLAB_BENCH_PYSPY")  # e.g. /tmp/collab.txt: py-spy's profile
    pyspy_args = os.environ.get("LUNGLAB_BENCH_PYSPY_ARGS", "").split()
    prefix = (["py-spy", "record", "-f", "raw", "-r", "200", *pyspy_args, "-o", profile, "--"]
              if profile else [])
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "uvicorn", "lunglab.api.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--workers", os.environ.get("LUNGLAB_BENCH_WORKERS", "1")],
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


def ai_proposal(shape: tuple[int, int, int]) -> np.ndarray:
    """What the AI proposed: two lungs and one ground-glass patch."""
    labels = reader_labels(shape, 999, 0)
    labels[labels == 3] = 2
    return labels


def plan_saves(shape: tuple, readers: list[str], saves: int, mode: str, k: int,
               ai: np.ndarray) -> dict:
    """Per reader and save: the request body and form, and the SHA-256 of the whole map the
    reader means to store (computed here, before any request)."""
    plan = {}
    z, y, x = shape
    for i, name in enumerate(readers):
        current = ai.copy()
        rng = np.random.default_rng(7 + i)
        for j in range(saves):
            if mode == "whole":
                current = reader_labels(shape, i, j)
                body = gzip.compress(current.tobytes(), 1)
                form = {"format": "raw"}
            else:  # a lesion painted over k neighbouring slices
                z0 = int(rng.integers(z // 8, max(z // 8 + 1, z - z // 8 - k)))
                zs = list(range(z0, min(z, z0 + k)))
                cy, cx = int(rng.integers(y // 4, 3 * y // 4)), int(rng.integers(x // 8, x // 2))
                r = int(rng.integers(6, max(7, y // 12)))
                yy, xx = np.ogrid[:y, :x]
                disk = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
                for zz in zs:
                    current[zz][disk & (current[zz] > 0)] = 2 + (zz % 2)
                body = gzip.compress(current[zs].tobytes(), 1)
                form = {"format": "slices", "slices": ",".join(map(str, zs))}
            plan[(name, j)] = (body, form, hashlib.sha256(current.tobytes()).hexdigest())
    return plan


def multipart(fields: dict[str, str], body: bytes) -> tuple[bytes, str]:
    """A multipart/form-data request body with the form fields and the file, built once
    before the timed run (so the benchmark's own clients cost the machine little)."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             .encode() for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="labels.raw.gz"\r\nContent-Type: application/gzip\r\n\r\n'.encode()
                 + body + f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def run_readers(base: str, sid: int, ai_id: int, tokens: dict[str, str], saves: int,
                plan: dict, pace: float = 0.0) -> dict:
    """Every reader saves ``saves`` versions in a row; all readers start together (a burst),
    or, with ``pace`` seconds, each reader saves once per ``pace`` from a random offset.

    Each reader is a thread with one keep-alive connection (``http.client``, the lightest
    client at hand: on this machine the clients share the CPU with the server).
    """
    import http.client
    import json
    from urllib.parse import urlsplit

    host = urlsplit(base)
    results: dict[str, list[dict]] = {name: [] for name in tokens}
    barrier = threading.Barrier(len(tokens))

    def reader(name: str) -> None:
        rng = random.Random(name)
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=300)
        try:
            base_id = ai_id
            # the reader opens the study (its version list) before editing, as the browser
            # does; the server's first request on a route also builds FastAPI's routing state
            conn.request("GET", f"/api/studies/{sid}/versions",
                         headers={"Authorization": f"Bearer {tokens[name]}"})
            conn.getresponse().read()
            barrier.wait()
            start = time.perf_counter() + (rng.uniform(0, pace) if pace else 0.0)
            for j in range(saves):
                if pace:
                    time.sleep(max(0.0, start + j * pace - time.perf_counter()))
                body, form, sha = plan[(name, j)]
                payload, ctype = multipart({**form, "base_version_id": str(base_id),
                                            "message": f"{name} save {j}"}, body)
                t0 = time.perf_counter()
                conn.request("POST", f"/api/studies/{sid}/versions", body=payload,
                             headers={"Authorization": f"Bearer {tokens[name]}",
                                      "Content-Type": ctype})
                r = conn.getresponse()
                text = r.read()
                ms = (time.perf_counter() - t0) * 1000
                row = {"save": j, "status": r.status, "ms": ms, "base": base_id,
                       "sha": sha, "bytes": len(body)}
                for part in (r.getheader("server-timing") or "").split(","):
                    metric, _, dur = part.strip().partition(";dur=")
                    if dur:
                        row[f"server_{metric}"] = float(dur)
                if r.status == 201:
                    row["version_id"] = json.loads(text)["id"]
                    base_id = row["version_id"]
                else:
                    row["error"] = text[:200].decode(errors="replace")
                results[name].append(row)
        finally:
            conn.close()

    threads = [threading.Thread(target=reader, args=(n,)) for n in tokens]
    t0, cpu0 = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"results": results, "wall_s": time.perf_counter() - t0,
            "client_cpu_s": time.process_time() - cpu0}


def verify(settings, results: dict[str, list[dict]]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Check each acknowledged save against the database and the store."""
    from sqlalchemy import func, select

    from lunglab.db.models import LabelMapVersion
    from lunglab.db.session import session_scope
    from lunglab.io.store import store_for
    from lunglab.services.ingest.integrity_job import check_slices
    from lunglab.services.labels.labelmaps import read_labels

    store = store_for(settings)
    lost = corrupted = 0
    seen: set[tuple[int, str]] = set()
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
                arr = read_labels(store, v)
                if (check_slices(db, v.study_id, v.manifest, v.checksum, seen) is not None or
                        hashlib.sha256(np.ascontiguousarray(arr, np.uint8).tobytes()).hexdigest()
                        != row["sha"]):
                    corrupted += 1
    acknowledged = sum(r["status"] == 201 for rows in results.values() for r in rows)
    return {"lost": lost, "corrupted": corrupted, "unexpected": stored - acknowledged}


def bench(db_kind: str, mode: str, args: argparse.Namespace) -> None:
    with bench_settings(db_kind, "lunglab-bench-collab-") as settings:
        if settings is None:
            return
        sid, shape, tokens, ai_id = prepare(settings, args.readers, args.synthetic)
        plan = plan_saves(shape, list(tokens), args.saves, mode, args.slices, ai_proposal(shape))
        port = free_port()
        server = start_server(settings, port)
        try:
            run = run_readers(f"http://127.0.0.1:{port}", sid, ai_id, tokens, args.saves,
                              plan, args.pace)
        finally:
            # py-spy writes its profile on SIGINT; uvicorn stops on either
            server.send_signal(signal.SIGINT if os.environ.get("LUNGLAB_BENCH_PYSPY")
                               else signal.SIGTERM)
            server.wait(timeout=60)
        rows = [r for rs in run["results"].values() for r in rs]
        ok = [r["ms"] for r in rows if r["status"] == 201]
        refused = [r for r in rows if r["status"] != 201]
        checks = verify(settings, run["results"])
    if not ok:
        print(f"{db_kind}/{mode}: no save succeeded; first refusals: {refused[:3]}")
        return
    q = (statistics.quantiles(ok, n=20, method="inclusive") if len(ok) >= 2
         else [float("nan")] * 19)
    what = (f"{args.slices} changed slices" if mode == "slices" else "the whole map")
    if args.pace:
        what += f", one save per reader every {args.pace:g} s"
    body = statistics.median(r["bytes"] for r in rows) / 1024
    print(f"{db_kind}/{mode}: {args.readers} readers x {args.saves} saves on {shape} (z, y, x), "
          f"each sending {what} (median body {body:.0f} KiB): {len(ok)} saved, "
          f"{len(refused)} refused, wall {run['wall_s']:.1f} s (the benchmark's own HTTP "
          f"clients used {run['client_cpu_s']:.1f} s of CPU of this machine meanwhile)")
    print(f"{db_kind}/{mode}: save latency p50 {statistics.median(ok):.0f} ms, p95 {q[18]:.0f} "
          f"ms, max {max(ok):.0f} ms (goal p95 <= 500 ms)")
    for part in ("slot", "save"):
        got = sorted(r[f"server_{part}"] for r in rows if f"server_{part}" in r)
        if got:
            print(f"{db_kind}/{mode}: server side, {part} p50 {statistics.median(got):.0f} ms, "
                  f"max {got[-1]:.0f} ms" + (" (waiting for a save slot)" if part == "slot"
                                             else " (the save's own work)"))
    print(f"{db_kind}/{mode}: lost edits {checks['lost']}, corrupted edits "
          f"{checks['corrupted']} (of {len(ok)} acknowledged saves); versions stored but not "
          f"acknowledged {checks['unexpected']}")
    for r in refused[:5]:
        print(f"{db_kind}/{mode}:   refused {r['status']}: {r.get('error', '')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--saves", type=int, default=2)
    parser.add_argument("--mode", choices=("slices", "whole", "both"), default="both",
                        help="send the changed slices (as the browser does) or whole maps")
    parser.add_argument("--slices", type=int, default=8, help="slices changed per save")
    parser.add_argument("--pace", type=float, default=0.0,
                        help="seconds between a reader's saves (0: all readers at once, "
                             "each save right after the previous)")
    parser.add_argument("--synthetic", action="store_true",
                        help="a synthetic 512x512x141 volume instead of the real series")
    args = parser.parse_args()
    if not args.synthetic and not SERIES.is_dir():
        print(f"real series not found at {SERIES}; using a synthetic 512x512x141 volume")
    for kind in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        for mode in ("slices", "whole") if args.mode == "both" else (args.mode,):
            bench(kind, mode, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
