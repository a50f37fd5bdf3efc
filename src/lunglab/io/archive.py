"""Safe expansion of uploaded zip archives.

- Entry names are sanitised into relative POSIX names; ``..`` components, absolute paths and
  drive letters are refused (zip slip) with :class:`InvalidInput` naming the entry.
- Files are written under ``dest`` with generated names (``000001.bin`` ...), never with names
  taken from the archive, so no entry can escape ``dest`` or overwrite another.
- Zip bombs: the declared and the actually written sizes are counted against a byte budget
  shared by the whole upload, and each entry's compression ratio is capped; exceeding either
  raises :class:`TooLarge` naming the archive.
- ``__MACOSX/`` folders, ``.DS_Store`` and ``Thumbs.db`` files and directory entries are skipped;
  archives inside archives are expanded up to ``UploadLimits.max_archive_depth``.
"""
from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lunglab.domain.errors import InvalidInput, TooLarge
from lunglab.io.limits import UploadLimits

_CHUNK = 1024 * 1024
_JUNK_FILES = {".ds_store", "thumbs.db", "desktop.ini"}
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass
class ExpansionBudget:
    """Bytes and files still allowed for one upload (shared by all its archives)."""

    bytes_left: int
    files_left: int

    @classmethod
    def from_limits(cls, limits: UploadLimits) -> ExpansionBudget:
        """A fresh budget for one upload."""
        return cls(limits.max_expanded_bytes, limits.max_files)


def safe_relative_name(name: str) -> str:
    """Sanitise a client or archive file name into a relative POSIX name.

    Backslashes count as separators; empty and ``.`` components are dropped.

    Raises:
        InvalidInput: absolute paths, drive letters, ``..`` components or control characters.
    """
    if any(ord(ch) < 32 for ch in name):
        raise InvalidInput("file name contains control characters", repr(name)[1:-1])
    unified = name.replace("\\", "/")
    if unified.startswith("/") or _DRIVE.match(unified):
        raise InvalidInput("absolute path in file name refused", name)
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidInput("'..' in file name refused (path traversal)", name)
    if not parts:
        raise InvalidInput("empty file name", name)
    return "/".join(parts)


def is_junk(name: str) -> bool:
    """Whether a relative name is operating-system clutter (``__MACOSX``, ``.DS_Store``...)."""
    parts = PurePosixPath(name).parts
    return (any(p == "__MACOSX" for p in parts) or parts[-1].lower() in _JUNK_FILES
            or parts[-1].startswith("._"))


def is_zip_name(name: str) -> bool:
    """Whether a name ends in ``.zip``."""
    return name.lower().endswith(".zip")


def expand_zip(
    archive: Path,
    archive_name: str,
    dest: Path,
    limits: UploadLimits,
    budget: ExpansionBudget | None = None,
    depth: int = 1,
) -> list[tuple[str, Path]]:
    """Expand a zip archive safely.

    Args:
        archive: the local zip file.
        archive_name: its name as given by the client (used in messages and as a prefix of
            the entry names).
        dest: an empty working folder owned by the caller.
        limits: expansion caps.
        budget: remaining bytes/files for the whole upload; a new one from ``limits`` if None.
        depth: nesting level of this archive (1 for an uploaded file).

    Returns:
        ``(archive_name/entry_name, local path)`` for every regular file, nested archives
        expanded in place.

    Raises:
        InvalidInput: not a zip file, encrypted entries, unsafe entry names.
        TooLarge: too many bytes or files, or an entry compressed suspiciously well.
    """
    budget = budget or ExpansionBudget.from_limits(limits)
    dest.mkdir(parents=True, exist_ok=True)
    out: list[tuple[str, Path]] = []
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput("not a valid zip archive", archive_name) from None
    with zf:
        infos = zf.infolist()
        entries = _select_entries(infos, archive_name, limits, budget)
        for index, (info, rel) in enumerate(entries):
            display = f"{archive_name}/{rel}"
            target = dest / f"{index:06d}.bin"
            _extract_entry(zf, info, target, archive_name, display, budget)
            if is_zip_name(rel) and depth < limits.max_archive_depth:
                out.extend(expand_zip(target, display, dest / f"{index:06d}.d", limits,
                                      budget, depth + 1))
                target.unlink()
            else:
                out.append((display, target))
    return out


def _select_entries(
    infos: list[zipfile.ZipInfo], archive_name: str, limits: UploadLimits,
    budget: ExpansionBudget,
) -> list[tuple[zipfile.ZipInfo, str]]:
    """Check every entry before writing anything; return the regular files to extract."""
    selected: list[tuple[zipfile.ZipInfo, str]] = []
    declared = 0
    for info in infos:
        rel = safe_relative_name(info.filename)  # raises on zip slip, before any write
        if info.is_dir() or is_junk(rel):
            continue
        file_type = stat.S_IFMT(info.external_attr >> 16)
        if file_type and file_type != stat.S_IFREG:
            raise InvalidInput("symbolic link or special file in archive refused",
                               f"{archive_name}/{rel}")
        if info.flag_bits & 0x1:
            raise InvalidInput("encrypted archive entry", f"{archive_name}/{rel}")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _CHUNK and ratio > limits.max_entry_ratio:
            raise TooLarge(f"{archive_name}: entry {rel} expands {ratio:.0f}x (limit "
                           f"{limits.max_entry_ratio:.0f}x): possible zip bomb")
        declared += info.file_size
        selected.append((info, rel))
    if declared > budget.bytes_left:
        raise TooLarge(f"{archive_name}: expands to {declared} bytes, more than the "
                       f"{budget.bytes_left} bytes allowed")
    if len(selected) > budget.files_left:
        raise TooLarge(f"{archive_name}: {len(selected)} files, more than the "
                       f"{budget.files_left} allowed")
    return selected


def _extract_entry(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, archive_name: str,
    display: str, budget: ExpansionBudget,
) -> None:
    """Copy one entry, counting real bytes (declared sizes may lie)."""
    written = 0
    limit = min(budget.bytes_left, info.file_size)
    try:
        with zf.open(info) as src, target.open("wb") as dst:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise TooLarge(f"{archive_name}: entry {display} expands beyond its "
                                   "declared size or the upload's byte limit")
                dst.write(chunk)
    except TooLarge:
        target.unlink(missing_ok=True)
        raise
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
        target.unlink(missing_ok=True)
        raise InvalidInput(f"corrupt or unsupported archive entry ({type(exc).__name__})",
                           display) from None
    budget.bytes_left -= written
    budget.files_left -= 1
