"""Request and response schemas of the radiograph endpoints (findings, scores, agreement)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class FindingsIn(BaseModel):
    """A reader's findings: RSNA category, Brixia zones A-F (0-3), RALE right/left (0-4)."""

    category: Literal["normal", "typical", "indeterminate", "atypical"]
    brixia: list[int] | None = Field(None, min_length=6, max_length=6)
    rale: list[int] | None = Field(None, min_length=2, max_length=2)
    note: str = Field("", max_length=2000)


class ReadingOut(BaseModel):
    study_id: int
    reader: str
    category: str
    brixia: list[int] | None
    brixia_total: int | None
    rale: list[int] | None
    rale_total: int | None
    note: str
    updated_at: datetime | None


class RadiographAi(BaseModel):
    """The project's active radiograph model (none is shipped; a project trains its own)."""

    available: bool
    message: str
    model: str | None = Field(None, description="name of the active radiograph model")


class RadiographOut(BaseModel):
    """What the radiograph page needs on top of the study: window, text flags, readings."""

    study_id: int
    modality: str
    source_kind: str
    window: list[float]
    text_regions: list[list[int]]
    text_blacked_out: bool
    my_reading: ReadingOut | None
    readings: list[ReadingOut]
    can_edit: bool
    ai: RadiographAi


class KappaPair(BaseModel):
    reader_a: str
    reader_b: str
    studies: int
    cohen_kappa: float | None
    weighted_kappa: float | None
    agreement: float


class CategoryAgreement(BaseModel):
    fleiss_kappa: float | None
    pairs: list[KappaPair]
    counts: dict[str, int]


class ScoreAgreement(BaseModel):
    icc: float | None
    icc_consistency: float | None
    studies: int
    readers: list[str]
    mean_by_reader: dict[str, float | None]


class StudyReadings(BaseModel):
    study_id: int
    study_name: str
    readers: dict[str, dict[str, str | int | None]]


class RadiographAgreementOut(BaseModel):
    project_id: int
    studies_read: int
    studies_compared: int
    category: CategoryAgreement
    brixia: ScoreAgreement
    rale: ScoreAgreement
    per_study: list[StudyReadings]
