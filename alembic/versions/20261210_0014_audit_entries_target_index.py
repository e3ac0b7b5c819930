"""audit_entries: an index on (target_type, target_id, at) for the evaluation's "first operator action"

GET /api/v1/stats looks up, per report, the first staff action on its incident after the report arrived.
Without the index every lookup read the whole audit log.

Revision ID: 0014
Revises: 0009 (the lead re-points this at 0013 when the branches of this round are merged)
Create Date: 2026-12-10 10:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_entries_target', 'audit_entries', ['target_type', 'target_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_entries_target', table_name='audit_entries')
