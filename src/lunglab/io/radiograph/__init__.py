"""Chest radiographs: CR/DX DICOM and PNG/JPEG pictures read into one-slice studies.

A radiograph becomes a :class:`~lunglab.io.results.ParsedSeries` whose volume has shape
``(1, rows, columns)``: display orientation, higher values brighter (MONOCHROME1 inverted),
after the Modality LUT and, for a non-linear VOI LUT, after that too. ``meta`` carries the
default window (``RadiographWindow``: centre, width) and the suspected burned-in text regions
(``TextRegions``). See :mod:`lunglab.io.radiograph.pixels` and
:mod:`lunglab.io.radiograph.parse`.
"""
from __future__ import annotations

from lunglab.io.radiograph.parse import (
    RadiographOptions,
    is_picture_file,
    parse_picture,
    read_dicom_and_radiographs,
)

__all__ = ["RadiographOptions", "is_picture_file", "parse_picture",
           "read_dicom_and_radiographs"]
