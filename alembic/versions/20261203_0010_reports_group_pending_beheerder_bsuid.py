"""reports may wait for their group; beheerders get WhatsApp's business-scoped user id

A WhatsApp report from a beheerder with several groups is stored with group_id NULL and group_pending
true (and the groups offered in the question, in group_choices) instead of being quarantined; its source
wijk is NULL unless all those groups lie in one wijk. A beheerder can be matched by the BSUID that Meta
sends as `user_id`; quarantine keeps such ids as the sender (up to 160 characters).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reports') as batch:
        batch.alter_column('group_id', existing_type=sa.Integer(), nullable=True)
        batch.alter_column('source_wijk_code', existing_type=sa.String(length=16), nullable=True)
        batch.add_column(sa.Column('group_pending', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('group_choices', sa.JSON(), nullable=True))
    with op.batch_alter_table('beheerders') as batch:
        batch.add_column(sa.Column('whatsapp_user_id', sa.String(length=160), nullable=True))
        batch.create_unique_constraint(batch.f('uq_beheerders_whatsapp_user_id'), ['whatsapp_user_id'])
    with op.batch_alter_table('quarantined_messages') as batch:
        batch.alter_column('sender', existing_type=sa.String(length=64), type_=sa.String(length=160))


def downgrade() -> None:
    with op.batch_alter_table('quarantined_messages') as batch:
        batch.alter_column('sender', existing_type=sa.String(length=160), type_=sa.String(length=64))
    with op.batch_alter_table('beheerders') as batch:
        batch.drop_constraint(batch.f('uq_beheerders_whatsapp_user_id'), type_='unique')
        batch.drop_column('whatsapp_user_id')
    # Reports still waiting for a group cannot go back to a schema that demands one: they are given their
    # beheerder's first group.
    op.execute(
        "UPDATE reports SET group_id = (SELECT min(beheerder_groups.group_id) FROM beheerder_groups "
        "WHERE beheerder_groups.beheerder_id = reports.beheerder_id) WHERE group_id IS NULL"
    )
    op.execute(
        "UPDATE reports SET source_wijk_code = (SELECT wijken.code FROM groups JOIN wijken ON wijken.id = groups.wijk_id "
        "WHERE groups.id = reports.group_id) WHERE source_wijk_code IS NULL"
    )
    with op.batch_alter_table('reports') as batch:
        batch.drop_column('group_choices')
        batch.drop_column('group_pending')
        batch.alter_column('source_wijk_code', existing_type=sa.String(length=16), nullable=False)
        batch.alter_column('group_id', existing_type=sa.Integer(), nullable=False)
