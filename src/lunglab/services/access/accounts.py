"""Users, passwords (argon2), browser sessions, API tokens and log-in rate limiting."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lunglab.db.base import utcnow
from lunglab.db.models import ApiToken, AuthSession, LoginFailure, User
from lunglab.services.access import audit
from lunglab.services.errors import Conflict, InvalidInput, RateLimited, Unauthorized

_hasher = PasswordHasher()
TOKEN_USE_GRANULARITY = timedelta(minutes=1)  # how precisely an API token's last use is kept
MIN_PASSWORD_LENGTH = 10


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def check_password_policy(password: str) -> None:
    """At least 10 characters, not all one character class of digits."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if password.isdigit() or len(set(password)) < 4:
        raise InvalidInput("password is too simple")


def create_user(db: Session, username: str, password: str, *, is_admin: bool = False,
                actor: User | None = None) -> User:
    """Create a user with an argon2 password hash.

    Raises:
        InvalidInput: bad name or weak password.
        Conflict: the name is taken.
    """
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("-", "").replace(
        "_", "").replace(".", "").isalnum():
        raise InvalidInput("user name must be 1-64 letters, digits, '.', '-' or '_'")
    check_password_policy(password)
    if db.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, password_hash=_hasher.hash(password), is_admin=is_admin)
    db.add(user)
    db.flush()
    audit.record(db, actor, "user.create", "user", user.id, username=username, is_admin=is_admin)
    return user


def generate_password() -> str:
    """A random one-time password."""
    return secrets.token_urlsafe(12)


@dataclass
class LoginResult:
    user: User
    session_token: str
    csrf_token: str


def login(db: Session, username: str, password: str, client: str, *, session_hours: float,
          max_failures: int, window_seconds: int) -> LoginResult:
    """Check credentials and open a session.

    Raises:
        RateLimited: too many recent failures for this user name or client.
        Unauthorized: bad credentials.
    """
    since = utcnow() - timedelta(seconds=window_seconds)
    client_hash = _sha(client)
    recent = db.scalar(
        select(func.count()).select_from(LoginFailure).where(
            LoginFailure.at >= since,
            (LoginFailure.username == username) | (LoginFailure.client_hash == client_hash),
        )
    ) or 0
    if recent >= max_failures:
        raise RateLimited("too many failed log-ins; try again in a few minutes")
    user = db.scalar(select(User).where(User.username == username, User.is_active.is_(True)))
    ok = False
    if user is not None:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password)  # same work whether or not the user exists
    if not ok or user is None:
        db.add(LoginFailure(username=username[:64], client_hash=client_hash))
        audit.record(db, None, "auth.login_failed", "user", None, username=username[:64])
        raise Unauthorized("wrong user name or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    db.add(AuthSession(token_hash=_sha(token), csrf_token=csrf, user_id=user.id,
                       expires_at=utcnow() + timedelta(hours=session_hours)))
    db.execute(delete(LoginFailure).where(LoginFailure.username == username))
    audit.record(db, user, "auth.login", "user", user.id)
    return LoginResult(user, token, csrf)


def session_user(db: Session, token: str) -> tuple[User, AuthSession]:
    """The user of a live session cookie. Raises Unauthorized when missing or expired."""
    row = db.execute(select(AuthSession, User).join(User, User.id == AuthSession.user_id)
                     .where(AuthSession.token_hash == _sha(token))).first()
    if row is None or _aware(row[0].expires_at) < utcnow():
        raise Unauthorized("session expired; log in again")
    s, user = row
    if not user.is_active:
        raise Unauthorized("account disabled")
    return user, s


def _aware(ts):  # type: ignore[no-untyped-def]
    from datetime import UTC

    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def logout(db: Session, token: str, *, everywhere: bool = False) -> None:
    """Close this session (or every session of its user)."""
    s = db.scalar(select(AuthSession).where(AuthSession.token_hash == _sha(token)))
    if s is None:
        return
    if everywhere:
        db.execute(delete(AuthSession).where(AuthSession.user_id == s.user_id))
    else:
        db.delete(s)
    audit.record(db, db.get(User, s.user_id), "auth.logout", "user", s.user_id,
                 everywhere=everywhere)


def create_api_token(db: Session, user: User, name: str) -> str:
    """Create a bearer token; the clear value is returned once and only its hash is kept."""
    token = "llt_" + secrets.token_urlsafe(32)
    db.add(ApiToken(token_hash=_sha(token), name=name[:100], user_id=user.id))
    audit.record(db, user, "auth.token_create", "user", user.id, name=name[:100])
    return token


def token_user(db: Session, token: str) -> User:
    """The user of a bearer token. Raises Unauthorized."""
    row = db.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                     .where(ApiToken.token_hash == _sha(token))).first()
    if row is None:
        raise Unauthorized("invalid API token")
    t, user = row
    if not user.is_active:
        raise Unauthorized("account disabled")
    now = utcnow()
    # to the minute: a write per request would make every API call a database write
    if t.last_used_at is None or now - _aware(t.last_used_at) > TOKEN_USE_GRANULARITY:
        t.last_used_at = now
    return user


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.id)).all())


def get_user_by_name(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))
