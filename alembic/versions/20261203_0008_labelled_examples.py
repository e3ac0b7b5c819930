"""labelled_examples: the operators' decisions on the triage's labels, one example per report

Kept so that the engine can be scored against the meldkamer's own judgement (meldkamer export-labels,
GET /api/v1/triage/agreement).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('labelled_examples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_wijk_code', sa.String(length=16), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('suggestion', sa.JSON(), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=False),
    sa.Column('decided_fields', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff_users.id'],
                            name=op.f('fk_labelled_examples_decided_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                            name=op.f('fk_labelled_examples_incident_id_incidents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                            name=op.f('fk_labelled_examples_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labelled_examples')),
    sa.UniqueConstraint('report_id', name=op.f('uq_labelled_examples_report_id'))
    )
    op.create_index(op.f('ix_labelled_examples_decided_at'), 'labelled_examples', ['decided_at'], unique=False)
    op.create_index(op.f('ix_labelled_examples_incident_id'), 'labelled_examples', ['incident_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_labelled_examples_incident_id'), table_name='labelled_examples')
    op.drop_index(op.f('ix_labelled_examples_decided_at'), table_name='labelled_examples')
    op.drop_table('labelled_examples')
