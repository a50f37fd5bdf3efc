"""LungLab: chest CT to COVID-19 lung infection segmentation. Research use only.

Not for clinical diagnosis.
"""
from __future__ import annotations

__version__ = "0.1.0"

RESEARCH_USE_NOTICE = (
    "LungLab is for research use only. It is not a medical device and must not be used "
    "for clinical diagnosis or treatment decisions."
)
