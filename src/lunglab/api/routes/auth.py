"""Log-in, log-out, current user, API tokens."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from lunglab.api.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentUser, SessionDep, SettingsDep
from lunglab.api.schemas.resources import LoginIn, TokenCreate, TokenOut, UserPublic
from lunglab.services.access import accounts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=UserPublic)
def login(body: LoginIn, request: Request, response: Response, db: SessionDep,
          settings: SettingsDep) -> UserPublic:
    client = request.client.host if request.client else "unknown"
    try:
        res = accounts.login(db, body.username, body.password, client,
                             session_hours=settings.session_hours,
                             max_failures=settings.login_max_failures,
                             window_seconds=settings.login_window_seconds)
    except Exception:
        db.commit()  # keep the failure record that rate limiting counts
        raise
    max_age = int(settings.session_hours * 3600)
    response.set_cookie(SESSION_COOKIE, res.session_token, max_age=max_age, httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path="/")
    response.set_cookie(CSRF_COOKIE, res.csrf_token, max_age=max_age, httponly=False,
                        samesite="strict", secure=settings.cookie_secure, path="/")
    return UserPublic.model_validate(res.user)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, db: SessionDep, user: CurrentUser,
           everywhere: bool = False) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.logout(db, token, everywhere=everywhere)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(body: TokenCreate, db: SessionDep, user: CurrentUser) -> TokenOut:
    return TokenOut(token=accounts.create_api_token(db, user, body.name))
