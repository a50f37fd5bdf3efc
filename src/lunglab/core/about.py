"""What LungLab is: its version and the research-use notice every report and export carries."""
from __future__ import annotations

__version__ = "0.1.0"

RESEARCH_USE_NOTICE = (
    "LungLab is for research use only. It is not a medical device and must not be used "
    "for clinical diagnosis or treatment decisions."
)
