"""incidents: the first stored photo of their reports, kept on the row for the card

Finding it with a query walked every report of the incident, for each report that joined it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 11:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('incidents', sa.Column('first_photo_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE incidents SET first_photo_id = (SELECT min(report_photos.id) FROM report_photos "
        "JOIN reports ON reports.id = report_photos.report_id "
        "WHERE reports.incident_id = incidents.id AND report_photos.status = 'stored')"
    )


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('first_photo_id')
