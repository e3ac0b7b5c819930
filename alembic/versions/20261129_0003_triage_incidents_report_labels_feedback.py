"""triage: incidents, report labels, feedback

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 02:22:08.474477
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op




revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('urgency', sa.String(length=8), nullable=False),
    sa.Column('urgency_override', sa.String(length=8), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('overridden', sa.JSON(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('offence', sa.String(length=32), nullable=True),
    sa.Column('wijk_code', sa.String(length=16), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('group_ids', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('appearance_only', sa.Boolean(), nullable=False),
    sa.Column('first_report_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_report_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('claim_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up', sa.String(length=32), nullable=True),
    sa.Column('result', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['staff_users.id'], name=op.f('fk_incidents_claimed_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_urgency'), ['urgency'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_wijk_code'), ['wijk_code'], unique=False)

    op.create_table('report_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_feedback_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_report_feedback_staff_user_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_feedback'))
    )
    with op.batch_alter_table('report_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_feedback_report_id'), ['report_id'], unique=False)

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('offence', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('in_progress', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('appearance_only', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('wijk_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('point_lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('point_lon', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('incident_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('follow_up', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('result', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_reports_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_wijk_code'), ['wijk_code'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_reports_incident_id_incidents'), 'incidents', ['incident_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reports_incident_id_incidents'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_reports_wijk_code'))
        batch_op.drop_index(batch_op.f('ix_reports_incident_id'))
        batch_op.drop_column('closed_at')
        batch_op.drop_column('result')
        batch_op.drop_column('follow_up')
        batch_op.drop_column('incident_id')
        batch_op.drop_column('point_lon')
        batch_op.drop_column('point_lat')
        batch_op.drop_column('wijk_code')
        batch_op.drop_column('appearance_only')
        batch_op.drop_column('in_progress')
        batch_op.drop_column('offence')
        batch_op.drop_column('category')

    with op.batch_alter_table('report_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_feedback_report_id'))

    op.drop_table('report_feedback')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_wijk_code'))
        batch_op.drop_index(batch_op.f('ix_incidents_urgency'))
        batch_op.drop_index(batch_op.f('ix_incidents_status'))
        batch_op.drop_index(batch_op.f('ix_incidents_region_id'))

    op.drop_table('incidents')
