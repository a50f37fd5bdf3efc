"""SIGKILL ``lunglab import`` in the middle of importing several series, run the start-up
housekeeping the server runs, and import again.

Checked after the kill and the start-up housekeeping: every study row has its stored volume,
whole (size and sha256 as recorded, decodes to the voxels that were imported); no study that
was committed before the kill is lost. A volume written but not committed, a ``.tmp-`` store
file of a write cut short, and the import's scratch folder, are kept at once (they are younger
than the housekeeping age limits, which protect work in flight in another process) and removed
at a start after those limits: then no stored file is unreferenced, no ``.tmp-`` file and no
scratch is left. Running the same import again imports the remaining series and reports the
others as duplicates (no study twice).

Where the kill lands:

- ``after_first_commit``: as soon as the first study row is committed (the kill lands while
  a later series is read, de-identified, encoded or stored);
- ``between_write_and_commit``: the test holds a write lock on the database (SQLite
  ``BEGIN IMMEDIATE``, PostgreSQL ``LOCK TABLE studies``) so that the next series' INSERT
  waits, and kills once that series' volume file is in the store: always the window between
  the file write and the commit;
- ``real_series``: the real 141-slice series between two synthetic ones (needs ../shared).

``lunglab datasets import`` commits each case's study and then its mask: it is killed between
the two, and the re-run must give that study its mask (it used to skip the case as a
duplicate, leaving the study without its mask for good).

No sleeps guess the timing: every wait polls a condition and is bounded.
"""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.exc import SQLAlchemyError

from tests.conftest import need_real_series
from tests.dicom_factory import make_ct_series

CLI = [sys.executable, "-m", "lunglab.cli.main"]
SHAPE = (48, 128, 128)  # about 0.3-0.5 s of import work per series on this machine
N_SERIES = 4
WAIT_S = 120.0  # bound of every wait on the CLI
POLL_S = 0.01


@dataclass
class Source:
    path: Path
    description: str
    hu: np.ndarray | None  # expected voxels [z, y, x]; None: not checked voxel by voxel
    shape: tuple[int, int, int]


