"""intake: reports, photos, case numbers, quarantine, whatsapp statuses

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:13:41.945596
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op




revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_case_counters'))
    )
    op.create_table('quarantined_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=True),
    sa.Column('sender_name', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantined_messages')),
    sa.UniqueConstraint('external_id', name=op.f('uq_quarantined_messages_external_id'))
    )
    with op.batch_alter_table('quarantined_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantined_messages_received_at'), ['received_at'], unique=False)

    op.create_table('whatsapp_statuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('error_title', sa.String(length=300), nullable=True),
    sa.Column('callback_data', sa.String(length=512), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whatsapp_statuses')),
    sa.UniqueConstraint('message_id', 'status', name=op.f('uq_whatsapp_statuses_message_id'))
    )
    with op.batch_alter_table('whatsapp_statuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whatsapp_statuses_callback_data'), ['callback_data'], unique=False)
        batch_op.create_index(batch_op.f('ix_whatsapp_statuses_message_id'), ['message_id'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_number', sa.String(length=32), nullable=False),
    sa.Column('beheerder_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('source_wijk_code', sa.String(length=16), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_original', sa.Text(), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('called_112', sa.Boolean(), nullable=True),
    sa.Column('forwarded', sa.Boolean(), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('house_number', sa.String(length=16), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('location_source', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('advice', sa.JSON(), nullable=False),
    sa.Column('triage', sa.JSON(), nullable=True),
    sa.Column('urgency', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['beheerder_id'], ['beheerders.id'], name=op.f('fk_reports_beheerder_id_beheerders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_reports_group_id_groups'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('beheerder_id', 'idempotency_key', name=op.f('uq_reports_beheerder_id')),
    sa.UniqueConstraint('case_number', name=op.f('uq_reports_case_number'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_beheerder_id'), ['beheerder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_source_wijk_code'), ['source_wijk_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_urgency'), ['urgency'], unique=False)

    op.create_table('report_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=True),
    sa.Column('media_type', sa.String(length=32), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('gps_lat', sa.Float(), nullable=True),
    sa.Column('gps_lon', sa.Float(), nullable=True),
    sa.Column('media_id', sa.String(length=128), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_photos_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_photos'))
    )
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_photos_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_photos_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_photos_status'))
        batch_op.drop_index(batch_op.f('ix_report_photos_report_id'))

    op.drop_table('report_photos')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_urgency'))
        batch_op.drop_index(batch_op.f('ix_reports_status'))
        batch_op.drop_index(batch_op.f('ix_reports_source_wijk_code'))
        batch_op.drop_index(batch_op.f('ix_reports_region_id'))
        batch_op.drop_index(batch_op.f('ix_reports_received_at'))
        batch_op.drop_index(batch_op.f('ix_reports_group_id'))
        batch_op.drop_index(batch_op.f('ix_reports_beheerder_id'))

    op.drop_table('reports')
    with op.batch_alter_table('whatsapp_statuses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whatsapp_statuses_message_id'))
        batch_op.drop_index(batch_op.f('ix_whatsapp_statuses_callback_data'))

    op.drop_table('whatsapp_statuses')
    with op.batch_alter_table('quarantined_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantined_messages_received_at'))

    op.drop_table('quarantined_messages')
    op.drop_table('case_counters')
