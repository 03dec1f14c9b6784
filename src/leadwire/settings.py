"""The one settings object: read once from `LEADWIRE_*` variables and `.env`, then passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
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
