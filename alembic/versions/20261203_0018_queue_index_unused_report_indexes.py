"""incidents: one index for the queue's order; reports: drop the indexes no query uses

The queue (and the wall's snapshot) reads the incidents of one status, urgency by urgency, oldest first
(app.incidents.service.list_queue): an index on (status, urgency, first_report_at, id) serves each urgency's
page and count without sorting a year of closed incidents. It replaces the single-column indexes on status and
urgency (its prefix). On reports, nothing filters on status, urgency or wijk_code, and beheerder_id is the prefix
of the unique (beheerder_id, idempotency_key): four indexes that every report paid for at intake.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 23:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNUSED_REPORT_INDEXES = {'ix_reports_status': 'status', 'ix_reports_urgency': 'urgency',
                         'ix_reports_wijk_code': 'wijk_code', 'ix_reports_beheerder_id': 'beheerder_id'}


def upgrade() -> None:
    op.create_index('ix_incidents_queue', 'incidents', ['status', 'urgency', 'first_report_at', 'id'])
    op.drop_index('ix_incidents_status', table_name='incidents')
    op.drop_index('ix_incidents_urgency', table_name='incidents')
    for name in UNUSED_REPORT_INDEXES:
        op.drop_index(name, table_name='reports')


def downgrade() -> None:
    for name, column in UNUSED_REPORT_INDEXES.items():
        op.create_index(name, 'reports', [column])
    op.create_index('ix_incidents_urgency', 'incidents', ['urgency'])
    op.create_index('ix_incidents_status', 'incidents', ['status'])
    op.drop_index('ix_incidents_queue', table_name='incidents')
