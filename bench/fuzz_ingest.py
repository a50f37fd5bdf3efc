"""Fuzz the DICOM ingest through the HTTP API with mutated files (hypothesis on bytes).

A synthetic CT series is written with ``tests/dicom_factory.py``; each example mutates one
slice (bit flips, truncation, inserted junk, header-length corruption) and uploads the series
to a running app (FastAPI TestClient, SQLite in a temporary folder). Every answer must be
a 200 with per-input results or a clear 4xx, never a 5xx, and the server must keep serving.
Prints how many inputs were tried, the answers seen, and the crash count.

Usage: ``.venv/bin/python bench/fuzz_ingest.py [--examples 300] [--seed 0]``.
"""
from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from lunglab.api.app import create_app
    from lunglab.core.settings import Settings
    from lunglab.db.session import session_scope
    from lunglab.services.access import accounts
    from tests.dicom_factory import make_ct_series

    tmp = Path(tempfile.mkdtemp(prefix="lunglab-fuzz-"))
    make_ct_series(tmp / "series", shape=(4, 32, 32))
    slices = [p.read_bytes() for p in sorted((tmp / "series").glob("*"))]
    app = create_app(Settings(data_dir=tmp / "data"), start_runner=False,
                     web_dist=Path("/nonexistent"))
    with session_scope(app.state.settings.resolved_database_url) as db:
        accounts.create_user(db, "fuzz", "fuzz-password-1", is_admin=True)
    client = TestClient(app, raise_server_exceptions=False)
    client.post("/api/auth/login", json={"username": "fuzz", "password": "fuzz-password-1"})
    headers = {"X-CSRF-Token": client.cookies["lunglab_csrf"]}
    pid = client.post("/api/projects", json={"name": "fuzz"}, headers=headers).json()["id"]
    answers: collections.Counter[str] = collections.Counter()
    crashes: list[str] = []

    mutation = st.one_of(
        st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 7)),
        st.tuples(st.just("truncate"), st.integers(0, 2_000), st.just(0)),
        st.tuples(st.just("insert"), st.integers(0, 2_000), st.binary(min_size=1, max_size=64)),
        st.tuples(st.just("length"), st.integers(132, 600), st.integers(0, 255)),
    )

    @seed(args.seed)
    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(which=st.integers(0, len(slices) - 1), mutations=st.lists(mutation, min_size=1,
                                                                      max_size=4))
    def one(which: int, mutations: list[tuple]) -> None:
        data = bytearray(slices[which])
        for kind, pos, arg in mutations:
            pos = min(pos, max(0, len(data) - 1))
            if kind == "flip" and data:
                data[pos] ^= 1 << int(arg)
            elif kind == "truncate":
                del data[pos:]
            elif kind == "insert":
                data[pos:pos] = arg
            elif kind == "length" and pos < len(data):
                data[pos] = int(arg)
        files = [("files", (f"s{i}.dcm", bytes(data) if i == which else s, "application/dicom"))
                 for i, s in enumerate(slices)]
        r = client.post(f"/api/projects/{pid}/import", files=files, headers=headers)
        if r.status_code >= 500:
            crashes.append(f"{r.status_code}: {r.text[:200]}")
            answers["5xx"] += 1
            return
        if r.status_code == 200:
            for res in r.json()["results"]:
                answers[res["status"]] += 1
        else:
            answers[str(r.status_code)] += 1

    t0 = time.perf_counter()
    one()
    alive = client.get("/api/health").status_code == 200
    print(f"tried {args.examples} mutated uploads ({len(slices)} slices each) in "
          f"{time.perf_counter() - t0:.1f} s")
    print(f"answers: {dict(answers)}")
    print(f"server errors (5xx): {len(crashes)}; server still serving: {alive}")
    for c in crashes[:5]:
        print("  ", c)
    return 1 if crashes or not alive else 0


if __name__ == "__main__":
    sys.exit(main())
