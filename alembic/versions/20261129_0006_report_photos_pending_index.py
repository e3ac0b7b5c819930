"""report_photos: a partial index of the pending downloads instead of an index on every status

The index on status led SQLite's planner, which has no statistics, to find "the incident's first stored
photo" by walking every stored photo (49 ms with 50,000 photos, for each report that joins an incident).
The media fetcher only ever looks for pending photos, so only those are indexed now.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_PHOTO = "status = 'pending'"  # as in app.intake.models, frozen here


def upgrade() -> None:
    op.drop_index('ix_report_photos_status', table_name='report_photos')
    op.create_index('ix_report_photos_pending', 'report_photos', ['next_attempt_at'], unique=False,
                    sqlite_where=sa.text(PENDING_PHOTO), postgresql_where=sa.text(PENDING_PHOTO))


def downgrade() -> None:
    op.drop_index('ix_report_photos_pending', table_name='report_photos')
    op.create_index('ix_report_photos_status', 'report_photos', ['status'], unique=False)
