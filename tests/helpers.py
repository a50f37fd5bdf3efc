"""Small builders shared by the integration tests."""
from __future__ import annotations

import gzip
import time

import numpy as np

FINISHED = ("succeeded", "failed", "cancelled")


def wait_job(api, job_id: int, states=FINISHED, timeout: float = 600, poll: float = 0.2) -> dict:  # type: ignore[no-untyped-def]
    """Poll ``GET /api/jobs/{id}`` until the job is in one of ``states``; return it.

    Raises:
        AssertionError: still elsewhere after ``timeout`` seconds.
    """
    end = time.time() + timeout
    job: dict = {}
    while time.time() < end:
        job = api.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        time.sleep(poll)
    raise AssertionError(f"job {job_id} still {job.get('state')}: {job}")


def synthetic_volume(shape=(6, 32, 40), spacing=(0.8, 0.8, 2.5), seed: int = 0):  # type: ignore[no-untyped-def]
    """A small CT-like volume: air outside, a body, two dark 'lungs'."""
    from lunglab.domain.volume import CTVolume

    rng = np.random.default_rng(seed)
    _, y, x = shape
    arr = np.full(shape, -1000, np.int16)
    arr[:, 2:y - 2, 2:x - 2] = 40
    arr[:, 6:y - 6, 5:x // 2 - 2] = -850
    arr[:, 6:y - 6, x // 2 + 2:x - 5] = -850
    arr += rng.integers(-20, 20, size=shape, dtype=np.int16)
    return CTVolume(arr, spacing, (-10.0, -20.0, 30.0))


def add_study(app, project_id: int, *, uid: str = "2.25.1", shape=(6, 32, 40)) -> int:  # type: ignore[no-untyped-def]
    """Register a synthetic study through the real ingest path (store + row)."""
    from lunglab.db.models import Project
    from lunglab.db.session import session_scope
    from lunglab.io.results import ParsedSeries
    from lunglab.services.ingest.importer import register_series

    vol = synthetic_volume(shape)
    series = ParsedSeries(volume=vol, study_uid_pseudo=uid + ".0", series_uid_pseudo=uid,
                          patient_key="pk-" + uid, name=f"synthetic {uid}", source_names=[],
                          meta={"Modality": "CT"}, slice_count=shape[0], kind="nifti")
    with session_scope(app.state.settings.resolved_database_url) as db:
        project = db.get(Project, project_id)
        outcome = register_series(db, app.state.store, project, None, series)
    assert outcome.status == "imported", outcome
    return int(outcome.study_id)


def raw_labels(labels: np.ndarray) -> tuple[str, bytes, str]:
    """A multipart file tuple with gzip-compressed raw uint8 voxels."""
    return ("labels.raw.gz", gzip.compress(np.ascontiguousarray(labels, np.uint8).tobytes(), 1),
            "application/octet-stream")
