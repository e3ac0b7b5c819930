"""operations: public participants who join an evenement or vermissing by its keyword

Adds operations.keyword, the public participants (their number kept only on their own row, removed at
closing plus the retention period), and lets a report and an outbox row belong to a public participant
instead of a beheerder: reports.beheerder_id and deliveries.beheerder_id become nullable, next to the new
public_participant_id. Both tables are rebuilt on SQLite (batch mode; alembic/env.py turns foreign keys off
for that, as in 0010).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 22:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column('operations', sa.Column('keyword', sa.String(length=32), nullable=True))
    op.create_index(op.f('ix_operations_keyword'), 'operations', ['keyword'], unique=False)
    op.create_table('operation_public_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    _time('created_at', nullable=False),
    _time('joined_at'),
    _time('left_at'),
    sa.Column('last_message_id', sa.String(length=128), nullable=True),
    _time('forgotten_at'),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'],
                            name=op.f('fk_operation_public_participants_operation_id_operations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operation_public_participants')),
    sa.UniqueConstraint('operation_id', 'phone', name=op.f('uq_operation_public_participants_operation_id'))
    )
    op.create_index(op.f('ix_operation_public_participants_operation_id'), 'operation_public_participants',
                    ['operation_id'], unique=False)
    op.create_index(op.f('ix_operation_public_participants_phone'), 'operation_public_participants', ['phone'],
                    unique=False)
    with op.batch_alter_table('reports') as batch:
        batch.alter_column('beheerder_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('public_participant_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_reports_public_participant_id'), ['public_participant_id'], unique=False)
        batch.create_unique_constraint(batch.f('uq_reports_public_participant_id'),
                                       ['public_participant_id', 'idempotency_key'])
    with op.batch_alter_table('deliveries') as batch:
        batch.alter_column('beheerder_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('public_participant_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_deliveries_public_participant_id_operation_public_participants'),
                                 'operation_public_participants', ['public_participant_id'], ['id'],
                                 ondelete='CASCADE')
        batch.create_index(batch.f('ix_deliveries_public_participant_id'), ['public_participant_id'], unique=False)


def downgrade() -> None:
    # Public participants' reports and messages cannot go back to a schema that demands a beheerder.
    op.execute("DELETE FROM deliveries WHERE beheerder_id IS NULL")
    op.execute("DELETE FROM reports WHERE beheerder_id IS NULL")
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_index(batch.f('ix_deliveries_public_participant_id'))
        batch.drop_constraint(batch.f('fk_deliveries_public_participant_id_operation_public_participants'),
                              type_='foreignkey')
        batch.drop_column('public_participant_id')
        batch.alter_column('beheerder_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('reports') as batch:
        batch.drop_constraint(batch.f('uq_reports_public_participant_id'), type_='unique')
        batch.drop_index(batch.f('ix_reports_public_participant_id'))
        batch.drop_column('public_participant_id')
        batch.alter_column('beheerder_id', existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f('ix_operation_public_participants_phone'), table_name='operation_public_participants')
    op.drop_index(op.f('ix_operation_public_participants_operation_id'), table_name='operation_public_participants')
    op.drop_table('operation_public_participants')
    op.drop_index(op.f('ix_operations_keyword'), table_name='operations')
    op.drop_column('operations', 'keyword')
