"""audit_entries: an index on the target and time, for an incident's timeline and the first operator action

The console's timeline reads every audit entry about one incident; without the index that read walks the
whole (append-only, ever-growing) audit log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 21:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_entries_target', 'audit_entries', ['target_type', 'target_id', 'at'])


def downgrade() -> None:
    op.drop_index('ix_audit_entries_target', table_name='audit_entries')
