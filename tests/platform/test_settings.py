"""Configuration: YAML defaults, MELDKAMER_* overrides, and no usable default for any secret."""

from __future__ import annotations

import pytest

from app.core.settings import MissingSecretError, Settings
from app.factory import create_app


def test_defaults_come_from_config_default_yaml(monkeypatch):
    monkeypatch.delenv("MELDKAMER_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///var/meldkamer.db"
    assert settings.max_body_bytes == 1_048_576


def test_environment_overrides_yaml(monkeypatch):
    monkeypatch.setenv("MELDKAMER_DATABASE_URL", "postgresql+asyncpg://u@db/meldkamer")
    monkeypatch.setenv("MELDKAMER_MAX_BODY_BYTES", "2048")
    settings = Settings()
    assert settings.database_url.startswith("postgresql+asyncpg://") and not settings.is_sqlite
    assert settings.max_body_bytes == 2048


def test_production_without_secrets_refuses_to_start_and_names_them(monkeypatch):
    for name in ("APP_SECRET", "VERIFY_TOKEN", "ACCESS_TOKEN"):
        monkeypatch.delenv(f"MELDKAMER_WHATSAPP_{name}", raising=False)
    monkeypatch.setenv("MELDKAMER_WHATSAPP_APP_SECRET", "s3cret")
    settings = Settings(environment="production")
    with pytest.raises(MissingSecretError) as error:
        create_app(settings, configure_logs=False)
    assert "MELDKAMER_WHATSAPP_VERIFY_TOKEN" in str(error.value)
    assert "MELDKAMER_WHATSAPP_ACCESS_TOKEN" in str(error.value)
    assert "APP_SECRET" not in str(error.value)


def test_secrets_do_not_leak_in_repr(monkeypatch):
    monkeypatch.setenv("MELDKAMER_WHATSAPP_APP_SECRET", "very-secret-value")
    assert "very-secret-value" not in repr(Settings())
