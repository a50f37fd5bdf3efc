"""Log-in, sessions, CSRF, tokens, rate limiting, role checks."""
from __future__ import annotations

from tests.conftest import PASSWORD


def test_login_sets_httponly_samesite_cookie(app, make_user):
    from fastapi.testclient import TestClient

    make_user("ann")
    with TestClient(app) as c:
        r = c.post("/api/auth/login", json={"username": "ann", "password": PASSWORD})
        assert r.status_code == 200
        cookie = r.headers.get_list("set-cookie")
        session = next(h for h in cookie if h.startswith("lunglab_session="))
        assert "HttpOnly" in session and "SameSite=lax" in session
        assert "password" not in r.text and "argon2" not in r.text
        assert c.get("/api/auth/me").json()["username"] == "ann"


def test_wrong_password_then_rate_limited(app, make_user):
    from fastapi.testclient import TestClient

    make_user("bob")
    with TestClient(app) as c:
        codes = [c.post("/api/auth/login", json={"username": "bob", "password": "nope-nope-1"})
                 .status_code for _ in range(6)]
        assert codes[:5] == [401] * 5
        assert codes[5] == 429
        # even the right password is refused while rate-limited
        r = c.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
        assert r.status_code == 429


def test_anonymous_gets_401(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        assert c.get("/api/projects").status_code == 401
        assert c.get("/api/auth/me").status_code == 401


def test_csrf_required_for_cookie_writes(admin_api):
    r = admin_api.client.post("/api/projects", json={"name": "p"})  # no CSRF header
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert admin_api.post("/api/projects", json={"name": "p"}).status_code == 201


def test_api_token_works_without_cookie(app, admin_api):
    from fastapi.testclient import TestClient

    token = admin_api.post("/api/auth/tokens", json={"name": "script"}).json()["token"]
    with TestClient(app) as c:
        r = c.post("/api/projects", json={"name": "via-token"},
                   headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201
        bad = c.get("/api/projects", headers={"Authorization": "Bearer llt_wrong"})
        assert bad.status_code == 401


def test_logout_ends_session(admin_api):
    assert admin_api.post("/api/auth/logout").status_code == 204
    assert admin_api.get("/api/projects").status_code == 401


def test_non_admin_cannot_create_users_or_projects(make_user, login):
    make_user("ann")
    ann = login("ann")
    assert ann.post("/api/users", json={"username": "x", "password": PASSWORD}).status_code == 403
    assert ann.post("/api/projects", json={"name": "p"}).status_code == 403
    assert ann.get("/api/audit").status_code == 403


def test_weak_password_refused(admin_api):
    r = admin_api.post("/api/users", json={"username": "weak", "password": "123"})
    assert r.status_code == 422 and "password" in str(r.json()["detail"])
    r = admin_api.post("/api/users", json={"username": "weak", "password": "1234567890"})
    assert r.status_code == 422 and "too simple" in r.json()["detail"]


def test_audit_log_records_logins_and_is_append_only(app, admin_api):
    import pytest
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    from lunglab.db.models import AuditEvent
    from lunglab.db.session import session_scope

    events = admin_api.get("/api/audit").json()["data"]
    assert any(e["action"] == "auth.login" and e["actor"] == "admin" for e in events)
    url = app.state.settings.resolved_database_url
    with pytest.raises(DBAPIError, match="append-only"), session_scope(url) as db:
        db.execute(update(AuditEvent).values(action="tampered"))
    with pytest.raises(DBAPIError, match="append-only"), session_scope(url) as db:
        db.execute(delete(AuditEvent))
