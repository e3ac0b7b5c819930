"""audit_personal: the personal fields of audit entries apart, so that the retention purge can clear them

An audit entry's detail held an operator's free-text reason (incident.update, incident.keep), the point an
operator moved an incident to (incident.update, values.lat/lon) and the merge undo's snapshot with the
incidents' summaries and points (incident.merge). `audit_entries` refuses UPDATE and DELETE, so these outlived
the retention period. They now live in `audit_personal`, one row per entry and purge kind, whose triggers
allow only clearing `details`. The existing entries' fields are moved once: the UPDATE guard of
audit_entries is dropped and created again around that, in this migration's transaction.

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-04 12:10:00
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_PURGED = "purged_at IS NULL"
PAGE = 1000
# Frozen copy of app.audit.service.PERSONAL_FIELDS as it was when this migration was written.
PERSONAL_FIELDS = {"reason": "notes", "values.lat": "locations", "values.lon": "locations", "before": "report_texts"}
ACTIONS = ("incident.update", "incident.keep", "incident.merge")  # the only writers of those fields
HAS_PERSONAL = {
    "sqlite": "json_extract(detail, '$.reason') IS NOT NULL OR json_extract(detail, '$.before') IS NOT NULL "
              "OR json_extract(detail, '$.values.lat') IS NOT NULL OR json_extract(detail, '$.values.lon') IS NOT NULL",
    "postgresql": "detail->>'reason' IS NOT NULL OR detail->>'before' IS NOT NULL "
                  "OR detail#>>'{values,lat}' IS NOT NULL OR detail#>>'{values,lon}' IS NOT NULL",
}

ENTRIES = sa.table("audit_entries", sa.column("id", sa.Integer), sa.column("action", sa.String),
                   sa.column("detail", sa.JSON))
PERSONAL = sa.table("audit_personal", sa.column("audit_entry_id", sa.Integer), sa.column("kind", sa.String),
                    sa.column("fields", sa.JSON), sa.column("details", sa.JSON(none_as_null=True)),
                    sa.column("purged_at", sa.DateTime(timezone=True)))

ENTRIES_GUARD_SQLITE = ("CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
                        "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END")
ENTRIES_GUARD_POSTGRES = ("CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
                          "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()")
PERSONAL_GUARDS_SQLITE = (
    "CREATE TRIGGER audit_personal_no_delete BEFORE DELETE ON audit_personal "
    "BEGIN SELECT RAISE(ABORT, 'audit_personal can only be cleared'); END",
    "CREATE TRIGGER audit_personal_clear_only BEFORE UPDATE ON audit_personal "
    "WHEN NEW.details IS NOT NULL OR NEW.audit_entry_id IS NOT OLD.audit_entry_id OR NEW.kind IS NOT OLD.kind "
    "OR NEW.fields IS NOT OLD.fields "
    "BEGIN SELECT RAISE(ABORT, 'audit_personal can only be cleared'); END",
)
PERSONAL_GUARDS_POSTGRES = (
    "CREATE FUNCTION audit_personal_clear_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'audit_personal can only be cleared'; END IF; "
    "IF NEW.details IS NOT NULL OR NEW.audit_entry_id <> OLD.audit_entry_id OR NEW.kind <> OLD.kind "
    "OR NEW.fields::text IS DISTINCT FROM OLD.fields::text "
    "THEN RAISE EXCEPTION 'audit_personal can only be cleared'; END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER audit_personal_clear_only BEFORE UPDATE OR DELETE ON audit_personal "
    "FOR EACH ROW EXECUTE FUNCTION audit_personal_clear_only()",
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table('audit_personal',
    sa.Column('audit_entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['audit_entry_id'], ['audit_entries.id']),
    sa.PrimaryKeyConstraint('audit_entry_id', 'kind'),
    )
    op.create_index('ix_audit_personal_unpurged', 'audit_personal', ['audit_entry_id'],
                    sqlite_where=sa.text(NOT_PURGED), postgresql_where=sa.text(NOT_PURGED))
    for statement in PERSONAL_GUARDS_SQLITE if _sqlite() else PERSONAL_GUARDS_POSTGRES:
        op.execute(statement)
    _without_entries_update_guard(_move_personal_fields)


def downgrade() -> None:
    _without_entries_update_guard(_put_personal_fields_back)
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS audit_personal_no_delete")
    op.execute("DROP TRIGGER IF EXISTS audit_personal_clear_only" + ("" if _sqlite() else " ON audit_personal"))
    if not _sqlite():
        op.execute("DROP FUNCTION IF EXISTS audit_personal_clear_only()")
    op.drop_index('ix_audit_personal_unpurged', table_name='audit_personal')
    op.drop_table('audit_personal')


def _without_entries_update_guard(change: Any) -> None:
    """Runs `change` with audit_entries open to UPDATE, in this transaction only; DELETE stays refused on SQLite
    (its own trigger) and PostgreSQL's single guard comes back before the commit."""
    if _sqlite():
        op.execute("DROP TRIGGER audit_entries_no_update")
        change()
        op.execute(ENTRIES_GUARD_SQLITE)
        return
    op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
    change()
    op.execute(ENTRIES_GUARD_POSTGRES)


def _split(detail: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    public = {key: dict(value) if isinstance(value, dict) else value for key, value in detail.items()}
    personal: dict[str, dict[str, Any]] = {}
    for path, kind in PERSONAL_FIELDS.items():
        parent, _, key = path.rpartition(".")
        holder = public.get(parent) if parent else public
        if isinstance(holder, dict) and holder.get(key) not in (None, ""):
            personal.setdefault(kind, {})[path] = holder.pop(key)
    return public, personal


def _move_personal_fields() -> None:
    connection = op.get_bind()
    candidates = (sa.select(ENTRIES.c.id, ENTRIES.c.detail)
                  .where(ENTRIES.c.action.in_(ACTIONS), sa.text(f"({HAS_PERSONAL[connection.dialect.name]})"))
                  .order_by(ENTRIES.c.id).limit(PAGE))
    last_id = 0
    while rows := connection.execute(candidates.where(ENTRIES.c.id > last_id)).all():
        last_id = rows[-1].id
        moved, stripped = [], []
        for row in rows:
            public, personal = _split(row.detail or {})
            moved += [{"audit_entry_id": row.id, "kind": kind, "fields": sorted(details), "details": details,
                       "purged_at": None} for kind, details in personal.items()]
            if personal:
                stripped.append({"entry_id": row.id, "detail": public})
        if moved:
            connection.execute(PERSONAL.insert(), moved)
            connection.execute(ENTRIES.update().where(ENTRIES.c.id == sa.bindparam("entry_id")), stripped)


def _put_personal_fields_back() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(PERSONAL.c.audit_entry_id, PERSONAL.c.details, ENTRIES.c.detail)
                              .join(ENTRIES, ENTRIES.c.id == PERSONAL.c.audit_entry_id)
                              .where(PERSONAL.c.details.is_not(None)).order_by(PERSONAL.c.audit_entry_id)).all()
    details: dict[int, dict[str, Any]] = {}
    for row in rows:
        merged = details.setdefault(row.audit_entry_id, dict(row.detail or {}))
        for path, value in row.details.items():
            parent, _, key = path.rpartition(".")
            holder = merged.setdefault(parent, {}) if parent else merged
            holder[key] = value
    if details:
        connection.execute(ENTRIES.update().where(ENTRIES.c.id == sa.bindparam("entry_id")),
                           [{"entry_id": entry_id, "detail": detail} for entry_id, detail in details.items()])
