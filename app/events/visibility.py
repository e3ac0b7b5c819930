"""Who sees which event, and what of it: one rule, used for the live stream, the replay and the polling API
alike. Which fields of an event a principal receives is its `View` (`app.events.projection`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_

from app.core.errors import Forbidden
from app.core.principal import Principal
from app.events.models import Event
from app.events.projection import WALL, WHOLE, View

STAFF_AUDIENCE = "staff"


def beheerder_audience(beheerder_id: int) -> str:
    return f"beheerder:{beheerder_id}"


@dataclass(frozen=True)
class Visibility:
    """Staff see every "staff" event; a wall sees the "staff" events its view shows, of its own region and
    those without a region; a beheerder sees only the events addressed to "beheerder:<own id>"."""

    audience: str
    region_scoped: bool = False
    region_id: int | None = None
    view: View = WHOLE

    @classmethod
    def for_principal(cls, principal: Principal) -> Visibility:
        if principal.kind == "staff":
            return cls(STAFF_AUDIENCE)
        if principal.kind == "wall":
            return cls(STAFF_AUDIENCE, region_scoped=True, region_id=principal.region_id, view=WALL)
        if principal.kind == "beheerder":
            return cls(beheerder_audience(principal.id))
        raise Forbidden("Dit account heeft geen eventstroom.")

    def allows(self, audience: str, region_id: int | None, event_type: str) -> bool:
        if audience != self.audience:
            return False
        types = self.view.event_types
        if types is not None and event_type not in types:
            return False
        return not self.region_scoped or region_id is None or region_id == self.region_id

    def clause(self) -> ColumnElement[bool]:
        """The same rule as `allows`, as a WHERE clause on the events table."""
        conditions = [Event.audience == self.audience]
        types = self.view.event_types
        if types is not None:
            conditions.append(Event.type.in_(sorted(types)))
        if self.region_scoped:
            conditions.append(or_(Event.region_id.is_(None), Event.region_id == self.region_id))
        return and_(*conditions)
