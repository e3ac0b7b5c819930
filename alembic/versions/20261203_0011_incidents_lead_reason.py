"""incidents: the most serious reason of any of their reports ({code, text}), kept on the row for the card

The wall showed the first report's text only; a weapon or an injury named in a later report did not reach
the card. Backfilled from the reports' stored triage, with the ranking app.incidents.lead had at this
revision (copied here: a migration does not change when the application does).

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03 21:00:00
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SERIOUS = ("floor_weapon", "floor_harm", "floor_hit_and_run", "floor_ambulance", "floor_fire", "floor_robbery",
            "floor_snatch", "missing_child", "missing_vulnerable", "floor_missing", "signalement_match")
_FLOOR_PREFIX = "veiligheidsvloer P1: "
_SET_LEAD = sa.text("UPDATE incidents SET lead_reason = :lead WHERE id = :id").bindparams(
    sa.bindparam("lead", type_=sa.JSON()))


def _lead(triage: object) -> tuple[int, dict[str, str]] | None:
    suggestion = json.loads(triage) if isinstance(triage, str) else triage
    reasons = (suggestion or {}).get("reasons") or () if isinstance(suggestion, dict) else ()
    serious = [r for r in reasons if isinstance(r, dict) and r.get("code") in _SERIOUS]
    if not serious:
        return None
    best = min(serious, key=lambda reason: _SERIOUS.index(reason["code"]))
    text = str(best.get("text") or "").removeprefix(_FLOOR_PREFIX)
    return _SERIOUS.index(best["code"]), {"code": best["code"], "text": text[:1].upper() + text[1:]}


def upgrade() -> None:
    op.add_column('incidents', sa.Column('lead_reason', sa.JSON(), nullable=True))
    connection = op.get_bind()
    # JSON operators differ between SQLite and PostgreSQL: a text filter on both finds the candidates.
    rows = connection.execute(sa.text(
        "SELECT incident_id, triage FROM reports WHERE incident_id IS NOT NULL AND (CAST(triage AS TEXT) LIKE "
        "'%floor_%' OR CAST(triage AS TEXT) LIKE '%missing_%' OR CAST(triage AS TEXT) LIKE '%signalement_match%') "
        "ORDER BY received_at, id"))
    leads: dict[int, tuple[int, dict[str, str]]] = {}
    for incident_id, triage in rows:
        found = _lead(triage)
        if found is not None and (incident_id not in leads or found[0] < leads[incident_id][0]):
            leads[incident_id] = found
    for incident_id, (_, lead) in sorted(leads.items()):
        connection.execute(_SET_LEAD, {"lead": lead, "id": incident_id})


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('lead_reason')
