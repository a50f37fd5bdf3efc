"""Schemas of the training, model-registry and queue endpoints."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lunglab.api.schemas.page import Page
from lunglab.api.schemas.resources import JobPublic
from lunglab.api.schemas.fields import DbId, ShippedOrId, UtcDateTime


class TrainCreate(BaseModel):
    """The Train dialog. Every field has a default: one more click starts a run."""

    model_config = ConfigDict(extra="forbid")
    base_version_id: DbId | None = Field(None, description="model version; default: the "
                                          "active one")
    epochs: int = Field(10, ge=1, le=1000, strict=True)
    time_budget_s: float | None = Field(None, gt=0, description="stop after the epoch that "
                                        "would pass this budget")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = Field(0, ge=0, le=2**32 - 1, strict=True)
    from_scratch: bool = Field(False, description="random initial weights instead of a base")
    arch: str = Field("unet2d", description="only when training from scratch")
    batch_size: int = Field(8, ge=1, le=256, strict=True)
    patch: int = Field(160, ge=32, le=1024, strict=True)
    lr: float = Field(5e-4, gt=0, lt=1)
    slices_per_epoch: int = Field(200, ge=1, le=1_000_000, strict=True)
    val_slices_per_case: int = Field(8, ge=1, le=512, strict=True)
    cache_cases: int = Field(3, ge=1, le=64, strict=True)
    world_size: int = Field(1, ge=1, le=16, strict=True,
                            description="DDP processes (GPUs with cuda)")
    modality: Literal["ct", "xr"] = Field("ct", description="ct: the CT model; xr: a chest "
                                          "radiograph model from the approved radiographs "
                                          "(from scratch unless one is active)")
    smartclick_iterations: int | None = Field(
        None, ge=0, le=5000, strict=True,
        description="CT runs: iterations of the Smart click model's fine-tune after training "
                    "(default: 25 per epoch, at most 150; 0: no fine-tune)")
    xr_grid: int = Field(256, ge=64, le=1024, strict=True, description="radiographs only: "
                         "the square size, in pixels, the whole image is resized to")


class TrainStarted(BaseModel):
    run: dict[str, Any]
    job: JobPublic


class ModelVersionPublic(BaseModel):
    id: int
    project_id: int
    number: int
    name: str
    state: Literal["candidate", "active", "retired"]
    modality: Literal["ct", "xr"] = Field(description="ct: CT volumes; xr: chest radiographs")
    base_version_id: int | None
    base_model: str | None
    lineage: list[dict[str, Any]]
    arch: str
    config: dict[str, Any]
    seed: int
    data_snapshot: list[dict[str, int]]
    val_study_ids: list[int]
    metrics: dict[str, Any]
    comparison: dict[str, Any] | None
    run_id: int | None
    created_by: str | None
    created_at: UtcDateTime
    promoted_at: UtcDateTime | None
    promotion_reason: str | None


class ShippedModelPublic(BaseModel):
    """Version 0 of every project: the model shipped with LungLab, with its card."""

    id: Literal[0] = 0
    number: Literal[0] = 0
    name: str
    state: Literal["active", "retired"]
    arch: str
    card: str = Field(description="the model card (markdown)")


class ModelVersionsPublic(Page[ModelVersionPublic]):
    """The page of a project's trained versions, with the active and the shipped model."""

    data: list[ModelVersionPublic] = Field(description="the project's trained versions")
    active_id: int | None = Field(None, description="None: the shipped model (version 0) is active")
    shipped: ShippedModelPublic | None = None
    active_name: str | None = Field(None, description="name of the CT model in use")
    active_radiograph_id: int | None = Field(None, description="the active radiograph model "
                                             "(None: no radiograph model; none is shipped)")


class PromoteIn(BaseModel):
    override: bool = False
    reason: str | None = Field(None, max_length=2000)


class RollbackIn(BaseModel):
    version_id: ShippedOrId | None = Field(None, description="None: the previously active "
                                           "version; 0: no project model (the shipped "
                                           "default)")
    modality: Literal["ct", "xr"] = Field("ct", description="which model to roll back when "
                                          "version_id is None or 0 (xr and 0: no radiograph "
                                          "model)")
