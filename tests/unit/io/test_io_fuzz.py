"""Robustness: damaged files are refused with a reason, never crash the scan."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicom_factory import make_ct_series
from lunglab.io.limits import UploadLimits
from lunglab.io.scan import scan_upload

_SETTINGS = settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


def _scan(files: list[tuple[str, Path]], tmp: Path):  # type: ignore[no-untyped-def]
    return scan_upload(files, project_secret=b"s", limits=UploadLimits(), workdir=tmp / "w")


@_SETTINGS
@given(cut=st.integers(min_value=0, max_value=1400), flips=st.lists(
    st.tuples(st.integers(0, 1400), st.integers(0, 255)), max_size=4))
def test_truncated_or_corrupted_slice_is_refused_or_read(cut: int,
                                                         flips: list[tuple[int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        s = make_ct_series(tmp / "s", shape=(3, 16, 16))
        raw = bytearray(s.paths[1].read_bytes())
        for offset, value in flips:
            if offset < len(raw):
                raw[offset] = value
        s.paths[1].write_bytes(bytes(raw[:cut]) if cut < len(raw) else bytes(raw))
        result = _scan([(p.name, p) for p in s.paths], tmp)
        assert len(result.series) + len(result.refused) >= 1
        for refusal in result.refused:
            assert refusal.reason
        for series in result.series:
            assert series.volume.array.shape[1:] == (16, 16)


@_SETTINGS
@given(data=st.binary(min_size=0, max_size=2000))
def test_random_bytes_are_refused(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name in ("x.dcm", "x.zip", "x.nii", "x.nii.gz"):
            (tmp / name).write_bytes(data)
            result = _scan([(name, tmp / name)], tmp)
            assert not result.series
