"""alert_facts, alert_area_facts and alert_fact_changes: the evaluation's alert figures from facts

A fact row per alert (its counts over the beheerders who run a group, and its time to 90% delivered) and per
alert and wijk and per alert and group (the counts over the recipients who run a group there, the groups
reached and forwarded to), and the queue of changed alerts that app.stats.alert_facts folds in before every
evaluation; and a partial index on the report facts of operations (the `operation` filter). The backfill
computes the facts of every existing alert with SQL frozen here (the same as app.stats.alert_facts had when
this migration was written), so an existing database answers with the same figures as before.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 06:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Per engine: the alert rows, the group rows, then the wijk rows (which read the group rows).
BACKFILL = {
    "postgresql": [
"""WITH cur AS (
  SELECT d.broadcast_id, d.beheerder_id, d.status, d.delivered_at, d.read_at, d.forwarded_at,
         row_number() OVER (PARTITION BY d.broadcast_id
                            ORDER BY CASE WHEN d.delivered_at IS NULL THEN 1 ELSE 0 END, d.delivered_at, d.id)
           AS rn,
         (count(*) OVER (PARTITION BY d.broadcast_id) * 9 + 9) / 10 AS needed
  FROM deliveries d
  WHERE d.purpose = 'alert' AND d.superseded IS FALSE
),
pairs AS (
  SELECT DISTINCT bg.beheerder_id, g.id AS group_id, w.code AS wijk
  FROM beheerder_groups bg JOIN groups g ON g.id = bg.group_id JOIN wijken w ON w.id = g.wijk_id
)
INSERT INTO alert_facts (broadcast_id, created_at, operation_id,
                         recipients, delivered, read, forwarded, failed, pending, ninety_s)
SELECT b.id, b.created_at, om.operation_id,
  sum(CASE WHEN r.beheerder_id IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.delivered_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.read_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.status = 'failed' THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.status IN ('pending', 'sending') THEN 1 ELSE 0 END),
  max(CASE WHEN cur.rn = cur.needed AND cur.delivered_at IS NOT NULL
           THEN CAST(floor(extract(epoch FROM cur.delivered_at)) AS BIGINT)
                - CAST(floor(extract(epoch FROM b.created_at)) AS BIGINT) END)
FROM cur JOIN broadcasts b ON b.id = cur.broadcast_id
LEFT JOIN (SELECT DISTINCT beheerder_id FROM pairs) r ON r.beheerder_id = cur.beheerder_id
LEFT JOIN operation_messages om ON om.broadcast_id = b.id
GROUP BY b.id, b.created_at, om.operation_id
""",
"""WITH cur AS (
  SELECT d.broadcast_id, d.beheerder_id, d.status, d.delivered_at, d.read_at, d.forwarded_at,
         row_number() OVER (PARTITION BY d.broadcast_id
                            ORDER BY CASE WHEN d.delivered_at IS NULL THEN 1 ELSE 0 END, d.delivered_at, d.id)
           AS rn,
         (count(*) OVER (PARTITION BY d.broadcast_id) * 9 + 9) / 10 AS needed
  FROM deliveries d
  WHERE d.purpose = 'alert' AND d.superseded IS FALSE
),
pairs AS (
  SELECT DISTINCT bg.beheerder_id, g.id AS group_id, w.code AS wijk
  FROM beheerder_groups bg JOIN groups g ON g.id = bg.group_id JOIN wijken w ON w.id = g.wijk_id
)
INSERT INTO alert_area_facts (broadcast_id, created_at, operation_id, wijk, group_id,
                              recipients, delivered, read, forwarded, failed, pending, groups, groups_forwarded)
