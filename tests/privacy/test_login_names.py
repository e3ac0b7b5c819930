"""Failed logins in the audit log: the name of an existing account is readable until its retention period and
then only the fact remains (when, from where, which account: the brute-force figures); a name no account has,
perhaps a password typed into the wrong field, is never stored readably. The audit log's pseudonyms need a key:
production refuses to start without one, elsewhere one is generated once per data directory."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.audit.models import AuditEntry, AuditPersonal
from app.core.database import utcnow
from app.core.pseudonym import audit_key
from app.core.settings import MissingSecretError, Settings
from app.factory import create_app
from app.privacy.retention import purge
from tests.support import builders
from tests.support.http import bearer
from tests.support.settings import TEST_SECRETS

TYPED_PASSWORD = "Zomer2026!Kerkweg"
PURGED = "verwijderd na bewaartermijn"


async def _failed_logins(client, admin: dict[str, str]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (await client.get("/api/v1/admin/audit", params={"action": "login.failed"},
                                                      headers=admin)).json()
    return entries


async def _stored_login_entries(app: FastAPI) -> str:
    """Everything the audit tables hold about failed logins, as text."""
    async with app.state.sessionmaker() as session:
        entries = (await session.execute(select(AuditEntry.__table__).where(
            AuditEntry.action.in_(("login.failed", "login.locked"))))).all()
        personal = (await session.execute(select(AuditPersonal.__table__).join(
            AuditEntry, AuditEntry.id == AuditPersonal.audit_entry_id).where(
            AuditEntry.action.in_(("login.failed", "login.locked"))))).all()
    return json.dumps([list(row) for row in entries + personal], default=str)


async def test_a_name_no_account_has_is_never_stored_readably(app, client, settings):
    admin = bearer((await builders.staff(app, "admin")).token)
    for _ in range(settings.login_max_failures):
        refused = await client.post("/api/v1/auth/login", json={"username": TYPED_PASSWORD, "password": "x"})
        assert refused.status_code == 401
    locked = await client.post("/api/v1/auth/login", json={"username": TYPED_PASSWORD, "password": "x"})
    assert locked.status_code == 429  # the lockout still counts the name, by its pseudonym

    failed = await _failed_logins(client, admin)
    assert len(failed) == settings.login_max_failures
    assert {entry["source_ip"] for entry in failed} == {"127.0.0.1"}
    assert all(entry["detail"] == {"staff_user_id": None} for entry in failed)
    stored = await _stored_login_entries(app)
    assert "Zomer2026" not in stored and TYPED_PASSWORD.casefold() not in stored
    assert "login.locked" in stored


async def test_an_accounts_name_is_purged_after_its_period_and_the_figures_stay(app, client, settings):
    operator = await builders.staff(app, "operator", username="jan.de.vries")
    admin = bearer((await builders.staff(app, "admin")).token)
    for _ in range(3):
        await client.post("/api/v1/auth/login", json={"username": operator.username, "password": "fout"})
    before = await _failed_logins(client, admin)
    assert [entry["detail"] for entry in before] == [{"staff_user_id": operator.id, "login_name": "jan.de.vries"}] * 3

    week = settings.model_copy(update={"retention_login_name_days": 7})
    inside = await purge(app.state.sessionmaker, week, utcnow() + timedelta(days=6), source="test")
    assert inside.counts["login_names"] == 0
    assert (await _failed_logins(client, admin)) == before
    after_period = await purge(app.state.sessionmaker, week, utcnow() + timedelta(days=8), source="test")

    assert after_period.counts["login_names"] == 3 and after_period.counts["audit_details"] == 0
    after = await _failed_logins(client, admin)
    assert [entry["detail"] for entry in after] == [{"staff_user_id": operator.id, "login_name": PURGED}] * 3
    assert [{key: value for key, value in entry.items() if key != "detail"} for entry in after] == \
        [{key: value for key, value in entry.items() if key != "detail"} for entry in before]
    assert "vries" not in await _stored_login_entries(app)


def test_production_refuses_to_start_without_the_pseudonym_key():
    secrets = {**TEST_SECRETS, "audit_pseudonym_key": None}
    with pytest.raises(MissingSecretError) as error:
        create_app(Settings(environment="production", **secrets), configure_logs=False)  # type: ignore[arg-type]
    assert "MELDKAMER_AUDIT_PSEUDONYM_KEY" in str(error.value)


def test_without_a_key_elsewhere_one_is_generated_once_per_data_directory(tmp_path: Path):
    def key_of(data_dir: Path) -> bytes:
        return audit_key(Settings(environment="development", data_dir=data_dir, audit_pseudonym_key=None))

    first = key_of(tmp_path / "a")
    assert len(first) == 64 and key_of(tmp_path / "a") == first
    assert (tmp_path / "a" / "audit_pseudonym.key").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert key_of(tmp_path / "b") != first
