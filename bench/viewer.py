"""Viewer benchmark: drives Debian's Chromium against a throwaway LungLab server and prints
open-study-to-first-slice time, slice-scroll frames/s, brush-stamp time, save time (a first
save of the whole map, then an edit on it that sends only its changed slices) and browser
memory, for the real 512x512x141 series and a synthetic 512x512x500 study.

Usage: .venv/bin/python bench/viewer.py [--skip-synthetic] [--slices 500]
Needs: web/dist built, /usr/bin/chromium, the playwright Python package, ../shared/data.
"""
from __future__ import annotations

import argparse
import gzip
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def browser_pss_mb(root_pid: int) -> float:
    """Proportional set size (MB) of the browser process tree (PSS counts shared pages once)."""
    pids = [root_pid]
    total = 0.0
    seen = set()
    while pids:
        pid = pids.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) / 1024
            for t in Path(f"/proc/{pid}/task").iterdir():
                kids = Path(f"/proc/{pid}/task/{t.name}/children").read_text().split()
                pids.extend(int(k) for k in kids)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


class PeakSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, browser_pss_mb(self.pid))
            time.sleep(0.1)


def synthetic_nifti(nz: int) -> bytes:
    """A 512x512xnz chest-like int16 phantom (body ellipse, two lungs, noise), gzip NIfTI."""
    import nibabel as nib

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:512, 0:512]
    body = ((xx - 256) / 220) ** 2 + ((yy - 256) / 170) ** 2 < 1
    left = (((xx - 170) / 70) ** 2 + ((yy - 250) / 110) ** 2) < 1
    right = (((xx - 342) / 70) ** 2 + ((yy - 250) / 110) ** 2) < 1
    lungs = left | right
    sl = np.where(body, 40, -1000).astype(np.int16)
    sl[lungs] = -850
    vol = np.empty((nz, 512, 512), np.int16)
    for z in range(nz):
        vol[z] = sl + rng.integers(-20, 20, (512, 512), dtype=np.int16)
    img = nib.Nifti1Image(vol.transpose(2, 1, 0), np.diag([-0.7, -0.7, 1.0, 1.0]))
    img.header.set_data_dtype(np.int16)
    img.header.set_xyzt_units("mm")
    buf = io.BytesIO()
    fh = nib.FileHolder(fileobj=buf)
    img.to_file_map({"image": fh, "header": fh})
    return gzip.compress(buf.getvalue(), 1)


