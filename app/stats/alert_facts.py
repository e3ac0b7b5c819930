"""The alerts' facts: per alert its counts and its time to 90% delivered, and per alert and wijk (and per alert
and group) the counts over the recipients who run a group there, with the groups reached and forwarded to.
The evaluation sums these few thousand rows instead of reading every delivery (docs/performance.md).

Kept like the report facts (app.stats.facts): wherever deliveries change, the broadcast domain queues the
alert (`AlertFactChange`, from `mark_dirty` and `enqueue_alert`) in its own transaction, and `fold_alerts`
computes the queued alerts' facts again from the deliveries before every evaluation, so a figure is exact
right after a delivery status changes. An alert's wijken are those of its recipients' groups when its
deliveries last changed. An alert without current deliveries (all removed) keeps its last facts.

The statements are plain SQL, the same that migration 0019 backfills with: both engines read them alike, only
whole seconds since 1970 are spelt per engine."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from app.broadcast.models import Delivery
from app.stats.models import AlertAreaFact, AlertFact, AlertFactChange

CHUNK = 500  # alerts per statement
FOLD_LOCK = 15_002  # PostgreSQL advisory lock: one alert fold at a time

EPOCH = {"postgresql": "CAST(floor(extract(epoch FROM {0})) AS BIGINT)",
         "sqlite": "CAST(strftime('%s', {0}) AS INTEGER)"}

# The current alert deliveries (a row a fallback channel replaced does not count), each ranked by when it was
# delivered; `needed` is ceil(90%) of the alert's deliveries, in integers.
CURRENT = """
WITH cur AS (
  SELECT d.broadcast_id, d.beheerder_id, d.status, d.delivered_at, d.read_at, d.forwarded_at,
         row_number() OVER (PARTITION BY d.broadcast_id
                            ORDER BY CASE WHEN d.delivered_at IS NULL THEN 1 ELSE 0 END, d.delivered_at, d.id)
           AS rn,
         (count(*) OVER (PARTITION BY d.broadcast_id) * 9 + 9) / 10 AS needed
  FROM deliveries d
  WHERE d.purpose = 'alert' AND d.superseded IS FALSE {only}
),
pairs AS (
  SELECT DISTINCT bg.beheerder_id, g.id AS group_id, w.code AS wijk
  FROM beheerder_groups bg JOIN groups g ON g.id = bg.group_id JOIN wijken w ON w.id = g.wijk_id
)"""

COUNTS = """count(*) AS recipients,
  sum(CASE WHEN cur.delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered,
  sum(CASE WHEN cur.read_at IS NOT NULL THEN 1 ELSE 0 END) AS read,
  sum(CASE WHEN cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END) AS forwarded,
  sum(CASE WHEN cur.status = 'failed' THEN 1 ELSE 0 END) AS failed,
  sum(CASE WHEN cur.status IN ('pending', 'sending') THEN 1 ELSE 0 END) AS pending"""

COUNT_COLUMNS = "recipients, delivered, read, forwarded, failed, pending"

ALERTS = CURRENT + """
INSERT INTO alert_facts (broadcast_id, created_at, operation_id,
                         """ + COUNT_COLUMNS + """, ninety_s)
SELECT b.id, b.created_at, om.operation_id,
  sum(CASE WHEN r.beheerder_id IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.delivered_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.read_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.status = 'failed' THEN 1 ELSE 0 END),
  sum(CASE WHEN r.beheerder_id IS NOT NULL AND cur.status IN ('pending', 'sending') THEN 1 ELSE 0 END),
  max(CASE WHEN cur.rn = cur.needed AND cur.delivered_at IS NOT NULL
           THEN {delivered_s}
                - {created_s} END)
FROM cur JOIN broadcasts b ON b.id = cur.broadcast_id
LEFT JOIN (SELECT DISTINCT beheerder_id FROM pairs) r ON r.beheerder_id = cur.beheerder_id
LEFT JOIN operation_messages om ON om.broadcast_id = b.id
GROUP BY b.id, b.created_at, om.operation_id"""

GROUPS = CURRENT + """
INSERT INTO alert_area_facts (broadcast_id, created_at, operation_id, wijk, group_id,
                              """ + COUNT_COLUMNS + """, groups, groups_forwarded)
SELECT b.id, b.created_at, om.operation_id, p.wijk, p.group_id,
  """ + COUNTS + """,
  1, max(CASE WHEN cur.forwarded_at IS NOT NULL THEN 1 ELSE 0 END)
FROM cur JOIN broadcasts b ON b.id = cur.broadcast_id
JOIN pairs p ON p.beheerder_id = cur.beheerder_id
LEFT JOIN operation_messages om ON om.broadcast_id = b.id
GROUP BY b.id, b.created_at, om.operation_id, p.wijk, p.group_id"""

# A wijk's row counts each recipient once, also one who runs two of its groups; its groups come from the
# group rows written just before.
WIJKEN = CURRENT + """
INSERT INTO alert_area_facts (broadcast_id, created_at, operation_id, wijk, group_id,
                              """ + COUNT_COLUMNS + """, groups, groups_forwarded)
SELECT c.broadcast_id, c.created_at, c.operation_id, c.wijk, NULL, c.recipients, c.delivered, c.read, c.forwarded,
       c.failed, c.pending, g.groups, g.groups_forwarded
FROM (SELECT b.id AS broadcast_id, b.created_at, om.operation_id, p.wijk,
  """ + COUNTS + """
      FROM cur JOIN broadcasts b ON b.id = cur.broadcast_id
      JOIN (SELECT DISTINCT beheerder_id, wijk FROM pairs) p ON p.beheerder_id = cur.beheerder_id
      LEFT JOIN operation_messages om ON om.broadcast_id = b.id
      GROUP BY b.id, b.created_at, om.operation_id, p.wijk) c
JOIN (SELECT broadcast_id, wijk, count(*) AS groups, sum(groups_forwarded) AS groups_forwarded
      FROM alert_area_facts WHERE group_id IS NOT NULL {only_facts} GROUP BY broadcast_id, wijk) g
  ON g.broadcast_id = c.broadcast_id AND g.wijk = c.wijk"""


def statements(dialect: str, only_queued: bool) -> list[TextClause]:
    """The three INSERT ... SELECT of the facts: of the alerts in the bound list `ids` with `only_queued`, of
    every alert without."""
    epoch = EPOCH["postgresql" if dialect == "postgresql" else "sqlite"]
    only = "AND d.broadcast_id IN :ids" if only_queued else ""
    only_facts = "AND broadcast_id IN :ids" if only_queued else ""
    out = []
    for statement in (ALERTS, GROUPS, WIJKEN):
        sql = text(statement.format(only=only, only_facts=only_facts, delivered_s=epoch.format("cur.delivered_at"),
                                    created_s=epoch.format("b.created_at")))
        out.append(sql.bindparams(bindparam("ids", expanding=True)) if only_queued else sql)
    return out


async def _refresh(session: AsyncSession, broadcast_ids: Sequence[int], dialect: str) -> None:
    """Computes these alerts' facts again; an alert without current deliveries keeps its last facts."""
    existing = sorted({broadcast_id for broadcast_id in await session.scalars(
        select(Delivery.broadcast_id).where(Delivery.broadcast_id.in_(broadcast_ids), Delivery.purpose == "alert",
                                            Delivery.superseded.is_(False)).distinct())
                       if broadcast_id is not None})
    if not existing:
        return
    await session.execute(delete(AlertFact).where(AlertFact.broadcast_id.in_(existing)))
    await session.execute(delete(AlertAreaFact).where(AlertAreaFact.broadcast_id.in_(existing)))
    for statement in statements(dialect, only_queued=True):
        await session.execute(statement, {"ids": existing})


async def fold_alerts(session: AsyncSession) -> int:
    """Brings the alert facts up to date with the queued changes, in the caller's transaction (the caller
    commits). Returns how many alerts' facts were computed again."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FOLD_LOCK})
    last = await session.scalar(select(func.max(AlertFactChange.id)))
    if last is None:
        return 0
    queued = sorted(set(await session.scalars(select(AlertFactChange.broadcast_id).where(AlertFactChange.id <= last))))
    for start in range(0, len(queued), CHUNK):
        await _refresh(session, queued[start:start + CHUNK], dialect)
    await session.execute(delete(AlertFactChange).where(AlertFactChange.id <= last))
    return len(queued)


async def rebuild_alerts(session: AsyncSession) -> None:
    """Every alert's facts from the deliveries (the migration's backfill does the same)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FOLD_LOCK})
    for table in (AlertFactChange, AlertAreaFact, AlertFact):
        await session.execute(delete(table))
    for statement in statements(dialect, only_queued=False):
        await session.execute(statement)
