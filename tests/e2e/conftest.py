"""Browser tests: start a real LungLab server on a free port and drive Debian's Chromium.

Skips (with the reason) when the built client, Chromium or the shared CT data is missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SERIES,
    Api,
    Server,
    free_port,
    latest_version,
    lunglab_cmd,
    missing_prerequisite,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    reason = missing_prerequisite()
    if reason:
        pytest.skip(reason)
    data_dir = Path(tempfile.mkdtemp(prefix="lunglab-e2e-"))
    env = {**os.environ, "LUNGLAB_DATA_DIR": str(data_dir),
           "LUNGLAB_AUTO_SEGMENT_ON_IMPORT": "false", "LUNGLAB_LOGIN_MAX_FAILURES": "1000"}
    env.pop("LUNGLAB_DATABASE_URL", None)  # SQLite in the temp data dir
    cmd = lunglab_cmd()
    for name, admin in (("admin", True), ("anna", False), ("bob", False)):
        subprocess.run([*cmd, "users", "add", name, *(["--admin"] if admin else [])],
                       input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True)
    port = free_port()
    log = open(data_dir / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([*cmd, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(240):
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                tail = (data_dir / "server.log").read_text()[-2000:]
                raise RuntimeError(f"server exited: {tail}")
            time.sleep(0.5)
        api = Api(base, "admin")
        pid = api.post_ok("/api/projects",
                          json={"name": "COVID CT", "description": "e2e"}).json()["id"]
        pid2 = api.post_ok("/api/projects",
                           json={"name": "Import test", "description": "e2e"}).json()["id"]
        for user in ("anna", "bob"):
            api.post_ok(f"/api/projects/{pid}/members",
                        json={"username": user, "role": "annotator"})
        files = [("files", (f"series/{p.name}", p.read_bytes(), "application/dicom"))
                 for p in sorted(SERIES.iterdir()) if p.is_file()]
        r = api.post_ok(f"/api/projects/{pid}/import", files=files)
        res = [x for x in r.json()["results"] if x["status"] == "imported"]
        assert res, r.json()
        sid = res[0]["study_id"]
        api.post_ok(f"/api/projects/{pid}/assignments", json={"study_id": sid, "username": "anna"})
        st = api.get(f"/api/studies/{sid}").json()
        yield Server(base, pid, pid2, sid, tuple(st["shape"]), tuple(st["spacing"]), data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="package")  # ends with tests/e2e: other tests may start Playwright
def chromium(server: Server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(chromium) -> Iterator[object]:
    ctx = chromium.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture()
def leave_the_study_as_found(server: Server) -> Iterator[None]:
    """For tests that add AI and edited versions to the shared study: afterwards the labels
    it had before are saved again as its newest version, so later tests start from the same
    label map."""
    api = server.api()
    before = latest_version(api, server.study_id)
    labels = api.labels(before, server.shape)
    yield
    now = latest_version(api, server.study_id)
    if now != before:
        assert api.save_raw(server.study_id, labels, now).status_code == 201
