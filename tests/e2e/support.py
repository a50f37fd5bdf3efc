"""Helpers for the browser tests: paths, an API client, log-in and screenshots."""
from __future__ import annotations

import gzip
import io
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
WEB_DIST = REPO / "web" / "dist"
CHROMIUM = Path(os.environ.get("LUNGLAB_CHROMIUM", "/usr/bin/chromium"))
SHARED_DATA = Path(os.environ.get("LUNGLAB_SHARED_DATA", REPO.parent / "shared" / "data"))
SERIES = SHARED_DATA / "chest-ct-dicom-series" / "series"
SCREENSHOTS = REPO / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"
# No GPU here: WebGL (NiiVue's 3D view) runs on SwiftShader, while the compositor and 2D canvases
# run in software, which is far faster than compositing through SwiftShader (7 -> 60 frames/s).
CHROMIUM_ARGS = [
    "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-gpu-compositing", "--disable-accelerated-2d-canvas",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync", "--disable-dev-shm-usage",
]

def missing_prerequisite() -> str | None:
    if not (WEB_DIST / "index.html").exists():
        return (f"web client not built ({WEB_DIST}/index.html missing; "
                "run `npm ci && npm run build` in web/)")
    if not CHROMIUM.exists():
        return f"Chromium not installed at {CHROMIUM} (apt-get install chromium)"
    if not SERIES.is_dir():
        return f"shared CT data not found at {SERIES}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lunglab_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("lunglab")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "lunglab.cli.main"]


class Api:
    """A logged-in HTTP client for arranging and checking state through the API."""

    def __init__(self, base: str, username: str) -> None:
        import httpx

        self.base = base
        self.client = httpx.Client(base_url=base, timeout=120)
        r = self.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        self.csrf = self.client.cookies.get("lunglab_csrf") or ""
        for _ in range(50):  # the server may commit the new session just after answering
            if self.client.get("/api/auth/me").status_code == 200:
                break
            time.sleep(0.1)

    def get(self, path: str, **kw):
        r = self.client.get(path, **kw)
        r.raise_for_status()
        return r

    def post(self, path: str, **kw):
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, **kw)

    def post_ok(self, path: str, **kw):
        for _ in range(20):  # tolerate the commit-after-response race (web/SERVER_REQUESTS.md)
            r = self.post(path, **kw)
            if r.status_code not in (401, 404):
                break
            time.sleep(0.2)
        assert r.status_code < 300, f"POST {path} -> {r.status_code} {r.text[:500]}"
        return r

    def labels(self, version_id: int | None, shape: tuple[int, int, int]) -> np.ndarray:
        """A version's label map as a C-order [z, y, x] uint8 array (zeros for no version)."""
        if version_id is None:
            return np.zeros(shape, np.uint8)
        return nifti_zyx(self.get(f"/api/versions/{version_id}/labels.nii.gz").content)

    def save_raw(self, study_id: int, arr: np.ndarray, base: int | None):
        files = {"file": ("labels.raw.gz", gzip.compress(arr.astype(np.uint8).tobytes(), 1))}
        data = {"format": "raw", "base_version_id": "" if base is None else str(base),
                "message": "api"}
        return self.post(f"/api/studies/{study_id}/versions", files=files, data=data)


def nifti_zyx(content: bytes) -> np.ndarray:
    import nibabel as nib

    raw = gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content
    img = nib.Nifti1Image.from_bytes(raw)
    return np.asarray(img.dataobj).transpose(2, 1, 0).copy()


@dataclass
class Server:
    base: str
    project_id: int
    import_project_id: int
    study_id: int
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]  # x, y, z in mm
    data_dir: Path

    def api(self, username: str = "admin") -> Api:
        return Api(self.base, username)


def login(page, server: Server, username: str) -> None:
    page.goto(server.base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)


def open_study(page, server: Server, study_id: int | None = None) -> None:
    page.goto(f"{server.base}/studies/{study_id or server.study_id}")
    page.wait_for_function("window.__lunglab && window.__lunglab.ready === true", timeout=120_000)


def screenshot(page, name: str) -> None:
    """Writes test-results/<name>.png (ignored by git: `make test` leaves the work tree clean),
    and docs/screenshots/<name>.png for the README only when LUNGLAB_UPDATE_SCREENSHOTS=1."""
    buf = _shrink_png(page.screenshot(type="png"))
    out = REPO / "test-results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.png").write_bytes(buf)
    target = SCREENSHOTS / f"{name}.png"
    if os.environ.get("LUNGLAB_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target.write_bytes(buf)


def _shrink_png(buf: bytes) -> bytes:
    try:
        from PIL import Image
    except ImportError:
        return buf
    img = Image.open(io.BytesIO(buf)).convert("RGB")
    img = img.quantize(colors=128)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def use_single_axial(page, zoom_steps: int = 6) -> None:
    """1x1 layout on the axial view, zoomed so one voxel spans several screen pixels."""
    page.click("#layout-1x1")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(zoom_steps):
        page.keyboard.press("+")


def set_brush(page, tool_key: str, label: int, radius_mm: float) -> None:
    page.fill("#brush-radius", str(radius_mm))
    page.dispatch_event("#brush-radius", "change")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press(str(label))
    page.keyboard.press(tool_key)


def current_slice(page) -> int:
    return int(page.evaluate("window.__lunglab.viewer.cursor[2]"))


def stroke(page, z: int, y: int, x0: int, x1: int) -> None:
    """Drags the mouse on the axial view from voxel (x0, y) to (x1, y) on slice z."""
    a = page.evaluate(f"window.__lunglab.voxelToClient('axial', [{x0}, {y}, {z}])")
    b = page.evaluate(f"window.__lunglab.voxelToClient('axial', [{x1}, {y}, {z}])")
    page.mouse.move(a[0], a[1])
    page.mouse.down()
    page.mouse.move(b[0], b[1], steps=max(2, abs(x1 - x0)))
    page.mouse.up()


def brush_union(shape: tuple[int, int, int], spacing: tuple[float, float, float], z: int, y: int,
                x0: int, x1: int, r: float) -> np.ndarray:
    """Voxels covered by 2D disks of radius r (mm) centred on voxels (x0..x1, y) of slice z."""
    _, ny, nx = shape
    sx, sy, _ = spacing
    m = np.zeros(shape, bool)
    yy, xx = np.mgrid[0:ny, 0:nx]
    for x in range(min(x0, x1), max(x0, x1) + 1):
        ey = (yy - y) * sy
        ex = (xx - x) * sx
        rest = r * r - ey * ey
        m[z] |= ((rest >= 0) & (ex * ex <= rest) & (np.abs(xx - x) <= int(r // sx))
                 & (np.abs(yy - y) <= int(r // sy)))
    return m


def save_and_wait(page) -> int:
    """Clicks Save and returns the id of the new version."""
    before = page.evaluate("window.__lunglab.baseVersionId")
    page.click("#save")
    prev = before if before is not None else "null"
    page.wait_for_function(
        f"window.__lunglab.baseVersionId !== {prev} && !window.__lunglab.dirty")
    return int(page.evaluate("window.__lunglab.baseVersionId"))


def latest_version(api: Api, study_id: int) -> int | None:
    return api.get(f"/api/studies/{study_id}").json()["latest_version_id"]
