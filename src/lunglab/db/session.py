"""Engine and session factory, created once per database URL."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Connections a process may hold at once. The server runs its plain ``def`` routes and
# dependencies in AnyIO's thread pool (40 threads by default), and each request holds one
# connection from its first query until its session closes, which is itself a thread-pool
# call. With fewer connections than threads, 40 requests blocked waiting for a connection hold
# every thread, the requests holding connections can never close their sessions, and all of
# them time out after 30 s (seen in ``bench/load.py`` with 50 viewers and 20 readers).
POOL_SIZE = 10
POOL_MAX_OVERFLOW = 50
THREADS_COVERED = POOL_SIZE + POOL_MAX_OVERFLOW - 10  # a margin for the runner and CLI work


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """Return a pooled engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=POOL_SIZE, max_overflow=POOL_MAX_OVERFLOW)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE,
                         max_overflow=POOL_MAX_OVERFLOW)


@lru_cache(maxsize=8)
def get_sessionmaker(url: str) -> sessionmaker[Session]:
    """Session factory bound to ``url``'s engine."""
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
