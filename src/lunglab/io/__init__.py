"""Readers and writers for CT inputs: DICOM series, NIfTI, uploaded archives; de-identification.

This package is a plain library: no database, no web framework. The ingest service calls
:func:`lunglab.io.scan.scan_upload`; the command line calls :func:`lunglab.io.load.load_ct`.
"""
from __future__ import annotations
