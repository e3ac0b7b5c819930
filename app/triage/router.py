"""GET /api/v1/meta: the vocabulary every screen renders from (labels, option lists, permissions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.core import vocabulary as v
from app.core.deps import allow
from app.core.principal import Principal
from app.core.vocabulary import STAFF
from app.triage.deps import KnowledgeBaseDep
from app.triage.vocabulary import offence_vocabulary

router = APIRouter(tags=["vocabulaire"])


@router.get("/meta", summary="Codes en Nederlandse namen van urgenties, categorieën, delicten, rollen en rechten")
async def meta(kb: KnowledgeBaseDep, _: Principal = allow(*STAFF, "wall", "beheerder")) -> dict[str, Any]:
    return {
        "timezone": v.TIMEZONE,
        "urgencies": v.URGENCY.as_json(),
        "categories": v.CATEGORY.as_json(),
        "offences": offence_vocabulary(kb.lexicon).as_json(),
        "follow_ups": v.FOLLOW_UP.as_json(),
        "results": v.RESULT.as_json(),
        "report_statuses": v.REPORT_STATUS.as_json(),
        "incident_statuses": v.INCIDENT_STATUS.as_json(),
        "broadcast_kinds": v.BROADCAST_KIND.as_json(),
        "message_kinds": v.MESSAGE_KIND.as_json(),
        "channels": v.CHANNEL.as_json(),
        "roles": v.STAFF_ROLE.as_json(),
        "operation_kinds": v.OPERATION_KIND.as_json(),
        "operation_statuses": v.OPERATION_STATUS.as_json(),
        "participant_statuses": v.PARTICIPANT_STATUS.as_json(),
        "permissions": {name: list(roles) for name, roles in v.PERMISSIONS.items()},
    }
