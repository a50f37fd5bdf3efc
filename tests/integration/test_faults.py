"""Kill the server (SIGKILL) while readers save and upload; after a restart no acknowledged
edit is lost, no version points at a missing or altered file, and no study is half-made."""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import nibabel as nib
import numpy as np
import pytest

from tests.conftest import PASSWORD
from tests.dicom_factory import make_ct_series

SHAPE = (6, 64, 64)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.port, self.proc = env, _port(), None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lunglab.cli.main", "serve", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 90
        while time.time() < end:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def client(self) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=30)
        c.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        c.headers["X-CSRF-Token"] = c.cookies["lunglab_csrf"]
        return c


@pytest.fixture
def server(tmp_path, database_url):  # type: ignore[no-untyped-def]
    env = dict(os.environ, LUNGLAB_DATA_DIR=str(tmp_path / "data"),
               LUNGLAB_DATABASE_URL=database_url)
    subprocess.run([sys.executable, "-m", "lunglab.cli.main", "users", "add", "admin",
                    "--admin"], input=PASSWORD + "\n", text=True, env=env, check=True,
                   capture_output=True)
    srv = Server(env)
    srv.start()
    yield srv
    if srv.proc and srv.proc.poll() is None:
        srv.proc.terminate()
        srv.proc.wait(timeout=30)


def _labels(seed: int) -> bytes:
    arr = np.random.default_rng(seed).integers(0, 4, SHAPE, dtype=np.uint8)
    return gzip.compress(arr.tobytes(), 1)


def test_kill_server_during_saves_and_upload(server, tmp_path):
    c = server.client()
    pid = c.post("/api/projects", json={"name": "p"}).json()["id"]
    make_ct_series(tmp_path / "s", shape=SHAPE)
    files = [("files", (f.name, f.read_bytes(), "application/dicom"))
             for f in sorted((tmp_path / "s").glob("*"))]
    sid = c.post(f"/api/projects/{pid}/import", files=files).json()["results"][0]["study_id"]
    acked: dict[int, bytes] = {}
    seen: list[str] = []
    stop = threading.Event()

    def saver() -> None:
        try:
            _save_loop()
        except Exception as exc:
            seen.append(repr(exc))

    def _save_loop() -> None:
        base = None
        seed = 0
        cc = server.client()
        try:
            while not stop.is_set():
                seed += 1
                data = _labels(seed)
                full = base is None or seed % 2
                if full:  # the whole map
                    form = {"format": "raw"}
                    body = data
                else:  # two changed slices on the previous save
                    zs = [seed % SHAPE[0], (seed + 3) % SHAPE[0]]
                    new = np.frombuffer(gzip.decompress(data), np.uint8).reshape(SHAPE)
                    expect = np.frombuffer(acked[base], np.uint8).reshape(SHAPE).copy()
                    expect[zs] = new[zs]
                    form = {"format": "slices", "slices": ",".join(map(str, zs))}
                    body = gzip.compress(new[zs].tobytes(), 1)
                    data = gzip.compress(expect.tobytes(), 1)
                try:
                    r = cc.post(f"/api/studies/{sid}/versions",
                                files={"file": ("l.raw.gz", body, "application/octet-stream")},
                                data={**form,
                                      "base_version_id": "" if base is None else str(base)})
                except httpx.HTTPError as exc:
                    seen.append(type(exc).__name__)
                    return
                seen.append(str(r.status_code))
                if r.status_code == 201:
                    base = r.json()["id"]
                    acked[base] = gzip.decompress(data)
        finally:
            cc.close()

    t = threading.Thread(target=saver)
    t.start()
    end = time.time() + 120
    while len(acked) < 3 and time.time() < end:
        time.sleep(0.1)
    # a second upload in flight at the moment of the kill
    make_ct_series(tmp_path / "u", shape=(20, 64, 64), series_description="OTHER")
    up = [("files", (f.name, f.read_bytes(), "application/dicom"))
          for f in sorted((tmp_path / "u").glob("*"))]
    upload = threading.Thread(target=lambda: _try(lambda: c.post(
        f"/api/projects/{pid}/import", files=up)))
    upload.start()
    time.sleep(0.05)
    server.kill()
    stop.set()
    t.join(timeout=30)
    upload.join(timeout=30)
    assert len(acked) >= 2, f"the saver made too little progress to test anything: {seen[-5:]}"

    server.start()
    c2 = server.client()
    versions = {v["id"]: v for v in c2.get(f"/api/studies/{sid}/versions").json()["data"]}
    assert set(acked) <= set(versions), "an acknowledged save was lost"
    for vid, raw in acked.items():
        got = c2.get(f"/api/versions/{vid}/labels.nii.gz")
        assert got.status_code == 200
        assert got.headers["x-labels-digest"] == versions[vid]["checksum"]
        planes = np.frombuffer(raw, np.uint8).reshape(SHAPE)
        assert versions[vid]["checksum"] == hashlib.sha256(b"".join(
            hashlib.sha256(p.tobytes()).digest() for p in planes)).hexdigest()
        img = nib.Nifti1Image.from_bytes(gzip.decompress(got.content))
        voxels = np.transpose(np.asarray(img.dataobj), (2, 1, 0))
        assert voxels.tobytes() == raw, f"version {vid} does not hold what was acknowledged"
    # every stored file matches its recorded checksum; studies are whole
    job = c2.post("/api/jobs", json={"kind": "integrity-check", "project_id": pid}).json()
    end = time.time() + 120
    while job["state"] not in ("succeeded", "failed") and time.time() < end:
        time.sleep(0.3)
        job = c2.get(f"/api/jobs/{job['id']}").json()
    assert job["state"] == "succeeded", job
    assert job["result"]["problems"] == []
    for s in c2.get(f"/api/projects/{pid}/studies").json()["data"]:
        assert c2.get(f"/api/studies/{s['id']}/volume.nii.gz").status_code == 200


def _try(fn) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(httpx.HTTPError):
        fn()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_job_workers_do_not_outlive_the_server(server, sig):
    """The local runner's worker processes exit with the server, even after a SIGKILL."""
    c = server.client()
    pid = c.post("/api/projects", json={"name": "p"}).json()["id"]
    job = c.post("/api/jobs", json={"kind": "integrity-check", "project_id": pid}).json()
    end = time.time() + 60
    while c.get(f"/api/jobs/{job['id']}").json()["state"] != "succeeded" and time.time() < end:
        time.sleep(0.2)
    kids = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True,
                          text=True, check=False).stdout.split()
    assert kids, "the job ran in no child process"
    server.proc.send_signal(sig)
    server.proc.wait(timeout=30)
    end = time.time() + 10
    while any(os.path.exists(f"/proc/{k}") for k in kids) and time.time() < end:
        time.sleep(0.2)
    assert [k for k in kids if os.path.exists(f"/proc/{k}")] == []
