"""Size limits applied to an upload before and while it is expanded and parsed."""
from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class UploadLimits:
    """Caps that protect the server from oversized or malicious uploads.

    Args:
        max_files: most input files (after archive expansion) in one upload.
        max_expanded_bytes: most bytes all archives of one upload may expand to, together.
        max_entry_ratio: largest uncompressed/compressed size ratio of one archive entry
            (zip bombs compress by 1000x and more; CT DICOM compresses by 2-10x).
        max_archive_depth: how deep archives inside archives are expanded (1 = no nesting).
        max_slices_per_series: most slices in one series.
        max_voxels_per_series: most voxels in one volume (guards memory).
    """

    max_files: int = 50_000
    max_expanded_bytes: int = 16 * GIB
    max_entry_ratio: float = 200.0
    max_archive_depth: int = 2
    max_slices_per_series: int = 5_000
    max_voxels_per_series: int = 1024 * 1024 * 1_500
