"""audit pseudonyms: failed logins, subject access and beheerders' names leave the append-only log

What the audit log kept for ever that it must not:
- `login.failed` / `login.locked`: the name tried, as `detail.username` and (case-folded) as `target_id`. A
  name that is an account's now moves to `audit_personal` (kind `login_names`, field `login_name`), which the
  purge clears after `retention_login_name_days`; a name no account has (perhaps a password typed into the
  wrong field) is dropped. The target becomes NULL: the app now writes a keyed pseudonym there, whose key this
  migration does not know. Only lockouts still running at the upgrade lose their count.
- `privacy.subject_access`: `target_id` was an unkeyed SHA-256 prefix of the phone number, which trying every
  Dutch mobile number reverses. It cannot be keyed without the number, so it becomes NULL; the entry (who,
  when, counts, beheerder ids) stays.
- entries whose actor is a beheerder named that private person in `actor_name`, past an erasure; the actor id
  stays.
- events `operation.participant_*` carried `beheerder_name`; the id stays.

The UPDATE guard of audit_entries is dropped and created again around this, in this migration's transaction
(as in 0023). The downgrade changes no data: what was removed cannot come back, and the old code reads the
`login_names` rows like any other personal field.

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-04 14:30:00
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
# The lead joins the chain: 0026 once the helpers' 0025 and 0026 are in (0024 on this branch alone).
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 1000
LOGIN_ACTIONS = ("login.failed", "login.locked")

ENTRIES = sa.table("audit_entries", sa.column("id", sa.Integer), sa.column("action", sa.String),
                   sa.column("actor_type", sa.String), sa.column("actor_name", sa.String),
                   sa.column("target_id", sa.String), sa.column("detail", sa.JSON))
PERSONAL = sa.table("audit_personal", sa.column("audit_entry_id", sa.Integer), sa.column("kind", sa.String),
                    sa.column("fields", sa.JSON), sa.column("details", sa.JSON(none_as_null=True)),
                    sa.column("purged_at", sa.DateTime(timezone=True)))
STAFF_USERS = sa.table("staff_users", sa.column("id", sa.Integer), sa.column("username", sa.String))
EVENTS = sa.table("events", sa.column("id", sa.Integer), sa.column("type", sa.String), sa.column("data", sa.JSON))

ENTRIES_GUARD_SQLITE = ("CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
                        "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END")
ENTRIES_GUARD_POSTGRES = ("CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
                          "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()")


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_entries_no_update")
    else:
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
    _login_names()
    connection.execute(ENTRIES.update().where(ENTRIES.c.action == "privacy.subject_access").values(target_id=None))
    connection.execute(ENTRIES.update().where(ENTRIES.c.actor_type == "beheerder", ENTRIES.c.actor_name.is_not(None))
                       .values(actor_name=None))
    op.execute(ENTRIES_GUARD_SQLITE if connection.dialect.name == "sqlite" else ENTRIES_GUARD_POSTGRES)
    _participant_event_names()


def downgrade() -> None:
    pass  # see the docstring: nothing removed can be put back


def _login_names() -> None:
    connection = op.get_bind()
    accounts = {row.username: row.id for row in connection.execute(sa.select(STAFF_USERS.c.id, STAFF_USERS.c.username))}
    candidates = (sa.select(ENTRIES.c.id, ENTRIES.c.detail).where(ENTRIES.c.action.in_(LOGIN_ACTIONS))
                  .order_by(ENTRIES.c.id).limit(PAGE))
    last_id = 0
    while rows := connection.execute(candidates.where(ENTRIES.c.id > last_id)).all():
        last_id = rows[-1].id
        moved, stripped = [], []
        for row in rows:
            detail, name = _without_name(row.detail or {}, accounts)
            stripped.append({"entry_id": row.id, "detail": detail, "target_id": None})
            if name is not None:
                moved.append({"audit_entry_id": row.id, "kind": "login_names", "fields": ["login_name"],
                              "details": {"login_name": name}, "purged_at": None})
        connection.execute(ENTRIES.update().where(ENTRIES.c.id == sa.bindparam("entry_id")), stripped)
        if moved:
            connection.execute(PERSONAL.insert(), moved)


def _without_name(detail: dict[str, Any], accounts: dict[str, int]) -> tuple[dict[str, Any], str | None]:
    """The detail without the name tried, with the account's id; and the name when it is an account's."""
    kept = {key: value for key, value in detail.items() if key != "username"}
    name = detail.get("username")
    account = accounts.get(name) if isinstance(name, str) else None
    kept["staff_user_id"] = kept.get("staff_user_id") or account
    return kept, name if account is not None else None


def _participant_event_names() -> None:
    connection = op.get_bind()
    candidates = (sa.select(EVENTS.c.id, EVENTS.c.data).where(EVENTS.c.type.like("operation.participant_%"))
                  .order_by(EVENTS.c.id).limit(PAGE))
    last_id = 0
    while rows := connection.execute(candidates.where(EVENTS.c.id > last_id)).all():
        last_id = rows[-1].id
        changed = [{"event_id": row.id, "data": {key: value for key, value in row.data.items()
                                                 if key != "beheerder_name"}}
                   for row in rows if "beheerder_name" in (row.data or {})]
        if changed:
            connection.execute(EVENTS.update().where(EVENTS.c.id == sa.bindparam("event_id")), changed)