def _env(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(os.environ, LUNGLAB_DATA_DIR=str(settings.data_dir),
                LUNGLAB_DATABASE_URL=settings.resolved_database_url, NO_COLOR="1",
                COLUMNS="200")


def _synthetic(root: Path, descriptions: list[str]) -> list[Source]:
    out = []
    for i, desc in enumerate(descriptions):
        s = make_ct_series(root / desc, shape=SHAPE, series_description=desc, seed=i,
                           patient_id=f"PAT-{i}")
        out.append(Source(root / desc, desc, s.hu, SHAPE))
    return out


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start the CLI as a user would; its output goes to ``log`` (a pipe could fill up)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    proc.log = log  # type: ignore[attr-defined]
    return proc


def _wait(cond: Callable[[], bool], proc: subprocess.Popen, what: str) -> None:
    """Poll ``cond`` until true; fail if the CLI exits first or the bound is reached."""
    end = time.monotonic() + WAIT_S
    while not cond():
        if proc.poll() is not None:
            out = proc.log.read_text()  # type: ignore[attr-defined]
            pytest.fail(f"the import ended (rc {proc.returncode}) before {what}: the kill "
                        f"would not land mid-import; make the series larger\n{out[-3000:]}")
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(POLL_S)


def _kill(proc: subprocess.Popen) -> None:
    proc.kill()  # SIGKILL
    proc.wait(timeout=30)
    assert proc.returncode == -9, f"the import was not killed (rc {proc.returncode})"


# --- the database as the test sees it ------------------------------------------------------

class Db:
    """Small read helpers on the test's own connection (SQLAlchemy, outside the CLI)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def studies(self) -> dict[int, tuple[str, str, str, int, list[int]]]:
        """id -> (series_description, volume_key, volume_checksum, volume_bytes, shape)."""
        from sqlalchemy import select

        from lunglab.db.models import Study
        from lunglab.db.session import session_scope

        with session_scope(self.url) as db:
            return {s.id: (s.series_description or "", s.volume_key, s.volume_checksum,
                           s.volume_bytes, list(s.shape))
                    for s in db.scalars(select(Study))}

    def import_audit_ids(self) -> list[int]:
        from sqlalchemy import select

        from lunglab.db.models import AuditEvent
        from lunglab.db.session import session_scope

        with session_scope(self.url) as db:
            return sorted(int(i) for i in db.scalars(
                select(AuditEvent.object_id).where(AuditEvent.action == "study.import")))


@contextmanager
def _hold_write_lock(url: str, table: str = "studies") -> Iterator[Callable[[], set[str]]]:
    """Block the CLI's next INSERT into ``table``; yield a reader of the committed volume keys.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock (WAL: readers go on; the
    CLI's busy timeout is 30 s), blocking every write. PostgreSQL: ``SHARE ROW EXCLUSIVE`` on
    ``table`` blocks INSERT but not SELECT.
    """
    from sqlalchemy.engine import make_url

    if url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(url).database, isolation_level=None, timeout=30)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield lambda: {k for (k,) in conn.execute("SELECT volume_key FROM studies")}
        finally:
            conn.rollback()
            conn.close()
        return
    import psycopg

    pg = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        pg.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        yield lambda: {k for (k,) in pg.execute("SELECT volume_key FROM studies")}
    finally:
        pg.rollback()
        pg.close()


def _store_files(settings) -> set[str]:  # type: ignore[no-untyped-def]
    root = settings.data_dir / "store"
    if not root.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _volume_files(settings) -> set[str]:  # type: ignore[no-untyped-def]
    return {k for k in _store_files(settings)
            if k.startswith("studies/") and not Path(k).name.startswith(".tmp-")}


def _scratch(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    tmp = settings.data_dir / "tmp"
    return sorted(tmp.iterdir()) if tmp.exists() else []


def _startup_housekeeping(settings) -> None:  # type: ignore[no-untyped-def]
    """What ``lunglab serve`` runs at start (``create_app``): migrate, remove store
    temporaries, remove old scratch and unreferenced store files. No job runner is started."""
    from lunglab.api.app import create_app

    create_app(settings, start_runner=False, web_dist=Path("/nonexistent"))


def _age_everything(settings, seconds: float = 2 * 86400) -> None:  # type: ignore[no-untyped-def]
    """Make every file and folder under the data folder look ``seconds`` old (a later start)."""
    t = time.time() - seconds
    for p in [*settings.data_dir.rglob("*")]:
        os.utime(p, (t, t), follow_symlinks=False)


def _check_studies_whole(settings, db: Db, sources: list[Source]) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """Every study row: its volume is stored, as recorded, and holds what was imported."""
    from lunglab.db.models import Study
    from lunglab.io.store import store_for, sha256_file
    from lunglab.services.access.studies import load_volume

    store = store_for(settings)
    by_desc = {s.description: s for s in sources}
    rows = db.studies()
    descs = [d for d, *_ in rows.values()]
    assert len(descs) == len(set(descs)), f"a series was imported twice: {sorted(descs)}"
    for sid, (desc, key, checksum, nbytes, shape) in rows.items():
        path = settings.data_dir / "store" / key
        assert path.is_file(), f"study {sid} ({desc}) has no stored volume {key}"
        assert path.stat().st_size == nbytes, f"study {sid}: stored volume has the wrong size"
        assert sha256_file(path) == checksum, f"study {sid}: stored volume checksum differs"
        src = by_desc[desc]
        assert tuple(shape) == src.shape, f"study {sid}: shape {shape} != {src.shape}"
        vol = load_volume(store, Study(volume_key=key, meta={}))
        assert vol.array.shape == src.shape, f"study {sid}: volume is not complete"
        if src.hu is not None:
            assert np.array_equal(vol.array, src.hu), f"study {sid}: voxels differ"
    assert db.import_audit_ids() == sorted(rows), "audit 'study.import' events != studies"
    return {sid: desc for sid, (desc, *_) in rows.items()}


# --- the test ------------------------------------------------------------------------------

@pytest.mark.timeout(600)
@pytest.mark.parametrize("kill_at", ["after_first_commit", "between_write_and_commit",
                                     "real_series"])
def test_kill_cli_import_then_housekeeping_and_reimport(settings, tmp_path, kill_at):
    if kill_at == "real_series":
        real = need_real_series()
        first, last = _synthetic(tmp_path / "in", ["S0", "S2"])
        sources = [first, Source(real, "", None, (141, 512, 512)), last]
    else:
        sources = _synthetic(tmp_path / "in", [f"S{i}" for i in range(N_SERIES)])
    t0 = time.monotonic()
    env = _env(settings)
    db = Db(settings.resolved_database_url)
    cmd = [*CLI, "import", *[str(s.path) for s in sources], "--project", "P"]
    proc = _start(cmd, env, tmp_path / "cli.log")
    orphan: set[str] = set()
    try:
        def first_study_committed() -> bool:
            try:
                return len(db.studies()) >= 1
            except SQLAlchemyError:  # the CLI has not created the tables yet
                return False

        _wait(first_study_committed, proc, "the first study was committed")
        if kill_at == "between_write_and_commit":
            with _hold_write_lock(settings.resolved_database_url) as committed_keys:
                _wait(lambda: bool(_volume_files(settings) - committed_keys()), proc,
                      "a volume file was written that no committed study refers to")
                orphan = _volume_files(settings) - committed_keys()
                _kill(proc)
        else:
            _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    t_kill = time.monotonic() - t0
    before = db.studies()
    assert 1 <= len(before) < len(sources), f"the kill did not land mid-import: {before}"
    if kill_at == "between_write_and_commit":
        assert len(orphan) == 1, orphan

    # 1. a start right after the crash: fresh temporaries may be another process's writes
    temporaries = {k for k in _store_files(settings) if Path(k).name.startswith(".tmp-")}
    _startup_housekeeping(settings)
    survivors = _check_studies_whole(settings, db, sources)
    assert {sid: d for sid, (d, *_) in before.items()} == survivors, "a committed study changed"
    referenced = {key for _, key, *_ in db.studies().values()}
    assert {k for k in _store_files(settings) if Path(k).name.startswith(".tmp-")} == \
        temporaries, "a fresh .tmp- file (possibly a write in flight) was removed"
    unreferenced = _store_files(settings) - referenced - temporaries
    assert unreferenced <= orphan, f"unexpected unreferenced store files: {unreferenced}"
    assert orphan <= unreferenced, "a fresh orphan (possibly in-flight work) was removed"

    # 2. a start after the age limits: every leftover of the killed import is gone
    _age_everything(settings)
    _startup_housekeeping(settings)
    _check_studies_whole(settings, db, sources)
    assert _store_files(settings) == referenced, "unreferenced store files after housekeeping"
    assert _scratch(settings) == [], f"scratch left: {_scratch(settings)}"

    # 3. the same import again: imports the rest, reports the others as duplicates
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=WAIT_S * 2)
    assert r.returncode == 0, r.stdout + r.stderr
    statuses = re.findall(r"\│ (imported|duplicate|refused) +\│", r.stdout)
    assert sorted(statuses) == sorted(["duplicate"] * len(before)
                                      + ["imported"] * (len(sources) - len(before))), r.stdout
    after = _check_studies_whole(settings, db, sources)
    assert len(after) == len(sources), after
    assert {sid: after[sid] for sid in before} == survivors, "a study was re-imported"
    assert _store_files(settings) == {key for _, key, *_ in db.studies().values()}
    assert _scratch(settings) == []
    print(f"\n{kill_at}: killed after {t_kill:.1f} s with {len(before)}/{len(sources)} "
          f"studies committed, orphans {sorted(orphan)}; total {time.monotonic() - t0:.1f} s")


# --- lunglab datasets import ---------------------------------------------------------------

DATASET = "zenodo-3757476"
CASE_SHAPE_XYZ = (192, 160, 40)


def _zenodo_copy(root: Path, n: int) -> dict[str, np.ndarray]:
    """``n`` cases in the extracted layout of Zenodo record 3757476; expected labels [z,y,x]
    by study name."""
    import nibabel as nib

    expected = {}
    rng = np.random.default_rng(7)
    for i in range(1, n + 1):
        ct = rng.integers(-1000, 400, CASE_SHAPE_XYZ).astype(np.int16)
        lung = np.zeros(CASE_SHAPE_XYZ, np.uint8)
        lung[20 + i:150, 20:140, :] = 1
        infection = np.zeros(CASE_SHAPE_XYZ, np.uint8)
        infection[40:60 + 5 * i, 30:50, 5:20] = 1
        for folder, name, arr in (("COVID-19-CT-Seg_20cases", f"coronacases_org_{i:03d}", ct),
                                  ("Lung_Mask", f"coronacases_{i:03d}", lung),
                                  ("Infection_Mask", f"coronacases_{i:03d}", infection)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            nib.save(nib.Nifti1Image(arr, np.diag([0.8, 0.8, 5.0, 1.0])),
                     root / folder / f"{name}.nii.gz")
        labels = np.zeros(CASE_SHAPE_XYZ, np.uint8)
        labels[lung > 0] = 1
        labels[infection > 0] = 2
        expected[f"{DATASET} coronacases_{i:03d}"] = np.transpose(labels, (2, 1, 0))
    return expected


def _dataset_state(url: str) -> dict[str, tuple[int, int]]:
    """study name -> (study id, number of 'imported' label-map versions)."""
    from sqlalchemy import func, select

    from lunglab.db.models import LabelMapVersion, Study
    from lunglab.db.session import session_scope

    with session_scope(url) as db:
        counts = dict(db.execute(
            select(LabelMapVersion.study_id, func.count()).where(
                LabelMapVersion.kind == "imported").group_by(LabelMapVersion.study_id)).all())
        return {s.name: (s.id, counts.get(s.id, 0)) for s in db.scalars(select(Study))}


@pytest.mark.timeout(600)
def test_kill_cli_dataset_import_between_study_and_mask(settings, tmp_path):
    """``lunglab datasets import`` stores each case's study, then its mask (two commits).

    The kill lands after a study is committed and before its mask is: PostgreSQL by a lock on
    ``labelmap_versions`` held from the start (always); SQLite by taking the write lock as
    soon as the first study row appears (the mask is still being encoded then: on a loaded
    machine the lock can come late, and the kill then lands after the mask; the checks hold
    either way). Running the import again must give every case its study and its mask.
    """
    from lunglab.db.migrate import upgrade_to_head
    from lunglab.db.models import LabelMapVersion
    from lunglab.db.session import session_scope
    from lunglab.io.store import store_for
    from lunglab.services.ingest import housekeeping
    from lunglab.services.labels.labelmaps import read_labels

    url = settings.resolved_database_url
    expected = _zenodo_copy(tmp_path / "copy", 3)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(url)
    cmd = [*CLI, "datasets", "import", DATASET, "--from", str(tmp_path / "copy"),
           "--project", "D"]
    env = _env(settings)
    t0 = time.monotonic()
    proc: subprocess.Popen | None = None
    try:
        if url.startswith("sqlite"):
            proc = _start(cmd, env, tmp_path / "cli.log")
            _wait(lambda: len(_dataset_state(url)) >= 1, proc, "the first study was committed")
            with _hold_write_lock(url, "labelmap_versions"):
                _kill(proc)
        else:
            with _hold_write_lock(url, "labelmap_versions"):
                proc = _start(cmd, env, tmp_path / "cli.log")
                _wait(lambda: len(_dataset_state(url)) >= 1, proc,
                      "the first study was committed")
                _kill(proc)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    before = _dataset_state(url)
    in_window = [name for name, (_, masks) in before.items() if masks == 0]
    if not url.startswith("sqlite"):
        assert in_window, f"the kill did not land between a study and its mask: {before}"
    assert len(before) < len(expected), f"the kill did not land mid-import: {before}"

    _startup_housekeeping(settings)
    _age_everything(settings)
    _startup_housekeeping(settings)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=WAIT_S * 2)
    assert r.returncode == 0, r.stdout + r.stderr
    after = _dataset_state(url)
    assert sorted(after) == sorted(expected), after
    assert {n: after[n][0] for n in before} == {n: sid for n, (sid, _) in before.items()}
    missing = [n for n, (_, masks) in after.items() if masks != 1]
    assert not missing, (f"cases without exactly one imported mask after the re-run: {missing} "
                         f"(killed between study and mask: {in_window})")
    store = store_for(settings)
    with session_scope(url) as db:
        for name, (sid, _) in after.items():
            (version,) = db.query(LabelMapVersion).filter_by(study_id=sid).all()
            assert np.array_equal(read_labels(store, version), expected[name]), name
    _age_everything(settings)
    _startup_housekeeping(settings)
    referenced = housekeeping.referenced_keys(settings)
    assert _store_files(settings) <= referenced, "unreferenced store files after housekeeping"
    assert _scratch(settings) == []
    print(f"\ndataset: killed with {before} after {time.monotonic() - t0:.1f} s total")
