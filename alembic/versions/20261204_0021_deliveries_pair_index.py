"""deliveries: index (beheerder_id, channel, sending_since) for the claim's pair-rate check

The delivery worker's claim asks, for every due row, whether its person had a WhatsApp message sent within the
pair interval. With only (beheerder_id, channel, status) to go by, that walked every delivery the person ever
had on the channel, so each claim grew with the history (found by the 30-minute soak).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 07:10:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_deliveries_pair', 'deliveries', ['beheerder_id', 'channel', 'sending_since'])


def downgrade() -> None:
    op.drop_index('ix_deliveries_pair', table_name='deliveries')
