"""incidents: whether a report of theirs was not recognised by the triage, kept on the row for the card

Finding it read the triage of every report of the incident, for every report that joined it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:30:00
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _unrecognised(triage: object) -> bool:
    suggestion = json.loads(triage) if isinstance(triage, str) else triage
    reasons = (suggestion or {}).get("reasons") or () if isinstance(suggestion, dict) else ()
    return any(isinstance(reason, dict) and reason.get("code") == "unrecognised" for reason in reasons)


def upgrade() -> None:
    op.add_column('incidents', sa.Column('unrecognised', sa.Boolean(), nullable=False, server_default=sa.false()))
    # JSON operators differ between SQLite and PostgreSQL: a text filter on both finds the candidates, and
    # their reasons are read here.
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT incident_id, triage FROM reports WHERE incident_id IS NOT NULL "
                                      "AND CAST(triage AS TEXT) LIKE '%unrecognised%'"))
    marked = {incident_id for incident_id, triage in rows if _unrecognised(triage)}
    for incident_id in sorted(marked):
        connection.execute(sa.text("UPDATE incidents SET unrecognised = :yes WHERE id = :id"),
                           {"yes": True, "id": incident_id})


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('unrecognised')
