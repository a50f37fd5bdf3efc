"""The FastAPI application: API under ``/api``, the built web client at ``/``."""
from __future__ import annotations

import errno
import logging
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.utils import get_openapi
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lunglab.core.about import RESEARCH_USE_NOTICE, __version__
from lunglab.api.routes import (
    agreement,
    assignments,
    audit,
    audit_export,
    auth,
    exports,
    imports,
    jobs,
    projects,
    reports,
    review,
    studies,
    training,
    users,
    versions,
)
from lunglab.api.routes import models as model_routes
from lunglab.api.routes import radiographs as radiograph_routes
from lunglab.api.routes import smart_click as smart_click_routes
from lunglab.api.schemas.errors import AUTHENTICATED, errors
from lunglab.core.settings import Settings, get_settings
from lunglab.db.migrate import upgrade_to_head
from lunglab.db.session import THREADS_COVERED
from lunglab.io.store import store_for
from lunglab.services.ingest import housekeeping
from lunglab.services.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    LungLabError,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
)
from lunglab.services.jobs.runners import make_runner

log = logging.getLogger(__name__)

STATUS = {InvalidInput: 422, TooLarge: 413, NotFound: 404, Forbidden: 403, Conflict: 409,
          Unauthorized: 401, RateLimited: 429}
MAX_JSON_BYTES = 1024 * 1024
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
        "connect-src 'self' blob: data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


STORAGE_FULL = ("the server's storage is full; nothing was stored. "
                "Ask the administrator to free space.")


def database_full(exc: DBAPIError) -> bool:
    """The database's disk is full: SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100)."""
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    return (code is not None and code & 0xFF == 13) or getattr(orig, "sqlstate", None) == "53100"


class SecurityHeaders:
    """Pure ASGI middleware: security headers on every response, and JSON bodies refused
    (413) unless they state a length of at most ``MAX_JSON_BYTES``. (Starlette's
    ``BaseHTTPMiddleware`` would copy every response, 39 MB CT volumes included, through a
    memory stream.)"""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        req = dict(scope.get("headers") or [])
        ctype = req.get(b"content-type", b"").decode("latin-1")
        length = req.get(b"content-length", b"").decode("latin-1")
        if ctype.startswith("application/json") and (
                not length.isdigit() or int(length) > MAX_JSON_BYTES):
            response = JSONResponse(
                {"detail": f"JSON bodies must state their length and be at most "
                           f"{MAX_JSON_BYTES} bytes"}, status_code=413)
            await response(scope, receive, self._with_headers(send))
            return
        await self.app(scope, receive, self._with_headers(send))

    def _with_headers(self, send: Send) -> Send:
        async def sender(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *((k, v) for k, v in self.headers
                                                    if k not in have)]}
            await send(message)

        return sender


ROUTERS: tuple[tuple[APIRouter, dict[int | str, dict[str, Any]]], ...] = (
    # each router with what its routes may answer on top of AUTHENTICATED (401, 403, 404, 413,
    # 422)
    (auth.router, errors(429)), (users.router, errors(409)), (projects.router, errors(409)),
    (studies.router, {}), (imports.router, errors(400, 409, 507)),
    (versions.router, errors(400, 409, 507)), (jobs.router, errors(409)), (audit.router, {}),
    (assignments.router, errors(409)), (review.router, errors(400, 409, 507)),
    (agreement.router, {}), (audit_export.router, {}), (reports.router, {}),
    (exports.router, errors(409, 507)), (training.router, errors(409, 507)),
    (model_routes.router, errors(409, 507)),
    (radiograph_routes.router, errors(400, 409)),
    (smart_click_routes.router, {}),
)
"""The ``responses=`` each router documents (``lunglab.api.schemas.errors``)."""


def allowed_methods(app: FastAPI, path: str) -> set[str]:
    """Every method the API accepts on ``path`` (empty: not an API path), from the OpenAPI
    paths (the route table itself is private to FastAPI's lazily included routers)."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "path_methods",
                                                                   None)
    if table is None:
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            table.append((re.compile(f"^{regex}$"), {m.upper() for m in operations}))
        app.state.path_methods = table
    methods: set[str] = set()
    for pattern, accepted in table:
        if pattern.match(path):
            methods |= accepted
    return methods


def json_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Error answers are JSON whatever a route sends on success: FastAPI files a router's
    ``responses=`` under the route's own media type (``text/plain``, ``application/gzip``...),
    so move the 4xx/5xx bodies to ``application/json``."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content")
                if code[:1] in "45" and content and "application/json" not in content:
                    answer["content"] = {"application/json": next(iter(content.values()))}
    return schema


def method_not_allowed(methods: set[str], method: str) -> Response:
    """``OPTIONS``: 204 with ``Allow``; any other method: 405 with ``Allow``."""
    allow = ", ".join(sorted(methods | {"OPTIONS"}))
    if method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405,
                        headers={"Allow": allow})


def default_web_dist() -> Path | None:
    """``web/dist`` of a source checkout, or the copy packaged as ``lunglab/web_dist``."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "web" / "dist", here.parents[1] / "web_dist"):
        if (candidate / "index.html").exists():
            return candidate
    return None


