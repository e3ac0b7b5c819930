"""The audit log records logins, changes and token revocations, and nobody can rewrite it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support import builders
from tests.support.http import bearer, login, problem


async def test_admin_sees_failed_logins_revocations_and_changes(app, client):
    await builders.wijk(app)
    beheerder = await builders.beheerder(app, group_ids=[])  # no group: the only group.create is the admin's
    admin_account = await builders.staff(app, "admin")
    await client.post("/api/v1/auth/login", json={"username": "admin", "password": "fout"},
                      headers={"X-Forwarded-For": "ignored"})
    admin = await login(client, admin_account.credentials)
    tokens = (await client.get(f"/api/v1/admin/beheerders/{beheerder.id}/tokens",
                               headers=admin)).json()
    await client.delete(f"/api/v1/auth/tokens/{tokens[0]['id']}", headers=admin)
    await client.post("/api/v1/admin/groups", json={"name": "Nieuw", "wijkcode": "WK036204"}, headers=admin)

    entries = (await client.get("/api/v1/admin/audit", headers=admin)).json()
    by_action = {e["action"]: e for e in entries}
    assert by_action["login.failed"]["detail"] == {"staff_user_id": admin_account.id, "login_name": "admin"}
    assert by_action["login.failed"]["source_ip"] == "127.0.0.1"
    assert by_action["login.success"]["actor_name"] == "admin"
    assert by_action["token.revoke"]["target_id"] == str(tokens[0]["id"])
    assert by_action["group.create"]["actor_type"] == "staff"
    assert entries == sorted(entries, key=lambda e: e["id"], reverse=True)


async def test_audit_filter_and_paging(app, client):
    admin = bearer((await builders.staff(app, "admin")).token)
    for _ in range(3):
        await client.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    page = (await client.get("/api/v1/admin/audit?action=login.failed&limit=2", headers=admin)).json()
    assert len(page) == 2 and {e["action"] for e in page} == {"login.failed"}
    rest = (await client.get(f"/api/v1/admin/audit?action=login.failed&before_id={page[-1]['id']}",
                             headers=admin)).json()
    assert len(rest) == 1


async def test_audit_is_admin_only(app, client):
    operator = bearer((await builders.staff(app, "operator")).token)
    assert problem(await client.get("/api/v1/admin/audit", headers=operator))["status"] == 403
    beheerder = bearer((await builders.beheerder(app)).token)
    assert (await client.get("/api/v1/admin/audit", headers=beheerder)).status_code == 403


async def test_audit_entries_cannot_be_changed_or_deleted(app):
    await builders.wijk(app)  # the wijk import is an audit entry to try to change
    for statement in ("UPDATE audit_entries SET action = 'x'", "DELETE FROM audit_entries"):
        async with app.state.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
            await session.rollback()
