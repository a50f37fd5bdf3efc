"""The ``lunglab`` command line, run as a user would (subprocess, environment variables)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.conftest import need_real_series
from tests.dicom_factory import make_ct_series

CLI = [sys.executable, "-m", "lunglab.cli.main"]


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, LUNGLAB_DATA_DIR=str(tmp_path / "data"), NO_COLOR="1",
                COLUMNS="200")


def _run(args, env, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return subprocess.run(CLI + args, env=env, input=stdin, capture_output=True, text=True,
                          timeout=300)


def test_help_lists_every_command(tmp_path):
    out = _run(["--help"], _env(tmp_path)).stdout
    for cmd in ("serve", "run", "users", "import", "datasets", "worker", "migrate", "segment"):
        assert cmd in out, cmd
    assert "research use only" in out.lower()


def test_users_add_reads_password_from_stdin(tmp_path):
    env = _env(tmp_path)
    r = _run(["users", "add", "alice", "--admin"], env, stdin="a-long-password-1\n")
    assert r.returncode == 0, r.stderr
    assert "a-long-password-1" not in r.stdout + r.stderr
    r = _run(["users", "add", "alice"], env, stdin="a-long-password-1\n")
    assert r.returncode == 1 and "already exists" in r.stderr
    r = _run(["users", "add", "bob"], env, stdin="short\n")
    assert r.returncode == 1 and "password" in r.stderr
    listed = _run(["users", "list"], env).stdout
    assert "alice" in listed and "bob" not in listed


def test_import_reports_and_exits_nonzero_on_refusal(tmp_path):
    env = _env(tmp_path)
    make_ct_series(tmp_path / "ok", shape=(3, 12, 12))
    (tmp_path / "bad.dcm").write_bytes(b"garbage")
    r = _run(["import", str(tmp_path / "ok"), "--project", "P"], env)
    assert r.returncode == 0, r.stderr
    assert "imported" in r.stdout
    r = _run(["import", str(tmp_path / "ok"), str(tmp_path / "bad.dcm"), "--project", "P"], env)
    assert r.returncode == 1
    assert "duplicate" in r.stdout and "refused" in r.stdout and "bad.dcm" in r.stdout


def test_import_of_nothing_exits_nonzero_with_a_reason(tmp_path):
    import zipfile

    env = _env(tmp_path)
    zipfile.ZipFile(tmp_path / "empty.zip", "w").close()
    r = _run(["import", str(tmp_path / "empty.zip"), "--project", "P"], env)
    assert r.returncode == 1, r.stdout
    assert "no CT series found" in r.stdout + r.stderr
    make_ct_series(tmp_path / "ok", shape=(3, 12, 12))
    assert _run(["import", str(tmp_path / "ok"), "--project", "P"], env).returncode == 0
    again = _run(["import", str(tmp_path / "ok"), "--project", "P"], env)
    assert again.returncode == 1 and "nothing was imported" in again.stdout + again.stderr


def test_import_real_series_cli(tmp_path):
    series = need_real_series()
    r = _run(["import", str(series), "--project", "Real"], _env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "141" in r.stdout and "imported" in r.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_creates_admin_prints_password_and_serves(tmp_path):
    env = _env(tmp_path)
    port = _free_port()
    proc = subprocess.Popen([*CLI, "run", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        lines: list[str] = []
        deadline = time.time() + 120
        password = None
        while time.time() < deadline and password is None:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            if "one-time" in line and "password" in line:
                password = line.split("password")[-1].split()[0]
        assert password, "".join(lines)
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
            r = c.post("/api/auth/login", json={"username": "admin", "password": password})
            assert r.status_code == 200, r.text
            names = [p["name"] for p in c.get("/api/projects").json()["data"]]
            assert "Demo" in names
            assert c.get("/docs").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # a second start does not create another admin or print a password
    out = _run(["users", "list"], env).stdout
    assert out.count("admin") >= 1


@pytest.mark.parametrize("backend", ["postgres"])
def test_database_url_setting_points_at_postgres(tmp_path, backend, pg_base_url):
    import uuid

    import psycopg

    schema = f"cli_{uuid.uuid4().hex[:10]}"
    raw = pg_base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = f"{pg_base_url}?options=-csearch_path%3D{schema}"
        env = dict(_env(tmp_path), LUNGLAB_DATABASE_URL=url)
        assert _run(["users", "add", "pg-user"], env, stdin="a-long-password-1\n").returncode == 0
        with psycopg.connect(raw) as conn:
            names = conn.execute(f'SELECT username FROM "{schema}".users').fetchall()
        assert names == [("pg-user",)]
        assert not (tmp_path / "data" / "lunglab.db").exists()
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