SELECT b.id, b.created_at, om.operation_id, p.wijk, p.group_id,
  count(*) AS recipients,
  sum(CASE WHEN cur.delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered,
  sum(CASE WHEN cur.read_at IS NOT NULL THEN 1 ELSE 0 END) AS read,
  sum(CASE WHEN cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END) AS forwarded,
  sum(CASE WHEN cur.status = 'failed' THEN 1 ELSE 0 END) AS failed,
  sum(CASE WHEN cur.status IN ('pending', 'sending') THEN 1 ELSE 0 END) AS pending,
  1, max(CASE WHEN cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END)
FROM cur JOIN broadcasts b ON b.id = cur.broadcast_id
JOIN pairs p ON p.beheerder_id = cur.beheerder_id
LEFT JOIN operation_messages om ON om.broadcast_id = b.id
GROUP BY b.id, b.created_at, om.operation_id, p.wijk, p.group_id
""",
"""WITH cur AS (
  SELECT d.broadcast_id, d.beheerder_id, d.status, d.delivered_at, d.read_at, d.forwarded_at,
         row_number() OVER (PARTITION BY d.broadcast_id
                            ORDER BY CASE WHEN d.delivered_at IS NULL THEN 1 ELSE 0 END, d.delivered_at, d.id)
           AS rn,
         (count(*) OVER (PARTITION BY d.broadcast_id) * 9 + 9) / 10 AS needed
  FROM deliveries d
  WHERE d.purpose = 'alert' AND d.superseded IS FALSE
),
pairs AS (
  SELECT DISTINCT bg.beheerder_id, g.id AS group_id, w.code AS wijk
  FROM beheerder_groups bg JOIN groups g ON g.id = bg.group_id JOIN wijken w ON w.id = g.wijk_id
)
INSERT INTO alert_area_facts (broadcast_id, created_at, operation_id, wijk, group_id,
                              recipients, delivered, read, forwarded, failed, pending, groups, groups_forwarded)
SELECT c.broadcast_id, c.created_at, c.operation_id, c.wijk, NULL, c.recipients, c.delivered, c.read, c.forwarded,
       c.failed, c.pending, g.groups, g.groups_forwarded
FROM (SELECT b.id AS broadcast_id, b.created_at, om.operation_id, p.wijk,
  count(*) AS recipients,
  sum(CASE WHEN cur.delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered,
  sum(CASE WHEN cur.read_at IS NOT NULL THEN 1 ELSE 0 END) AS read,
  sum(CASE WHEN cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END) AS forwarded,
  sum(CASE WHEN cur.status = 'failed' THEN 1 ELSE 0 END) AS failed,
  sum(CASE WHEN cur.status IN ('pending', 'sending') THEN 1 ELSE 0 END) AS pending
      FROM cur JOIN broadcasts b ON b.id = cur.broadcast_id
      JOIN (SELECT DISTINCT beheerder_id, wijk FROM pairs) p ON p.beheerder_id = cur.beheerder_id
      LEFT JOIN operation_messages om ON om.broadcast_id = b.id
      GROUP BY b.id, b.created_at, om.operation_id, p.wijk) c
JOIN (SELECT broadcast_id, wijk, count(*) AS groups, sum(groups_forwarded) AS groups_forwarded
      FROM alert_area_facts WHERE group_id IS NOT NULL  GROUP BY broadcast_id, wijk) g
  ON g.broadcast_id = c.broadcast_id AND g.wijk = c.wijk
"""],
    "sqlite": [
"""WITH cur AS (
  SELECT d.broadcast_id, d.beheerder_id, d.status, d.delivered_at, d.read_at, d.forwarded_at,
         row_number() OVER (PARTITION BY d.broadcast_id
                            ORDER BY CASE WHEN d.delivered_at IS NULL THEN 1 ELSE 0 END, d.delivered_at, d.id)
           AS rn,
         (count(*) OVER (PARTITION BY d.broadcast_id) * 9 + 9) / 10 AS needed
  FROM deliveries d
  WHERE d.purpose = 'alert' AND d.superseded IS FALSE
),
pairs AS (
  SELECT DISTINCT bg.beheerder_id, g.id AS group_id, w.code AS wijk
  FROM beheerder_groups bg JOIN groups g ON g.id = bg.group_id JOIN wijken w ON w.id = g.wijk_id
)
INSERT INTO alert_facts (broadcast_id, created_at, operation_id,
                         recipients, delivered, read, forwarded, failed, pending, ninety_s)
SELECT b.id, b.created_at, om.operation_id,
  sum(CASE WHEN r.beheerder_id IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.delivered_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.read_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.status = 'failed' THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.status IN ('pending', 'sending') THEN 1 ELSE 0 END),
  max(CASE WHEN cur.rn = cur.needed AND cur.delivered_at IS NOT NULL
           THEN CAST(strftime('%s', cur.delivered_at) AS INTEGER)
                - CAST(strftime('%s', b.created_at) AS INTEGER) END)
FROM cur JOIN broadcasts b ON b.id = cur.broadcast_id
LEFT JOIN (SELECT DISTINCT beheerder_id FROM pairs) r ON r.beheerder_id = cur.beheerder_id
LEFT JOIN operation_messages om ON om.broadcast_id = b.id
GROUP BY b.id, b.created_at, om.operation_id
""",
"""WITH cur AS (
  SELECT d.broadcast_id, d.beheerder_id, d.status, d.delivered_at, d.read_at, d.forwarded_at,
         row_number() OVER (PARTITION BY d.broadcast_id
                            ORDER BY CASE WHEN d.delivered_at IS NULL THEN 1 ELSE 0 END, d.delivered_at, d.id)
           AS rn,
         (count(*) OVER (PARTITION BY d.broadcast_id) * 9 + 9) / 10 AS needed
  FROM deliveries d
  WHERE d.purpose = 'alert' AND d.superseded IS FALSE
),
pairs AS (
  SELECT DISTINCT bg.beheerder_id, g.id AS group_id, w.code AS wijk
  FROM beheerder_groups bg JOIN groups g ON g.id = bg.group_id JOIN wijken w ON w.id = g.wijk_id
)
INSERT INTO alert_area_facts (broadcast_id, created_at, operation_id, wijk, group_id,
                              recipients, delivered, read, forwarded, failed, pending, groups, groups_forwarded)
SELECT b.id, b.created_at, om.operation_id, p.wijk, p.group_id,
  count(*) AS recipients,
  sum(CASE WHEN cur.delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered,
  sum(CASE WHEN cur.read_at IS NOT NULL THEN 1 ELSE 0 END) AS read,
  sum(CASE WHEN cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END) AS forwarded,
  sum(CASE WHEN cur.status = 'failed' THEN 1 ELSE 0 END) AS failed,
  sum(CASE WHEN cur.status IN ('pending', 'sending') THEN 1 ELSE 0 END) AS pending,
  1, max(CASE WHEN cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END)
FROM cur JOIN broadcasts b ON b.id = cur.broadcast_id
JOIN pairs p ON p.beheerder_id = cur.beheerder_id
LEFT JOIN operation_messages om ON om.broadcast_id = b.id
GROUP BY b.id, b.created_at, om.operation_id, p.wijk, p.group_id
""",
"""WITH cur AS (
  SELECT d.broadcast_id, d.beheerder_id, d.status, d.delivered_at, d.read_at, d.forwarded_at,
         row_number() OVER (PARTITION BY d.broadcast_id
                            ORDER BY CASE WHEN d.delivered_at IS NULL THEN 1 ELSE 0 END, d.delivered_at, d.id)
           AS rn,
         (count(*) OVER (PARTITION BY d.broadcast_id) * 9 + 9) / 10 AS needed
  FROM deliveries d
  WHERE d.purpose = 'alert' AND d.superseded IS FALSE
),
pairs AS (
  SELECT DISTINCT bg.beheerder_id, g.id AS group_id, w.code AS wijk
  FROM beheerder_groups bg JOIN groups g ON g.id = bg.group_id JOIN wijken w ON w.id = g.wijk_id
)
INSERT INTO alert_area_facts (broadcast_id, created_at, operation_id, wijk, group_id,
                              recipients, delivered, read, forwarded, failed, pending, groups, groups_forwarded)
SELECT c.broadcast_id, c.created_at, c.operation_id, c.wijk, NULL, c.recipients, c.delivered, c.read, c.forwarded,
       c.failed, c.pending, g.groups, g.groups_forwarded
FROM (SELECT b.id AS broadcast_id, b.created_at, om.operation_id, p.wijk,
  count(*) AS recipients,
  sum(CASE WHEN cur.delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered,
  sum(CASE WHEN cur.read_at IS NOT NULL THEN 1 ELSE 0 END) AS read,
  sum(CASE WHEN cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END) AS forwarded,
  sum(CASE WHEN cur.status = 'failed' THEN 1 ELSE 0 END) AS failed,
  sum(CASE WHEN cur.status IN ('pending', 'sending') THEN 1 ELSE 0 END) AS pending
      FROM cur JOIN broadcasts b ON b.id = cur.broadcast_id
      JOIN (SELECT DISTINCT beheerder_id, wijk FROM pairs) p ON p.beheerder_id = cur.beheerder_id
      LEFT JOIN operation_messages om ON om.broadcast_id = b.id
      GROUP BY b.id, b.created_at, om.operation_id, p.wijk) c
JOIN (SELECT broadcast_id, wijk, count(*) AS groups, sum(groups_forwarded) AS groups_forwarded
      FROM alert_area_facts WHERE group_id IS NOT NULL  GROUP BY broadcast_id, wijk) g
  ON g.broadcast_id = c.broadcast_id AND g.wijk = c.wijk
"""],
}

COUNTS = ('recipients', 'delivered', 'read', 'forwarded', 'failed', 'pending')


def _counts() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS]


def upgrade() -> None:
    op.create_table('alert_facts',
    sa.Column('broadcast_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=True),
    *_counts(),
    sa.Column('ninety_s', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('broadcast_id', name=op.f('pk_alert_facts'))
    )
    op.create_index('ix_alert_facts_created_at', 'alert_facts', ['created_at'], unique=False)
    op.create_table('alert_area_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=True),
    sa.Column('wijk', sa.String(length=16), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    *_counts(),
    sa.Column('groups', sa.Integer(), nullable=False),
    sa.Column('groups_forwarded', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_area_facts'))
    )
    op.create_index('ix_alert_area_facts_wijk', 'alert_area_facts', ['wijk', 'created_at'], unique=False,
                    postgresql_where=sa.text('group_id IS NULL'), sqlite_where=sa.text('group_id IS NULL'))
    op.create_index('ix_alert_area_facts_group', 'alert_area_facts', ['group_id', 'created_at'], unique=False,
                    postgresql_where=sa.text('group_id IS NOT NULL'), sqlite_where=sa.text('group_id IS NOT NULL'))
    op.create_index(op.f('ix_alert_area_facts_broadcast_id'), 'alert_area_facts', ['broadcast_id'], unique=False)
    op.create_table('alert_fact_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_fact_changes'))
    )
    op.create_index('ix_report_facts_operation', 'report_facts', ['operation_id', 'day'], unique=False,
                    postgresql_where=sa.text('operation_id IS NOT NULL'),
                    sqlite_where=sa.text('operation_id IS NOT NULL'))
    bind = op.get_bind()
    for statement in BACKFILL["postgresql" if bind.dialect.name == "postgresql" else "sqlite"]:
        bind.execute(sa.text(statement))
    if bind.dialect.name == "postgresql":  # plan the evaluation's first queries on the backfilled rows
        bind.execute(sa.text("ANALYZE alert_facts, alert_area_facts"))


def downgrade() -> None:
    op.drop_index('ix_report_facts_operation', table_name='report_facts')
    op.drop_table('alert_fact_changes')
    op.drop_index(op.f('ix_alert_area_facts_broadcast_id'), table_name='alert_area_facts')
    op.drop_index('ix_alert_area_facts_group', table_name='alert_area_facts')
    op.drop_index('ix_alert_area_facts_wijk', table_name='alert_area_facts')
    op.drop_table('alert_area_facts')
    op.drop_index('ix_alert_facts_created_at', table_name='alert_facts')
    op.drop_table('alert_facts')
