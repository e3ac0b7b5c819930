"""report_facts and the counts, durations and change queue kept from them: the evaluation's facts

A fact row per report (its decided labels and the durations of its steps, no text), counts per group and
Amsterdam day and month summed from them, and the queue of changed reports and incidents that app.stats.facts folds in
before every evaluation. The backfill computes the facts of every existing report with the app's own
statements, so an existing database answers with the same figures as before. And a partial index on the
current alert deliveries, which the evaluation's alert figures read.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 23:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.stats.facts import (
    insert_day_counts,
    insert_day_durations,
    insert_facts,
    insert_month_counts,
    insert_month_durations,
)

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ALERT_ROWS = "purpose = 'alert' AND superseded IS FALSE"  # the current alert deliveries


def _seconds(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=True)


def upgrade() -> None:
    op.create_table('report_facts',
    sa.Column('report_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('wijk', sa.String(length=16), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('operation_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('offence', sa.String(length=32), nullable=False),
    sa.Column('urgency', sa.String(length=8), nullable=True),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('called_112', sa.Integer(), nullable=False),
    sa.Column('follow_up', sa.String(length=32), nullable=True),
    sa.Column('result', sa.String(length=32), nullable=True),
    sa.Column('flagged', sa.Integer(), nullable=False),
    sa.Column('urgency_change', sa.String(length=8), nullable=True),
    _seconds('first_action_s'), _seconds('first_follow_up_s'), _seconds('feedback_delivered_s'),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_report_facts'))
    )
    op.create_index('ix_report_facts_day_wijk', 'report_facts', ['day', 'wijk'], unique=False)
    op.create_table('report_day_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('wijk', sa.String(length=16), nullable=True),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_day_counts'))
    )
    op.create_index('ix_report_day_counts_day', 'report_day_counts', ['day', 'wijk'], unique=False)
    op.create_index('ix_report_day_counts_label', 'report_day_counts', ['label', 'day'], unique=False)
    op.create_table('report_month_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('wijk', sa.String(length=16), nullable=True),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_month_counts'))
    )
    op.create_index('ix_report_month_counts_month', 'report_month_counts', ['month', 'wijk'], unique=False)
    for period in ('day', 'month'):
        op.create_table(f'report_{period}_durations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column(period, sa.Date(), nullable=False),
        sa.Column('wijk', sa.String(length=16), nullable=True),
        sa.Column('measure', sa.String(length=32), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_report_{period}_durations'))
        )
        op.create_index(f'ix_report_{period}_durations_{period}', f'report_{period}_durations', [period, 'wijk'],
                        unique=False)
    op.create_table('report_fact_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_fact_changes'))
    )
    op.create_index('ix_deliveries_alerts', 'deliveries', ['broadcast_id', 'beheerder_id'], unique=False,
                    postgresql_where=sa.text(ALERT_ROWS), sqlite_where=sa.text(ALERT_ROWS),
                    postgresql_include=['delivered_at', 'read_at', 'forwarded_at', 'status', 'id'])
    bind = op.get_bind()
    bind.execute(insert_facts(bind.dialect.name))
    bind.execute(insert_day_counts())
    bind.execute(insert_month_counts(bind.dialect.name))
    bind.execute(insert_day_durations())
    bind.execute(insert_month_durations(bind.dialect.name))


def downgrade() -> None:
    op.drop_index('ix_deliveries_alerts', table_name='deliveries')
    op.drop_table('report_fact_changes')
    for period in ('day', 'month'):
        op.drop_index(f'ix_report_{period}_durations_{period}', table_name=f'report_{period}_durations')
        op.drop_table(f'report_{period}_durations')
    op.drop_index('ix_report_month_counts_month', table_name='report_month_counts')
    op.drop_table('report_month_counts')
    op.drop_index('ix_report_day_counts_label', table_name='report_day_counts')
    op.drop_index('ix_report_day_counts_day', table_name='report_day_counts')
    op.drop_table('report_day_counts')
    op.drop_index('ix_report_facts_day_wijk', table_name='report_facts')
    op.drop_table('report_facts')