def create_app(settings: Settings | None = None, *, start_runner: bool = True,
               web_dist: Path | None = None) -> FastAPI:
    """Build the app: migrate the database, open the store, start the job runner."""
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        # as many request threads as database connections can serve (``db/session.py``)
        to_thread.current_default_thread_limiter().total_tokens = THREADS_COVERED
        if start_runner:
            app.state.runner.start()
        yield
        app.state.runner.shutdown()

    app = FastAPI(title="LungLab", version=__version__, lifespan=lifespan,
                  description=RESEARCH_USE_NOTICE, docs_url="/docs", redoc_url=None)
    app.state.settings = settings
    app.state.store = store_for(settings)
    # only temporaries older than an hour: a younger one may be another process's write in
    # flight (a CLI import running while the server starts)
    temporaries = app.state.store.remove_temporaries(max_age_s=3600)
    report = housekeeping.clean(settings)
    if temporaries or report.scratch_removed or report.uploads_removed or report.orphans_removed:
        log.warning("removed leftovers of interrupted work: %s, store temporaries %d", report,
                    temporaries)
    app.state.runner = make_runner(settings)

    for router, answers in ROUTERS:
        app.include_router(router, prefix="/api", responses={**AUTHENTICATED, **answers})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = json_errors(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__, "research_use_only": RESEARCH_USE_NOTICE}

    @app.exception_handler(LungLabError)
    async def domain_error(_: Request, exc: LungLabError) -> JSONResponse:
        code = next((c for t, c in STATUS.items() if isinstance(exc, t)), 400)
        if isinstance(exc, Conflict) and exc.details:
            return JSONResponse({"detail": {"message": str(exc), **exc.details}}, status_code=code)
        return JSONResponse({"detail": str(exc)}, status_code=code)

    @app.exception_handler(OSError)
    async def storage_error(_: Request, exc: OSError) -> JSONResponse:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            log.error("storage full: %s", exc.strerror)
            return JSONResponse({"detail": STORAGE_FULL}, status_code=507)
        log.exception("storage error")
        return JSONResponse({"detail": "storage error on the server; nothing was stored"},
                            status_code=500)

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if database_full(exc):
            log.error("database storage full")
            return JSONResponse({"detail": STORAGE_FULL}, status_code=507)
        if getattr(exc.orig, "sqlstate", None) == "22003":  # numeric_value_out_of_range
            return JSONResponse({"detail": "a number in the request is out of range for the "
                                           "database"}, status_code=422)
        log.error("database error on %s %s: %s", request.method, request.url.path,
                  type(exc.orig).__name__)
        return JSONResponse({"detail": "database error on the server; nothing was stored"},
                            status_code=500)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's documented array, without echoing the input back (passwords, big bodies)
        issues = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))[:500],
                   "type": str(e.get("type", ""))} for e in exc.errors()[:50]]
        return JSONResponse({"detail": issues}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Starlette's 405 names only the first route of a path: list every method of the path
        if exc.status_code == 405:
            methods = allowed_methods(app, request.url.path)
            if methods:
                return method_not_allowed(methods, request.method)
        return await http_exception_handler(request, exc)

    extra = {"Strict-Transport-Security": "max-age=31536000"} if settings.cookie_secure else {}
    app.add_middleware(SecurityHeaders, headers={**SECURITY_HEADERS, **extra})

    dist = web_dist or default_web_dist()
    if dist is not None:
        if (dist / "assets").exists():
            app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")
        index = dist / "index.html"

        @app.get("/{path:path}", include_in_schema=False)
        def spa(path: str, request: Request) -> FileResponse:
            if path.startswith("api/"):  # a known API path with another method: 405, not 404
                methods = allowed_methods(app, "/" + path)
                if methods:
                    return method_not_allowed(methods, request.method)  # type: ignore[return-value]
                return JSONResponse({"detail": "not found"}, status_code=404)  # type: ignore[return-value]
            candidate = (dist / path).resolve()
            if path and candidate.is_file() and candidate.is_relative_to(dist.resolve()):
                return FileResponse(candidate)
            return FileResponse(index)

    return app
