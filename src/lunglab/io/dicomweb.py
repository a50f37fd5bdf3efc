"""DICOMweb client side (QIDO-RS search, WADO-RS retrieve, STOW-RS store) via dicomweb-client.

Search results come straight from the PACS and may hold identifying data: callers show them
to the user who asked and never store or log them. What is retrieved goes through LungLab's
de-identifying ingest like any upload.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from lunglab.domain.errors import InvalidInput


@dataclass(frozen=True)
class DicomwebConfig:
    """Where a project's PACS is.

    Args:
        url: base URL of the DICOMweb service (e.g. ``http://pacs:8042/dicom-web``).
        username / password: HTTP basic auth, if the server needs it.
        timeout_s: per-request timeout.
        attempts: tries per request on 408/429/503/504 answers (exponential back-off).
    """

    url: str
    username: str | None = None
    password: str | None = None
    timeout_s: float = 60.0
    attempts: int = 3

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise InvalidInput("the DICOMweb URL must start with http:// or https://")


def make_client(config: DicomwebConfig) -> Any:
    """A ``dicomweb_client.DICOMwebClient`` for the configured server."""
    import requests
    from dicomweb_client.api import DICOMwebClient

    session = requests.Session()
    if config.username:
        session.auth = (config.username, config.password or "")
    client = DICOMwebClient(url=config.url.rstrip("/"), session=session,
                            timeout=config.timeout_s)
    client.set_http_retry_params(retry=config.attempts > 1, max_attempts=max(1, config.attempts),
                                 wait_exponential_multiplier=250)
    return client


def _value(item: dict[str, Any], tag: str) -> Any:
    values = item.get(tag, {}).get("Value") or []
    if not values:
        return None
    v = values[0]
    if isinstance(v, dict) and "Alphabetic" in v:
        return v["Alphabetic"]
    return values if len(values) > 1 else v


def search_studies(client: Any, *, patient_id: str | None = None, study_date: str | None = None,
                   modality: str | None = None, study_uid: str | None = None,
                   limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """QIDO-RS study search.

    Returns:
        ``[{"study_uid", "patient_id", "patient_name", "study_date", "description",
        "modalities", "series", "instances"}]`` (values as the PACS sends them).
    """
    filters: dict[str, Any] = {}
    if patient_id:
        filters["PatientID"] = patient_id
    if study_date:
        filters["StudyDate"] = study_date
    if modality:
        filters["ModalitiesInStudy"] = modality
    if study_uid:
        filters["StudyInstanceUID"] = study_uid
    fields = ["StudyDescription", "ModalitiesInStudy", "NumberOfStudyRelatedSeries",
              "NumberOfStudyRelatedInstances"]
    rows = client.search_for_studies(search_filters=filters, fields=fields, limit=limit,
                                     offset=offset)
    return [{
        "study_uid": _value(r, "0020000D"),
        "patient_id": _value(r, "00100020"),
        "patient_name": _value(r, "00100010"),
        "study_date": _value(r, "00080020"),
        "description": _value(r, "00081030"),
        "modalities": _value(r, "00080061"),
        "series": _value(r, "00201206"),
        "instances": _value(r, "00201208"),
    } for r in rows]


def search_series(client: Any, study_uid: str, *, modality: str | None = None
                  ) -> list[dict[str, Any]]:
    """QIDO-RS series search within a study: ``[{"series_uid", "modality", "description",
    "instances"}]``."""
    filters = {"Modality": modality} if modality else None
    rows = client.search_for_series(study_instance_uid=study_uid, search_filters=filters,
                                    fields=["SeriesDescription", "NumberOfSeriesRelatedInstances"])
    return [{
        "series_uid": _value(r, "0020000E"),
        "modality": _value(r, "00080060"),
        "description": _value(r, "0008103E"),
        "instances": _value(r, "00201209"),
    } for r in rows]


def retrieve_series(client: Any, study_uid: str, series_uid: str, folder: Path,
                    max_instances: int = 5000) -> list[Path]:
    """WADO-RS: fetch every instance of a series and write them to ``folder``.

    Raises:
        InvalidInput: the series is empty or larger than ``max_instances``.
    """
    instances = client.retrieve_series(study_uid, series_uid)
    if not instances:
        raise InvalidInput(f"series {series_uid} has no instances on the PACS")
    if len(instances) > max_instances:
        raise InvalidInput(f"series has {len(instances)} instances (limit {max_instances})")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, ds in enumerate(instances):
        path = folder / f"{i:06d}.dcm"
        ds.save_as(path, enforce_file_format=False)
        paths.append(path)
    return paths


def store(client: Any, datasets: Sequence[Dataset], batch: int = 50) -> int:
    """STOW-RS the datasets in batches; return how many were stored.

    Raises:
        InvalidInput: the server reports failed instances.
    """
    stored = 0
    for start in range(0, len(datasets), batch):
        chunk = list(datasets[start:start + batch])
        response = client.store_instances(chunk)
        failed = getattr(response, "FailedSOPSequence", None) if response is not None else None
        if failed:
            raise InvalidInput(f"the PACS refused {len(failed)} instance(s)")
        stored += len(chunk)
    return stored