def measure(page, base: str, sid: int, browser_pid: int, layout: str) -> dict[str, float]:
    sampler = PeakSampler(browser_pid)
    sampler.start()
    t0 = time.perf_counter()
    page.goto(f"{base}/studies/{sid}?layout={layout}")
    page.wait_for_function("window.__lunglab && window.__lunglab.ready === true", timeout=300_000)
    wall_open = time.perf_counter() - t0
    timings = page.evaluate("window.__lunglab.timings")
    page.wait_for_timeout(1500)
    fps = page.evaluate("""async () => {
      const v = window.__lunglab.viewer, ax = v.view('axial');
      const raf = () => new Promise(r => requestAnimationFrame(r));
      await raf(); const f0 = v.frames; const t0 = performance.now(); let dir = 1;
      for (let i = 0; i < 120; i++) {
        if (ax.slice >= ax.plane.depth - 1) dir = -1;
        if (ax.slice <= 0) dir = 1;
        v.scroll(ax, dir); await raf();
      }
      const dt = (performance.now() - t0) / 1000;
      return { fps: 120 / dt, axialFrames: (v.frames - f0) / 3 };
    }""")
    stamp = page.evaluate("""async () => {
      const d = window.__lunglab, v = d.viewer, ax = v.view('axial'), lm = v.labels;
      v.tool = 'brush'; v.activeLabel = 2; v.brushRadiusMm = 5;
      const g = v.ct.g, z = ax.slice; const t0 = performance.now();
      for (let i = 0; i < 60; i++) {
        const r = ax.canvas.getBoundingClientRect();
        const [cx, cy] = d.voxelToClient('axial', [200 + i, 250, z]);
        const opts = { clientX: cx, clientY: cy, bubbles: true, pointerId: 1, button: 0,
                       buttons: 1 };
        ax.canvas.dispatchEvent(new PointerEvent(i === 0 ? 'pointerdown' : 'pointermove', opts));
        v.renderNow();
      }
      ax.canvas.dispatchEvent(new PointerEvent('pointerup',
                                               { bubbles: true, pointerId: 1 }));
      return (performance.now() - t0) / 60;
    }""")
    t1 = time.perf_counter()
    page.click("#save")
    page.wait_for_function("window.__lunglab.dirty === false"
                           " && window.__lunglab.baseVersionId !== null", timeout=120_000)
    save_wall = time.perf_counter() - t1
    first = page.evaluate("window.__lunglab.baseVersionId")
    first_in_page = page.evaluate("window.__lunglab.timings.save || -1") / 1000
    first_gzip = page.evaluate("window.__lunglab.timings.saveGzip || -1") / 1000
    # a second stroke on the saved version: the page sends only the slices it touched
    page.evaluate("""() => {
      const d = window.__lunglab, v = d.viewer, ax = v.view('axial'), z = ax.slice;
      for (let i = 0; i < 20; i++) {
        const [cx, cy] = d.voxelToClient('axial', [200 + i, 300, z]);
        const opts = { clientX: cx, clientY: cy, bubbles: true, pointerId: 1, button: 0,
                       buttons: 1 };
        ax.canvas.dispatchEvent(new PointerEvent(i === 0 ? 'pointerdown' : 'pointermove', opts));
      }
      ax.canvas.dispatchEvent(new PointerEvent('pointerup',
                                               { bubbles: true, pointerId: 1 }));
    }""")
    t2 = time.perf_counter()
    page.click("#save")
    page.wait_for_function("window.__lunglab.dirty === false"
                           f" && window.__lunglab.baseVersionId !== {first}", timeout=120_000)
    edit_wall = time.perf_counter() - t2
    edit_slices = page.evaluate("window.__lunglab.lastSave.slices")
    heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 1048576 : -1")
    sampler.stop.set()
    sampler.join()
    return {"open_wall_s": wall_open,
            "first_slice_in_page_s": timings.get("firstSlice", -1) / 1000,
            "volume_loaded_s": timings.get("volumeLoaded", -1) / 1000, "scroll_fps": fps["fps"],
            "brush_stamp_ms": stamp, "save_wall_s": save_wall,
            "edit_save_wall_s": edit_wall, "edit_save_slices": edit_slices,
            "edit_save_in_page_s": page.evaluate("window.__lunglab.timings.save || -1") / 1000,
            "save_in_page_s": first_in_page, "save_gzip_s": first_gzip,
            "js_heap_mb": heap, "browser_peak_pss_mb": sampler.peak}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--slices", type=int, default=500)
    ap.add_argument("--layout", choices=["1x1", "1x3", "2x2"], default="2x2")
    args = ap.parse_args()
    from tests.e2e.support import (
        CHROMIUM, CHROMIUM_ARGS, PASSWORD, SERIES, Api, free_port, lunglab_cmd,
        missing_prerequisite)

    reason = missing_prerequisite()
    if reason:
        sys.exit(f"cannot run: {reason}")
    from playwright.sync_api import sync_playwright

    data_dir = Path(tempfile.mkdtemp(prefix="lunglab-bench-"))
    env = {**os.environ, "LUNGLAB_DATA_DIR": str(data_dir),
           "LUNGLAB_AUTO_SEGMENT_ON_IMPORT": "false"}
    env.pop("LUNGLAB_DATABASE_URL", None)
    cmd = lunglab_cmd()
    subprocess.run([*cmd, "users", "add", "admin", "--admin"], input=PASSWORD + "\n", text=True,
                   env=env, check=True, capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*cmd, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import httpx

        for _ in range(240):
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        api = Api(base, "admin")
        pid = api.post_ok("/api/projects", json={"name": "bench", "description": ""}).json()["id"]
        files = [("files", (f"series/{p.name}", p.read_bytes(), "application/dicom"))
                 for p in sorted(SERIES.iterdir())]
        studies = {}
        r = api.post_ok(f"/api/projects/{pid}/import", files=files).json()["results"]
        studies["real 512x512x141"] = next(x["study_id"] for x in r if x["study_id"])
        if not args.skip_synthetic:
            blob = synthetic_nifti(args.slices)
            upload = [("files", ("synthetic.nii.gz", blob, "application/gzip"))]
            r = api.post_ok(f"/api/projects/{pid}/import", files=upload).json()["results"]
            sid = next((x["study_id"] for x in r if x["study_id"]), None)
            if sid is None:
                print(f"synthetic import refused: {r}")
            else:
                studies[f"synthetic 512x512x{args.slices}"] = sid
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                        args=[*CHROMIUM_ARGS, "--enable-precise-memory-info"])
            browser_pid = _browser_pid()
            for name, sid in studies.items():
                ctx = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
                page = ctx.new_page()
                page.goto(f"{base}/login")
                page.fill("#username", "admin")
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(lambda u: "/login" not in u)
                m = measure(page, base, sid, browser_pid, args.layout)
                st = api.get(f"/api/studies/{sid}").json()
                arr = np.zeros(st["shape"], np.uint8)
                t = time.perf_counter()
                r = api.save_raw(sid, arr, st["latest_version_id"])
                api_save = time.perf_counter() - t
                assert r.status_code == 201, r.text
                print(f"\n{name} (Chromium {browser.version}, headless, SwiftShader WebGL, "
                      f"1366x768, {args.layout} layout)")
                print(f"  open study -> first slice: {m['open_wall_s']:.2f} s wall "
                      f"(in page {m['first_slice_in_page_s']:.2f} s, of which CT "
                      f"download+decode {m['volume_loaded_s']:.2f} s)")
                print(f"  slice scrolling:          {m['scroll_fps']:.1f} frames/s "
                      "(3 views redrawn per step)")
                print(f"  brush stamp + redraw:     {m['brush_stamp_ms']:.1f} ms per pointer move "
                      "(r = 5 mm)")
                print(f"  save a version:           {m['save_wall_s']:.2f} s wall "
                      f"(in page {m['save_in_page_s']:.2f} s, of which gzip in the browser "
                      f"{m['save_gzip_s']:.2f} s); the same save by a script: {api_save:.2f} s")
                print(f"  save an edit on it:       {m['edit_save_wall_s']:.2f} s wall (in page "
                      f"{m['edit_save_in_page_s']:.2f} s), {m['edit_save_slices']} changed "
                      "slice(s) sent")
                print(f"  browser memory:           peak PSS {m['browser_peak_pss_mb']:.0f} MB "
                      f"(all Chromium processes), JS heap {m['js_heap_mb']:.0f} MB")
                ctx.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)


def _browser_pid() -> int:
    """Our own Chromium browser process: a descendant of this Python process (never another
    user's browser), whose parent is not itself a Chromium process."""
    parent: dict[int, int] = {}
    comm: dict[int, str] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            parent[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            comm[int(d.name)] = (d / "comm").read_text().strip()
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue

    def ours(pid: int) -> bool:
        while pid > 1:
            if pid == os.getpid():
                return True
            pid = parent.get(pid, 1)
        return False

    for pid, name in comm.items():
        if "chrom" in name and "chrom" not in comm.get(parent.get(pid, 1), "") and ours(pid):
            return pid
    raise RuntimeError("could not find our Chromium process")


if __name__ == "__main__":
    main()
