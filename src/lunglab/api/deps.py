"""FastAPI dependencies: settings, database session, store, current user, job runner."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from lunglab.core.settings import Settings
from lunglab.db.models import User
from lunglab.db.session import get_sessionmaker
from lunglab.io.store import VolumeStore
from lunglab.services.jobs.runners import JobRunner
from lunglab.services.access import accounts
from lunglab.services.errors import Forbidden, Unauthorized

SESSION_COOKIE = "lunglab_session"
CSRF_COOKIE = "lunglab_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_db(request: Request) -> Iterator[Session]:
    db = get_sessionmaker(request.app.state.settings.resolved_database_url)()
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


SessionDep = Annotated[Session, Depends(get_db, scope="function")]  # commit before responding


def get_store(request: Request) -> VolumeStore:
    return request.app.state.store


StoreDep = Annotated[VolumeStore, Depends(get_store)]


def get_runner(request: Request) -> JobRunner:
    """The server's job runner (local process pool or Celery)."""
    runner: JobRunner = request.app.state.runner
    return runner


RunnerDep = Annotated[JobRunner, Depends(get_runner)]


def current_user(request: Request, db: SessionDep) -> User:
    """The caller, from a bearer token or the session cookie (with CSRF check on writes)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = accounts.token_user(db, auth[7:].strip())
        if db.dirty:  # the token's last use, written at most once a minute
            db.commit()
        return user
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("log in first")
    user, session = accounts.session_user(db, token)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if not sent or sent != session.csrf_token:
            raise Forbidden("missing or wrong CSRF token (send the X-CSRF-Token header)")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("administrators only")
    return user


AdminUser = Annotated[User, Depends(admin_user)]
