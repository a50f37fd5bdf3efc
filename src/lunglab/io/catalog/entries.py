"""Catalog of open COVID-19 CT datasets: the entries of the packaged ``catalog.json``.

The entries hold URL, licence, citation, files with sha256 where known, and the label mapping
to LungLab's 0 background / 1 lung / 2 GGO / 3 consolidation. :mod:`.download` fetches their
files; :mod:`.local` turns a local copy into volumes with LungLab label maps.

Example:
    >>> entry = get_entry("zenodo-3757476")
    >>> entry.license_verified  # doctest: +SKIP
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from lunglab.domain.errors import NotFound


@dataclass(frozen=True)
class CatalogFile:
    """One downloadable file of a dataset; ``sha256`` is None when not known offline."""

    name: str
    url: str
    sha256: str | None = None
    checksum_note: str = ""


@dataclass(frozen=True)
class CatalogEntry:
    """One dataset of the catalog (see ``catalog.json`` for the fields' meaning)."""

    name: str
    title: str
    homepage: str
    license: str
    license_verified: bool
    citation: str
    layout: str
    files: tuple[CatalogFile, ...] = ()
    doi: str | None = None
    content: str = ""
    download_note: str = ""
    label_mapping: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The dataset's landing page (alias of ``homepage``)."""
        return self.homepage


def load_catalog() -> list[CatalogEntry]:
    """Read the packaged ``catalog.json``."""
    text = (resources.files("lunglab.io.catalog").joinpath("catalog.json")
            .read_text(encoding="utf-8"))
    entries = []
    for raw in json.loads(text)["entries"]:
        files = tuple(CatalogFile(**f) for f in raw.pop("files", []))
        entries.append(CatalogEntry(files=files, **raw))
    return entries


def get_entry(name: str) -> CatalogEntry:
    """The catalog entry called ``name``.

    Raises:
        NotFound: no such entry.
    """
    for entry in load_catalog():
        if entry.name == name:
            return entry
    raise NotFound(f"no dataset {name!r} in the catalog")
