"""wijken.households (aantal huishoudens, for reports per 1,000 households); job_leases (one purge per period)

wijken.households is the CBS wijk- en buurtkaart's "aantal huishoudens" (AANT_HH), null when not imported.
job_leases holds which app process runs a shared periodic job until when (app.privacy.lease).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 06:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('wijken') as batch:
        batch.add_column(sa.Column('households', sa.Integer(), nullable=True))
    op.create_table('job_leases',
                    sa.Column('name', sa.String(length=64), nullable=False),
                    sa.Column('holder', sa.String(length=64), nullable=False),
                    sa.Column('expires_at', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_leases')))


def downgrade() -> None:
    op.drop_table('job_leases')
    with op.batch_alter_table('wijken') as batch:
        batch.drop_column('households')
