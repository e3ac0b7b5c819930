"""incidents: partial index of the open incidents a new report can join

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 07:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOINABLE_INCIDENT = "status = 'open' AND urgency != 'none'"  # as in app.triage.models, frozen here


def upgrade() -> None:
    op.create_index('ix_incidents_joinable', 'incidents', ['region_id', 'last_report_at'], unique=False,
                    sqlite_where=sa.text(JOINABLE_INCIDENT), postgresql_where=sa.text(JOINABLE_INCIDENT))


def downgrade() -> None:
    op.drop_index('ix_incidents_joinable', table_name='incidents')
