"""Readers and writers for CT inputs and outputs; de-identification; storage.

This package is a plain library: no database, no web framework.

- :func:`lunglab.io.scan.scan_upload`: the ingest service's entry point (files, zips, NIfTI ->
  de-identified :class:`~lunglab.io.results.ParsedSeries` and refusals);
- :func:`lunglab.io.load.load_ct`: one CT volume from a path, for the command line;
- :mod:`lunglab.io.dicom` (``series`` with ``header``, ``geometry``, ``pixels``,
  ``multiframe``): DICOM grouping, validation and volume building;
- :mod:`lunglab.io.nifti`: NIfTI volumes and label maps;
- :mod:`lunglab.io.archive` and :mod:`lunglab.io.limits`: safe zip expansion, upload limits;
- :mod:`lunglab.io.deid` (``pseudonyms``, ``profile``, ``dataset``): pseudonyms, whitelisted
  technical attributes, PS3.15 basic profile (see ``deid/DEID.md``);
- :mod:`lunglab.io.export` (``ct``, ``seg``, ``decathlon``): CT, DICOM SEG and dataset exports;
- :mod:`lunglab.io.catalog` (``entries``, ``local``, ``download``): open COVID-19 CT datasets;
- :mod:`lunglab.io.dicomweb`: QIDO/WADO/STOW client; :mod:`lunglab.io.store`: ``VolumeStore``.
"""
from __future__ import annotations
