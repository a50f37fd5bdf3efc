"""Request threads never outnumber database connections.

Plain ``def`` routes and their dependencies run in AnyIO's thread pool, and each request
holds a pooled connection until its session is closed, itself a thread-pool call. If the
thread pool were larger than the connection pool, a crowd of requests could hold every thread
while waiting for a connection, and every request would time out (``bench/load.py`` once
showed exactly that: 30 s stalls and 500s under 50 viewers).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from anyio import to_thread
from fastapi.testclient import TestClient

from lunglab.db.session import get_engine


def test_thread_pool_fits_the_connection_pool(app) -> None:  # type: ignore[no-untyped-def]
    engine = get_engine(app.state.settings.resolved_database_url)
    capacity = engine.pool.size() + engine.pool._max_overflow  # type: ignore[attr-defined]
    with TestClient(app) as client:
        tokens = client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens)
    assert 8 <= tokens <= capacity, (tokens, capacity)


def test_a_crowd_of_requests_is_served(admin_api) -> None:  # type: ignore[no-untyped-def]
    """More simultaneous requests than request threads: all answered, none stalls."""
    pid = admin_api.post("/api/projects", json={"name": "crowd"}).json()["id"]
    with ThreadPoolExecutor(max_workers=90) as pool:
        codes = list(pool.map(lambda _: admin_api.get(f"/api/projects/{pid}").status_code,
                              range(180)))
    assert codes == [200] * 180
