"""The one settings object: read once from `LEADWIRE_*` variables and `.env`, then passed down."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob leadwire has; nothing else reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix="LEADWIRE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("data"), description="Folder for SQLite files and keys.")
    host: str = Field(default="127.0.0.1", description="Address the servers listen on.")
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of leadwire's own store; default: SQLite in data_dir.",
    )
    secret_keys: SecretStr | None = Field(
        default=None,
        description=(
            "Keys sealing stored secrets: 'kid:base64,kid:base64', the first active; "
            "default: data_dir/keys.json."
        ),
    )
    crm_port: int = Field(default=8410, ge=0, le=65535, description="Port of the embedded CRM.")
    crm_database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the CRM store; default: SQLite in data_dir/crm.db.",
    )
    crm_public_url: str | None = Field(
        default=None, description="Base URL the CRM puts in links (nextPageUrl); default: its own."
    )
    crm_rate_burst: int = Field(default=100, ge=1, description="Requests per burst interval.")
    crm_rate_interval_ms: int = Field(default=10_000, ge=1, description="Burst interval.")
    crm_rate_daily: int = Field(default=200_000, ge=1, description="Requests per day.")
    crm_threads: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Worker threads of the CRM (writes are serialised: more only cost memory).",
    )
    crm_max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request.")
    crm_access_token_ttl_s: int = Field(default=86_399, ge=1)
    crm_refresh_token_ttl_s: int = Field(default=365 * 86_400, ge=1)
    crm_webhook_max_attempts: int = Field(default=8, ge=1)
    crm_webhook_backoff_base_s: float = Field(default=30.0, gt=0, description="First retry wait.")
    crm_webhook_backoff_cap_s: float = Field(default=3600.0, gt=0, description="Longest wait.")
    sandbox_port: int = Field(default=8420, ge=0, le=65535, description="Pinterest sandbox port.")
    sandbox_database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the sandbox store; default: SQLite in data_dir/sandbox.db.",
    )
    sandbox_public_url: str | None = Field(
        default=None, description="Base URL the sandbox puts in links (download_url)."
    )
    sandbox_rate_read_per_min: int = Field(default=1000, ge=1, description="ads_read per minute.")
    sandbox_rate_write_per_min: int = Field(default=400, ge=1, description="ads_write per min.")
    sandbox_access_token_ttl_s: int = Field(default=30 * 86_400, ge=1)
    sandbox_refresh_token_ttl_s: int = Field(default=60 * 86_400, ge=1)
    sandbox_delivery_max_attempts: int = Field(default=10, ge=1)
    sandbox_delivery_backoff_base_s: float = Field(default=2.0, gt=0, description="First wait.")
    sandbox_delivery_backoff_cap_s: float = Field(default=300.0, gt=0, description="Longest wait.")
    sandbox_export_delay_s: float = Field(
        default=2.0, ge=0, description="How long an export stays IN_PROGRESS."
    )
    sqlite_synchronous: str = Field(
        default="FULL",
        pattern="^(OFF|NORMAL|FULL|EXTRA)$",
        description="SQLite synchronous level; FULL survives a power cut in WAL mode.",
    )
    log_level: str = Field(default="INFO")

    # The receiver and API (`leadwire.web`).
    engine_port: int = Field(
        default=8400, ge=0, le=65535, description="Port of the receiver and the JSON API."
    )
    engine_public_url: str | None = Field(
        default=None,
        description=(
            "Base URL Pinterest reaches the receiver at (a tunnel, a load balancer); "
            "default: http://host:engine_port."
        ),
    )
    api_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token of the JSON API (/api/*); default: the one whose hash is in "
            "data_dir/api-token.sha256."
        ),
    )

    # The engine: the durable runtime's knobs (`RuntimeOptions.from_settings` reads them all).
    engine_checkpoint_synchronous: str = Field(
        default="NORMAL",
        pattern="^(OFF|NORMAL|FULL|EXTRA)$",
        description=(
            "SQLite synchronous level of the worker's checkpoints (OFF or NORMAL also turn "
            "PostgreSQL's synchronous_commit off for them); a checkpoint lost to a power cut "
            "only repeats idempotent calls. Intake stays at sqlite_synchronous."
        ),
    )
    engine_calls_per_step: int = Field(
        default=8,
        ge=1,
        le=100,
        description=(
            "Consecutive calls of a lead made in one checkpointed step: a crash repeats at most "
            "the group's calls, all idempotent; fewer checkpoints cost less CPU per lead."
        ),
    )
    engine_worker_concurrency: int = Field(
        default=16, ge=1, le=1024, description="Lead workflows one worker runs at once."
    )
    # A lead waits half an interval on average before a worker sees it: 0.05 s instead of
    # 0.1 s takes ~45 ms off lead-to-CRM p50 for 0.024 core more while idle (bench.engine).
    engine_polling_interval_s: float = Field(
        default=0.05,
        ge=0.01,
        le=60.0,
        description="How often a worker polls the queue (DBOS backs off under contention).",
    )
    engine_executor_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description=(
            "This worker's DBOS executor id: unique among running workers, the same across "
            "restarts (a restarted worker recovers what its previous life left pending); "
            "default: host name and a hash of data_dir."
        ),
    )
    engine_retry_base_s: float = Field(
        default=2.0, gt=0, description="Longest first wait before retrying a failed call."
    )
    engine_retry_cap_s: float = Field(
        default=900.0, gt=0, description="Longest wait between two attempts of a call."
    )
    engine_retry_window_s: float = Field(
        default=86_400.0,
        ge=0,
        description="How long a call is retried after its first failure before the inbox.",
    )
    engine_crm_burst: int = Field(
        default=100,
        ge=1,
        description="Calls per interval a CRM location is assumed to allow until it says.",
    )
    engine_crm_interval_s: float = Field(
        default=10.0, gt=0, description="The interval of engine_crm_burst."
    )
    engine_pool_size: int = Field(
        default=10,
        ge=1,
        le=200,
        description="Database connections per engine of a process (as many again overflow).",
    )
    engine_retention_days: int = Field(
        default=30,
        ge=1,
        description=(
            "Days finished runs (and their workflows) are kept; also how long a lead "
            "delivered again is recognised as a duplicate."
        ),
    )
    engine_inbox_retention_days: int = Field(
        default=14,
        ge=1,
        description="Days replayed or dismissed inbox items are kept; open ones always are.",
    )
    engine_prune_interval_s: float = Field(
        default=3600.0, ge=60, description="How often a worker prunes old runs."
    )
    engine_crm_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description=(
            "How long the engine waits for the CRM's answer; a call that times out is retried "
            "(every call is idempotent)."
        ),
    )
    engine_poll_interval_s: float = Field(
        default=900.0,
        ge=0,
        description=(
            "How often workers poll Pinterest's leads exports for leads a webhook missed "
            "(a safety net; 0: never)."
        ),
    )
    engine_poll_overlap_days: int = Field(
        default=2, ge=0, le=30, description="Days each poll looks back before its cursor."
    )

    @model_validator(mode="after")
    def _check_engine_retry(self) -> Self:
        if self.engine_retry_base_s > self.engine_retry_cap_s:
            raise ValueError("engine_retry_base_s must not exceed engine_retry_cap_s")
        return self

    def app_url(self) -> str:
        """Return the app store's SQLAlchemy URL, defaulting to SQLite in the data folder."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'leadwire.db').resolve()}"

    def sandbox_url(self) -> str:
        """Return the sandbox store's SQLAlchemy URL, defaulting to SQLite in the data folder."""
        if self.sandbox_database_url is not None:
            return self.sandbox_database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'sandbox.db').resolve()}"

    def crm_url(self) -> str:
        """Return the CRM store's SQLAlchemy URL, defaulting to SQLite in the data folder."""
        if self.crm_database_url is not None:
            return self.crm_database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'crm.db').resolve()}"

    def executor_id(self) -> str:
        """Return this worker's executor id: the setting, or one stable per host and data folder.

        Two workers on one host with one data folder must each set `engine_executor_id`.
        """
        if self.engine_executor_id is not None:
            return self.engine_executor_id
        folder = hashlib.blake2b(str(self.data_dir.resolve()).encode(), digest_size=4).hexdigest()
        return f"{socket.gethostname()}-{folder}"
