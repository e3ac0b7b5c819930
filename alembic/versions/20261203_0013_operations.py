"""operations: DDO action days, heterdaad, vermissing, events and probleemaanpak, with opt-in participants

Adds the operations, their participants (one row per invited or joined beheerder), the messages they sent
(broadcasts through the outbox), their linked incidents, and reports.operation_id for the reports a
participant sent while an operation was open.

The brief asks for down_revision '0012': revisions 0010-0012 are added on other branches, so on this branch
the chain continues from 0009 and is joined up at the merge.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-03 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('operations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('area', sa.JSON(), nullable=False),
    sa.Column('wijkcodes', sa.JSON(), nullable=False),
    sa.Column('gemeentecodes', sa.JSON(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    _time('starts_at', nullable=False),
    _time('ends_at', nullable=False),
    sa.Column('briefing', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=200), nullable=False),
    _time('created_at', nullable=False),
    _time('opened_at'),
    _time('closed_at'),
    sa.Column('closed_by_name', sa.String(length=200), nullable=True),
    sa.Column('closing_text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'],
                            name=op.f('fk_operations_created_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operations'))
    )
    for column in ('ends_at', 'kind', 'region_id', 'starts_at', 'status'):
        op.create_index(op.f(f'ix_operations_{column}'), 'operations', [column], unique=False)

    op.create_table('operation_incidents',
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                            name=op.f('fk_operation_incidents_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'],
                            name=op.f('fk_operation_incidents_operation_id_operations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('operation_id', 'incident_id', name=op.f('pk_operation_incidents'))
    )

    op.create_table('operation_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('beheerder_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    _time('invited_at'),
    _time('answered_at'),
    sa.Column('answered_via', sa.String(length=16), nullable=True),
    _time('joined_at'),
    sa.Column('last_message_id', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['beheerder_id'], ['beheerders.id'],
                            name=op.f('fk_operation_participants_beheerder_id_beheerders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'],
                            name=op.f('fk_operation_participants_operation_id_operations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operation_participants')),
    sa.UniqueConstraint('operation_id', 'beheerder_id', name=op.f('uq_operation_participants_operation_id'))
    )
    op.create_index('ix_operation_participants_beheerder', 'operation_participants', ['beheerder_id', 'status'],
                    unique=False)
    op.create_index(op.f('ix_operation_participants_operation_id'), 'operation_participants', ['operation_id'],
                    unique=False)

    op.create_table('operation_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    _time('created_at', nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'],
                            name=op.f('fk_operation_messages_broadcast_id_broadcasts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'],
                            name=op.f('fk_operation_messages_operation_id_operations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operation_messages')),
    sa.UniqueConstraint('broadcast_id', name=op.f('uq_operation_messages_broadcast_id'))
    )
    op.create_index(op.f('ix_operation_messages_operation_id'), 'operation_messages', ['operation_id'], unique=False)

    # A plain ADD COLUMN, without a foreign key: SQLite can add one only by copying the reports table, and
    # dropping the original with foreign keys on deletes every photo, feedback and delivery of a report.
    op.add_column('reports', sa.Column('operation_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_reports_operation_id'), 'reports', ['operation_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reports_operation_id'), table_name='reports')
    op.drop_column('reports', 'operation_id')
    op.drop_index(op.f('ix_operation_messages_operation_id'), table_name='operation_messages')
    op.drop_table('operation_messages')
    op.drop_index(op.f('ix_operation_participants_operation_id'), table_name='operation_participants')
    op.drop_index('ix_operation_participants_beheerder', table_name='operation_participants')
    op.drop_table('operation_participants')
    op.drop_table('operation_incidents')
    for column in ('status', 'starts_at', 'region_id', 'kind', 'ends_at'):
        op.drop_index(op.f(f'ix_operations_{column}'), table_name='operations')
    op.drop_table('operations')
