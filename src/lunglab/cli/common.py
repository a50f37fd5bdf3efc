"""What every ``lunglab`` command shares: the console, settings, a migrated database, errors."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lunglab.core.settings import Settings

console = Console(stderr=True)


def settings() -> Settings:
    """The settings of this process (environment, ``lunglab.env``)."""
    from lunglab.core.settings import get_settings

    return get_settings()


def ready_settings() -> Settings:
    """The settings, with the data folder created and the database schema up to date."""
    from lunglab.db.migrate import upgrade_to_head

    s = settings()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(s.resolved_database_url)
    return s


def db_session() -> AbstractContextManager[Session]:
    """A session on the migrated database, committed when the block ends without error."""
    from lunglab.db.session import session_scope

    return session_scope(ready_settings().resolved_database_url)


def fail(exc: Exception) -> typer.Exit:
    """Print ``exc`` as an error line; the caller raises the returned exit (status 1)."""
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)
