"""incidents: a covering index (id, including last_report_at and the search's filters) for the console's search

The search pages the incidents that contain every word by their last report and counts them. A common word
(1% of a year: 10,000 incidents) read each matching incident from the table for its last report and status:
on PostgreSQL a hash join over a sequential scan of the million incidents (0.3-1.2 s). With the fields in
one narrow index they are index-only lookups (10,000 in ~15 ms). PostgreSQL only: INCLUDE. SQLite (no INCLUDE)
gets an index on the id alone, never updated (the id does not change) and not used: it reads its incidents by
rowid, which is fast enough there; the index exists so that both engines have the schema the models declare.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 14:05:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_incidents_search', 'incidents', ['id'],
                    postgresql_include=['last_report_at', 'status', 'urgency', 'wijk_code'])


def downgrade() -> None:
    op.drop_index('ix_incidents_search', table_name='incidents')
