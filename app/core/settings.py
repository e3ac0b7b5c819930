"""Settings from config/default.yaml, overridden by MELDKAMER_* environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def config_dir() -> Path:
    return Path(os.environ.get("MELDKAMER_CONFIG_DIR", PROJECT_ROOT / "config"))


# Secrets that production refuses to start without. Each names its setting in the error.
PRODUCTION_SECRETS = ("whatsapp_app_secret", "whatsapp_verify_token", "whatsapp_access_token",
                      "audit_pseudonym_key")


class MissingSecretError(RuntimeError):
    def __init__(self, names: list[str]) -> None:
        env_names = ", ".join(f"MELDKAMER_{name.upper()}" for name in names)
        super().__init__(f"production mode needs these secrets set: {env_names}")
        self.names = names


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MELDKAMER_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///var/meldkamer.db"
    data_dir: Path = Path("var")
    sqlite_busy_timeout_ms: int = 5000
    log_level: str = "INFO"
    log_json: bool = True

    # /docs with /openapi.json, and /metrics: None means on, except in production (where an operator turns
    # them on deliberately, for example behind a reverse proxy that keeps /metrics internal).
    api_docs_enabled: bool | None = None
    metrics_enabled: bool | None = None

    max_body_bytes: int = 1_048_576
    max_upload_bytes: int = 26_214_400

    staff_session_hours: int = 12
    beheerder_token_days: int = 365
    wall_token_days: int = 730
    login_max_failures: int = 5  # per user name, known or not, within the lockout window
    login_address_max_failures: int = 20  # per client address (password spraying), within the same window
    login_lockout_minutes: int = 15

    display_timezone: str = "Europe/Amsterdam"

    intake_reports_per_minute: int = 30
    intake_burst: int = 10
    photo_max_bytes: int = 10_485_760
    photo_max_pixels: int = 24_000_000  # per image: a 6000x4000 camera; phones take 12 MP
    photo_megapixels_per_minute: int = 200  # decoded per beheerder (REST and WhatsApp together)
    photos_per_report: int = 4
    photo_pool_kind: Literal["process", "thread"] = "process"  # where photos are decoded (docs/performance.md)
    photo_workers: int = 1
    photo_pool_capacity: int = 16  # images decoding or waiting; more uploads at once are refused with 503
    photo_orphan_grace_minutes: float = 60.0  # a photo file no committed report names is deleted after this
    photo_orphan_sweep_minutes: float = 60.0
    media_max_attempts: int = 8
    webhook_max_age_seconds: int = 300
    claim_sweep_seconds: float = 15.0  # how soon an expired claim on an incident disappears from the screens
    claim_seconds: int = Field(default=600, ge=65, le=7200)  # a claim's life; the console warns a minute before
    operation_sweep_seconds: float = 30.0  # how soon an operation opens or closes after its start or end
    # How long after an operation closed the numbers of its public participants are kept (then removed).
    operation_public_retention_days: int = Field(default=28, ge=0, le=365)

    # Retention (app/privacy, docs/privacy.md): days each kind of personal data is kept, unless an operator
    # marked the incident for keeping; then retention_kept_days from the mark (Wet politiegegevens) applies.
    retention_report_text_days: int = Field(default=28, ge=1)
    retention_photo_days: int = Field(default=28, ge=1)
    retention_phone_days: int = Field(default=28, ge=1)
    retention_note_days: int = Field(default=28, ge=1)
    retention_reply_days: int = Field(default=28, ge=1)
    retention_login_name_days: int = Field(default=28, ge=1)  # the name of an account a failed login tried
    retention_kept_days: int = Field(default=365, ge=1)
    retention_purge_hours: float = 24.0  # the purge job runs this often (and ten minutes after start-up)
    retention_batch: int = Field(default=500, ge=1)  # rows per purge transaction

    whatsapp_api_base: str = "https://graph.facebook.com/v21.0"
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_access_token: SecretStr | None = None
    partner_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    # The key of the audit log's pseudonyms (app.core.pseudonym): a subject-access request's number and the
    # name a failed login tried are kept only as HMACs under it.
    audit_pseudonym_key: SecretStr | None = None

    # Broadcast and feedback: the delivery outbox and its workers (app/broadcast).
    broadcast_worker_in_app: bool = True
    broadcast_worker_pipelines: int = 4
    broadcast_worker_batch: int = 200
    broadcast_poll_seconds: float = 1.0
    broadcast_http_timeout_seconds: float = 10.0
    broadcast_unknown_grace_seconds: float = 30.0
    broadcast_max_attempts: int = 6
    broadcast_retry_base_seconds: float = 5.0
    broadcast_retry_max_seconds: float = 900.0
    broadcast_whatsapp_rate_per_second: float = 80.0
    broadcast_whatsapp_pair_seconds: float = 6.0
    broadcast_webhook_rate_per_second: float = 50.0
    broadcast_email_rate_per_second: float = 10.0
    broadcast_webhook_url: str | None = None
    broadcast_webhook_secret: SecretStr | None = None
    broadcast_progress_seconds: float = 1.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=config_dir() / "default.yaml")
        return (init_settings, env_settings, yaml_source)

    def missing_production_secrets(self) -> list[str]:
        return [name for name in PRODUCTION_SECRETS if not _is_set(getattr(self, name))]

    def check_production_secrets(self) -> None:
        if self.environment == "production":
            missing = self.missing_production_secrets()
            if missing:
                raise MissingSecretError(missing)

    @property
    def serves_api_docs(self) -> bool:
        return self.api_docs_enabled if self.api_docs_enabled is not None else self.environment != "production"

    @property
    def serves_metrics(self) -> bool:
        return self.metrics_enabled if self.metrics_enabled is not None else self.environment != "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"


def _is_set(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value())


@lru_cache
def get_settings() -> Settings:
    return Settings()
