"""report_week_counts: the weekly series' day counts summed per ISO week

The evaluation's weekly series (reports, passed to the police, appearance-only) read a year as 365 days of day
rows; it now reads the whole weeks from these rows and only the weeks the period cuts from the day rows. The
backfill sums the existing day counts (frozen SQL, so a later change of the app cannot change this migration).

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-04 12:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEEK_OF_DAY = {"postgresql": "CAST(date_trunc('week', day) AS DATE)", "sqlite": "date(day, '-6 days', 'weekday 1')"}
BACKFILL = """
INSERT INTO report_week_counts (week, group_id, wijk, label, n)
SELECT {week}, group_id, wijk, label, sum(n) FROM report_day_counts
WHERE label IN ('reports', 'passed', 'flagged')
GROUP BY {week}, group_id, wijk, label
"""


def upgrade() -> None:
    op.create_table('report_week_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('wijk', sa.String(length=16), nullable=True),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_week_counts'))
    )
    op.create_index('ix_report_week_counts_week', 'report_week_counts', ['week', 'wijk'], unique=False)
    bind = op.get_bind()
    bind.execute(sa.text(BACKFILL.format(week=WEEK_OF_DAY[bind.dialect.name])))


def downgrade() -> None:
    op.drop_index('ix_report_week_counts_week', table_name='report_week_counts')
    op.drop_table('report_week_counts')
