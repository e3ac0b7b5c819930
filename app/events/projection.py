"""What each kind of principal receives of an event: data minimisation, as one rule for every path that hands
out events (the live stream, its replay, the polling API) and for the wall's snapshot of incident cards.

- Staff (operators, specialists, wijkagenten, analysts, admins) get every "staff" event as it was written.
- A beheerder gets only the events addressed to it (its alerts, the terugkoppeling on its reports), whole.
- A videowall gets only the event types in `WALL_EVENTS`, each cut down to the fields of its model here:
  the card of an open P1/P2 incident, a notice that tells it to drop a card (an incident that is no longer an
  open P1/P2, or was merged), the alerts panel, and the name, kind and end of an operation that opens or
  closes (its banner). Raw reports (`report.*`) and any event type not listed never reach a wall; a field not
  named in a model is never sent, so a new field in an event stays with staff until it is added here. Adding a
  field the wall draws is one line in its model.

Which events of which region a principal sees at all is `app.events.visibility`; it carries the `View`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from app.core.vocabulary import WALL_URGENCIES

logger = logging.getLogger("app.events")

EventData = dict[str, Any]
Shape = Callable[[EventData], EventData]


class WallCard(BaseModel):
    """An open P1/P2 incident as the videowall draws its card and map marker."""

    incident_id: int
    status: str
    urgency: str
    category: str | None = None
    offence: str | None = None
    wijkcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    first_report_at: str = Field(description="ISO 8601, UTC")
    report_count: int = 0
    group_count: int = 0
    text: str = Field(default="", description="De samenvatting: het begin van de eerste melding")
    photo: bool = Field(default=False, description="Of er een foto is (de wall toont alleen dat)")
    follow_up: str | None = None
    result: str | None = None
    claimed_by: str | None = Field(default=None, description="Wie het incident in behandeling heeft")
    lead_reason: dict[str, str] | None = Field(default=None, description="De ernstigste reden (wapen, letsel, brand)")

    @field_validator("photo", mode="before")
    @classmethod
    def _has_photo(cls, value: Any) -> bool:
        return bool(value)


class WallCardGone(BaseModel):
    """An incident that is not (or no longer) an open P1/P2: the wall drops its card if it shows one."""

    incident_id: int
    status: str
    urgency: str


class WallMerge(BaseModel):
    incident_id: int
    into: int


class WallBroadcast(BaseModel):
    broadcast_id: int
    kind: str
    wijkcodes: list[str] = Field(default_factory=list)
    recipients: int = 0


class WallBroadcastProgress(BaseModel):
    broadcast_id: int
    kind: str
    recipients: int = 0
    delivered: int = 0
    forwarded: int = 0
    done: bool = False


class WallOperation(BaseModel):
    """An operation that opens or closes: the wall shows "Actie: <naam>" while one runs in its region."""

    operation_id: int
    name: str
    kind: str
    status: str
    ends_at: str = Field(description="ISO 8601, Nederlandse tijd")


def _on_wall(data: EventData) -> bool:
    """Whether an incident (as its event or card data) belongs on a videowall."""
    return data.get("status") == "open" and data.get("urgency") in WALL_URGENCIES


def wall_card(data: EventData) -> WallCard:
    return WallCard.model_validate(data)


def _wall_incident(data: EventData) -> EventData:
    model = WallCard if _on_wall(data) else WallCardGone
    return model.model_validate(data).model_dump()


def _keep(model: type[BaseModel]) -> Shape:
    def shape(data: EventData) -> EventData:
        return model.model_validate(data).model_dump()

    return shape


WALL_EVENTS: Mapping[str, Shape] = {
    "incident.created": _wall_incident,
    "incident.updated": _wall_incident,
    "incident.merged": _keep(WallMerge),
    "broadcast.created": _keep(WallBroadcast),
    "broadcast.progress": _keep(WallBroadcastProgress),
    "operation.opened": _keep(WallOperation),
    "operation.closed": _keep(WallOperation),
}


@dataclass(frozen=True)
class View:
    """What of the events it may see a principal receives: every type whole (`shapes` is None), or only the
    types in `shapes`, each reduced by its shape."""

    name: str
    shapes: Mapping[str, Shape] | None = field(default=None, compare=False)

    @property
    def event_types(self) -> frozenset[str] | None:
        """The event types this view shows, None for all (the events query filters on them)."""
        return None if self.shapes is None else frozenset(self.shapes)

    def project(self, event_type: str, data: EventData) -> EventData | None:
        """The event's data as this principal receives it, or None when it receives nothing of it."""
        if self.shapes is None:
            return data
        shape = self.shapes.get(event_type)
        if shape is None:
            return None
        try:
            return shape(data)
        except ValidationError:
            logger.warning("event of type %s does not fit the %s view; not sent", event_type, self.name)
            return None


WHOLE = View("whole")
WALL = View("wall", WALL_EVENTS)
