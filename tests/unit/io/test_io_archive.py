"""Zip expansion: safe names, zip slip, zip bombs, clutter, nesting."""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from lunglab.domain.errors import InvalidInput, TooLarge
from lunglab.io.archive import expand_zip, safe_relative_name
from lunglab.io.limits import UploadLimits


def make_zip(path: Path, entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED
             ) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name) if name.endswith("/") else name, data)
    return path


@pytest.mark.parametrize("name,expected", [
    ("a/b/c.dcm", "a/b/c.dcm"), ("a\\b\\c.dcm", "a/b/c.dcm"), ("./a//b.dcm", "a/b.dcm"),
])
def test_safe_relative_name_normalises(name: str, expected: str) -> None:
    assert safe_relative_name(name) == expected


@pytest.mark.parametrize("name", [
    "../evil.dcm", "a/../../evil", "/etc/passwd", "C:\\Windows\\evil.dcm", "c:evil",
    "..\\evil.dcm", "a/\x00b", "", "./",
])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        safe_relative_name(name)


def test_expand_nested_folders_skips_clutter(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "up.zip", {
        "study/": b"", "study/series/1.dcm": b"one", "study/series/2.dcm": b"two",
        "__MACOSX/study/._1.dcm": b"junk", "study/.DS_Store": b"junk",
    })
    out = expand_zip(z, "up.zip", tmp_path / "x", UploadLimits())
    assert sorted(n for n, _ in out) == ["up.zip/study/series/1.dcm", "up.zip/study/series/2.dcm"]
    for _, path in out:
        assert path.resolve().is_relative_to((tmp_path / "x").resolve())
    assert {p.read_bytes() for _, p in out} == {b"one", b"two"}


@pytest.mark.parametrize("evil", ["../../outside.dcm", "/abs/outside.dcm", "C:/outside.dcm"])
def test_zip_slip_is_refused_before_writing(tmp_path: Path, evil: str) -> None:
    z = make_zip(tmp_path / "evil.zip", {"ok.dcm": b"fine", evil: b"pwned"})
    with pytest.raises(InvalidInput) as err:
        expand_zip(z, "evil.zip", tmp_path / "x", UploadLimits())
    assert evil in str(err.value)
    assert not list((tmp_path / "x").rglob("*.bin"))
    assert not (tmp_path / "outside.dcm").exists()


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "bomb.zip", {"zeros.dcm": bytes(20 * 1024 * 1024)})
    with pytest.raises(TooLarge) as err:
        expand_zip(z, "bomb.zip", tmp_path / "x", UploadLimits())
    assert "bomb.zip" in str(err.value)


def test_expanded_byte_budget(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "big.zip", {f"{i}.dcm": bytes(range(256)) * 40 for i in range(5)},
                 zipfile.ZIP_STORED)
    with pytest.raises(TooLarge) as err:
        expand_zip(z, "big.zip", tmp_path / "x", UploadLimits(max_expanded_bytes=30_000))
    assert "big.zip" in str(err.value)


def test_lying_declared_size_is_caught(tmp_path: Path) -> None:
    data = bytes(range(256)) * 400
    z = make_zip(tmp_path / "lie.zip", {"a.dcm": data})
    raw = bytearray(z.read_bytes())
    local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
    raw[local + 22:local + 26] = (1000).to_bytes(4, "little")  # declare 1000 bytes
    raw[central + 24:central + 28] = (1000).to_bytes(4, "little")
    z.write_bytes(bytes(raw))
    with pytest.raises(InvalidInput) as err:
        expand_zip(z, "lie.zip", tmp_path / "x", UploadLimits())
    assert "lie.zip/a.dcm" in str(err.value)
    assert all(p.stat().st_size <= 1000 for p in (tmp_path / "x").rglob("*"))


def test_symlink_entry_is_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("link.dcm")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "l.zip", "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(InvalidInput, match="symbolic link"):
        expand_zip(tmp_path / "l.zip", "l.zip", tmp_path / "x", UploadLimits())


def test_too_many_files(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "many.zip", {f"{i}.dcm": b"x" for i in range(6)})
    with pytest.raises(TooLarge):
        expand_zip(z, "many.zip", tmp_path / "x", UploadLimits(max_files=5))


def test_nested_zip_is_expanded_once(tmp_path: Path) -> None:
    inner = make_zip(tmp_path / "inner.zip", {"i.dcm": b"inner"})
    outer = make_zip(tmp_path / "outer.zip", {"sub/inner.zip": inner.read_bytes(),
                                              "o.dcm": b"outer"})
    out = expand_zip(outer, "outer.zip", tmp_path / "x", UploadLimits(max_archive_depth=2))
    assert sorted(n for n, _ in out) == ["outer.zip/o.dcm", "outer.zip/sub/inner.zip/i.dcm"]


def test_not_a_zip(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InvalidInput):
        expand_zip(bad, "bad.zip", tmp_path / "x", UploadLimits())
