"""Readers and writers for CT inputs: DICOM series, NIfTI, uploaded archives; de-identification.

This package is a plain library: no database, no web framework.

- :func:`lunglab.io.scan.scan_upload`: the ingest service's entry point (files, zips, NIfTI ->
  de-identified :class:`~lunglab.io.results.ParsedSeries` and refusals);
- :func:`lunglab.io.load.load_ct`: one CT volume from a path, for the command line;
- :mod:`lunglab.io.dicom_series` (with ``dicom_header``, ``dicom_geometry``, ``dicom_pixels``):
  DICOM grouping, validation and volume building;
- :mod:`lunglab.io.nifti`: NIfTI volumes and label maps;
- :mod:`lunglab.io.archive`: safe zip expansion;
- :mod:`lunglab.io.deid`, ``deid_profile``, ``deid_dataset``: pseudonyms, whitelisted
  technical attributes, PS3.15 basic profile (see ``DEID.md``);
- :mod:`lunglab.io.catalog` (+ ``catalog_download``): open COVID-19 CT datasets.
"""
from __future__ import annotations
