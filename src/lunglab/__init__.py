"""LungLab: chest CT to COVID-19 lung infection segmentation. Research use only.

Not for clinical diagnosis.
"""
from __future__ import annotations

from lunglab.core.about import RESEARCH_USE_NOTICE, __version__

_LAZY = {"segment_volume", "segment", "summarize", "Segmenter", "load_ct"}
__all__ = ["RESEARCH_USE_NOTICE", "__version__", *sorted(_LAZY)]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """Three lines for a data scientist, without importing torch on ``import lunglab``::

        import lunglab
        label_map, info = lunglab.segment_volume(lunglab.load_ct("path/to/dicom_folder"))
        print(lunglab.summarize(label_map, (0.7, 0.7, 5.0)))
    """
    if name == "load_ct":
        from lunglab.io.load import load_ct

        return load_ct
    if name in _LAZY:
        import lunglab.ml as ml

        return getattr(ml, name)
    raise AttributeError(f"module 'lunglab' has no attribute {name!r}")
