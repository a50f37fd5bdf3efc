"""Shared fixtures: a data folder, a database (SQLite and PostgreSQL), the API client."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LUNGLAB_SHARED_DIR", REPO.parent / "shared")).resolve()
REAL_SERIES = SHARED / "data" / "chest-ct-dicom-series" / "series"
PG_URL = os.environ.get("LUNGLAB_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", action="append", default=None,
                     help="database backends for DB tests: sqlite, postgres (default: both)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames:
        backends = metafunc.config.getoption("db") or ["sqlite", "postgres"]
        metafunc.parametrize("db_backend", backends, scope="session")


def need_real_series() -> Path:
    if not REAL_SERIES.is_dir():
        pytest.skip(f"real CT series not found at {REAL_SERIES} (../shared is absent)")
    return REAL_SERIES


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    import psycopg

    raw = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        psycopg.connect(raw, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    return PG_URL


@pytest.fixture
def database_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated-on-first-use database: a SQLite file or a private PostgreSQL schema."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'lunglab.db'}"
        return
    import psycopg

    base = request.getfixturevalue("pg_base_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    yield url
    from lunglab.db.session import get_engine

    get_engine(url).dispose()
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def settings(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    from lunglab.core.settings import Settings

    return Settings(data_dir=tmp_path / "data", database_url=database_url,
                    max_upload_bytes=200 * 1024**2, login_max_failures=5)


@pytest.fixture
def app(settings):  # type: ignore[no-untyped-def]
    from lunglab.api.app import create_app

    return create_app(settings, web_dist=Path("/nonexistent"))


class Api:
    """A TestClient logged in as one user, sending the CSRF header on writes."""

    def __init__(self, client, username: str) -> None:  # type: ignore[no-untyped-def]
        self.client, self.username = client, username

    def _headers(self, kw: dict) -> dict:
        headers = dict(kw.pop("headers", {}) or {})
        csrf = self.client.cookies.get("lunglab_csrf")
        if csrf:
            headers["X-CSRF-Token"] = csrf
        return headers

    def get(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.get(url, **kw)

    def post(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.post(url, headers=self._headers(kw), **kw)

    def put(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.put(url, headers=self._headers(kw), **kw)

    def patch(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.patch(url, headers=self._headers(kw), **kw)


PASSWORD = "correct-horse-battery"


@pytest.fixture
def make_user(app):  # type: ignore[no-untyped-def]
    from lunglab.db.session import session_scope
    from lunglab.services.access import accounts

    def make(name: str, *, admin: bool = False) -> None:
        with session_scope(app.state.settings.resolved_database_url) as db:
            accounts.create_user(db, name, PASSWORD, is_admin=admin)

    return make


@pytest.fixture
def login(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    clients = []

    def do(name: str) -> Api:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        r = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return Api(client, name)

    yield do
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def admin_api(make_user, login) -> Api:  # type: ignore[no-untyped-def]
    make_user("admin", admin=True)
    return login("admin")
