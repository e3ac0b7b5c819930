"""retention: reports.purged_at, incidents kept under the Wet politiegegevens, the purge's event cursor

reports.purged_at marks a report whose personal text the purge removed; a partial index holds only the
reports not yet purged, so the daily purge finds the old ones without walking the purged past.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 22:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNPURGED = "purged_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_reports_unpurged', 'reports', ['received_at'], sqlite_where=sa.text(UNPURGED),
                    postgresql_where=sa.text(UNPURGED))
    op.create_table('retention_holds',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('keep_until', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['marked_by_id'], ['staff_users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('incident_id'),
    )
    op.create_index('ix_retention_holds_keep_until', 'retention_holds', ['keep_until'])
    op.create_table('purge_cursors',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('last_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('kind'),
    )


def downgrade() -> None:
    op.drop_table('purge_cursors')
    op.drop_index('ix_retention_holds_keep_until', table_name='retention_holds')
    op.drop_table('retention_holds')
    op.drop_index('ix_reports_unpurged', table_name='reports')
    with op.batch_alter_table('reports') as batch:
        batch.drop_column('purged_at')
