"""Configuration from environment variables (``LUNGLAB_*``) and an optional ``lunglab.env`` file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All of LungLab's settings.

    Every value can be set with an environment variable named ``LUNGLAB_<FIELD>``
    (for example ``LUNGLAB_DATA_DIR``) or in the file named by ``LUNGLAB_ENV_FILE``
    (default ``lunglab.env`` in the working directory).
    """

    model_config = SettingsConfigDict(
        env_prefix="LUNGLAB_", env_file="lunglab.env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("lunglab-data"),
                           description="Every stored file lives here.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/lunglab.db. "
        "Deployments: postgresql+psycopg://user@host/db",
    )
    job_runner: Literal["local", "celery"] = "local"
    celery_broker_url: str = "redis://127.0.0.1:6379/0"
    celery_result_backend: str | None = None
    max_upload_bytes: int = 4 * 1024**3
    save_slots: int = Field(
        default=0, ge=0,
        description="label-map saves a server process prepares at once; 0: 1 per core, 2-16",
    )
    download_streams: int = Field(
        default=0, ge=0,
        description="large downloads (CT, label maps, exports) a server process streams at "
                    "once; 0: 1 per core, at least 2",
    )
    max_expanded_zip_bytes: int = 8 * 1024**3
    max_zip_ratio: float = 200.0
    session_hours: float = 12.0
    cookie_secure: bool = False
    login_max_failures: int = 5
    login_window_seconds: int = 300
    auto_segment_on_import: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"
    local_worker_processes: int = 1
    job_niceness: int = Field(
        default=10, ge=0, le=19,
        description="CPU niceness of the local runner's job processes (0: same as the server)",
    )
    secret_key: str | None = None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lunglab.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (cached). Tests call ``get_settings.cache_clear()``."""
    return Settings()
