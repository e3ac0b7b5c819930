"""API shapes of operations, their participants and their messages."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from app.broadcast.schemas import TargetIn, WarningCode
from app.core.schemas import EntityId, IsoDateTime, PatchModel
from app.core.vocabulary import OperationKind, OperationStatus, ParticipantStatus
from app.intake.schemas import normalise_text


def _clean(value: str) -> str:
    cleaned = normalise_text(value)
    if not cleaned:
        raise ValueError("de tekst is leeg")
    return cleaned


class OperationIn(BaseModel):
    """Times without an offset are Dutch time (Europe/Amsterdam)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: OperationKind
    area: TargetIn = Field(description="wijkcodes, gemeentecodes en/of een cirkel (lat, lon, radius_m)")
    starts_at: IsoDateTime
    ends_at: IsoDateTime
    briefing: str = Field(min_length=1, max_length=2000,
                          description="Voor de deelnemers: waar op te letten, wat niet te doen")
    incident_ids: list[EntityId] = Field(default_factory=list, max_length=50)
    confirm_warnings: list[WarningCode] = Field(
        default_factory=list, description="Privacywaarschuwingen over de briefing die u bewust negeert")

    _texts = field_validator("name", "briefing")(_clean)


class OperationPatch(PatchModel):
    """A change to a planned operation: only the fields sent change; the result is checked as a new one is."""

    name: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=200)
    kind: OperationKind | SkipJsonSchema[None] = None
    area: TargetIn | SkipJsonSchema[None] = None
    starts_at: IsoDateTime | SkipJsonSchema[None] = None
    ends_at: IsoDateTime | SkipJsonSchema[None] = None
    briefing: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=2000)
    confirm_warnings: list[WarningCode] = Field(default_factory=list)

    @field_validator("name", "briefing")
    @classmethod
    def _texts(cls, value: str | None) -> str | None:
        return _clean(value) if value is not None else None


class PreviewIn(BaseModel):
    """The area being edited in the form: who is in it, and which operations of the same kind overlap."""

    model_config = ConfigDict(extra="forbid")
    area: TargetIn
    kind: OperationKind | None = None
    starts_at: IsoDateTime | None = None
    ends_at: IsoDateTime | None = None
    operation_id: EntityId | None = Field(default=None, description="De actie die wordt bewerkt (telt niet mee)")


class OverlapOut(BaseModel):
    id: int
    name: str
    kind: OperationKind
    status: OperationStatus
    starts_at: datetime
    ends_at: datetime


class PreviewOut(BaseModel):
    wijkcodes: list[str]
    beheerders: int = Field(description="Actieve beheerders van actieve groepen in het gebied")
    overlapping: list[OverlapOut] = Field(description="Niet gesloten acties van dezelfde soort, in dezelfde tijd "
                                                      "en hetzelfde gebied")


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=1000)
    confirm_warnings: list[WarningCode] = Field(default_factory=list)

    _text = field_validator("text")(_clean)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, max_length=1000, description="Dank en resultaten voor de deelnemers")
    confirm_warnings: list[WarningCode] = Field(default_factory=list)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return normalise_text(value) or None if value is not None else None


class WarningOut(BaseModel):
    code: str
    message: str
    operation_ids: list[int] = Field(default_factory=list)


class OperationCreated(BaseModel):
    id: int
    status: OperationStatus
    warnings: list[WarningOut] = Field(default_factory=list,
                                       description="Bijvoorbeeld een andere actie van dezelfde soort in dit gebied")


class ParticipantCounts(BaseModel):
    invited: int
    joined: int
    declined: int
    left: int
    no_answer: int

    @classmethod
    def of(cls, by_status: dict[str, int]) -> ParticipantCounts:
        return cls(invited=sum(by_status.values()), joined=by_status.get("joined", 0),
                   declined=by_status.get("declined", 0), left=by_status.get("left", 0),
                   no_answer=by_status.get("no_answer", 0))


class ParticipantOut(BaseModel):
    beheerder_id: int
    name: str
    wijkcodes: list[str]
    status: ParticipantStatus
    invited_at: datetime | None
    answered_at: datetime | None
    answered_via: str | None


class OperationOut(BaseModel):
    id: int
    name: str
    kind: OperationKind
    status: OperationStatus
    area: dict[str, object]
    wijkcodes: list[str]
    gemeentecodes: list[str]
    starts_at: datetime = Field(description="In Nederlandse tijd, met de tijdzone")
    ends_at: datetime
    briefing: str
    incident_ids: list[int]
    created_by: str
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    participants: ParticipantCounts


class OperationDetail(OperationOut):
    participant_list: list[ParticipantOut]


class InvitedOut(BaseModel):
    invited: int = Field(description="Nieuw uitgenodigd")
    already_invited: int
    broadcast_id: int | None


class SentOut(BaseModel):
    broadcast_id: int
    recipients: int


class ParticipationOut(BaseModel):
    """The beheerder's own view of an operation they were invited to or joined."""

    operation_id: int
    name: str
    kind: OperationKind
    operation_status: OperationStatus
    starts_at: datetime
    ends_at: datetime
    briefing: str
    status: ParticipantStatus


class MessageCounts(BaseModel):
    messages: int
    recipients: int
    sent: int
    delivered: int
    forwarded: int
    failed: int


class DayReportOut(BaseModel):
    operation_id: int
    name: str
    kind: OperationKind
    status: OperationStatus
    starts_at: datetime
    ends_at: datetime
    participants: ParticipantCounts
    reports: int = Field(description="Meldingen van deelnemers terwijl de actie open was")
    reports_by_category: dict[str, int]
    reports_by_urgency: dict[str, int]
    follow_ups: dict[str, int]
    results: dict[str, int]
    messages: dict[str, MessageCounts] = Field(description="Per soort: invitation, message, closing, answer")
    reports_with_action: int = Field(description="Meldingen met een terugkoppeling of afgehandeld")
    median_seconds_to_action: float | None = Field(
        description="Mediaan van de tijd van ontvangst tot de eerste terugkoppeling of afhandeling")
