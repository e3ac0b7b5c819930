"""intake_rate_limits: the per-beheerder report limit in the database, so that every app process counts alike

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 22:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('intake_rate_limits',
                    sa.Column('key', sa.String(length=64), nullable=False),
                    sa.Column('tat', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('key', name=op.f('pk_intake_rate_limits')))


def downgrade() -> None:
    op.drop_table('intake_rate_limits')
