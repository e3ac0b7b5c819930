"""API shapes of operations, their participants and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from app.broadcast.schemas import TargetIn, WarningCode
from app.core.schemas import EntityId, IsoDateTime, PatchModel
from app.core.vocabulary import OperationKind, OperationStatus, ParticipantStatus
from app.intake.schemas import normalise_text

ANSWER_WORDS = frozenset({"ja", "jaa", "nee", "neen", "stop", "yes", "no", "ok", "oke", "afmelden", "aanmelden"})


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
    keyword: str | None = Field(default=None, min_length=3, max_length=32, pattern=r"^[A-Za-z0-9]+$",
                                description="Evenement of vermissing: het woord op de posters waarmee iedereen via "
                                            "WhatsApp kan meedoen (bijv. BEACHALERT); opgeslagen in hoofdletters")
    confirm_warnings: list[WarningCode] = Field(
        default_factory=list, description="Privacywaarschuwingen over de briefing die u bewust negeert")

    _texts = field_validator("name", "briefing")(_clean)

    @field_validator("keyword")
    @classmethod
    def _keyword(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.casefold() in ANSWER_WORDS:
            raise ValueError("dit woord is een antwoord (ja, nee, stop), geen trefwoord")
        return value.upper()


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


class PublicCounts(BaseModel):
    """Members of the public who sent the keyword: asked for consent, taking part, stopped."""

    consent_asked: int
    joined: int
    left: int

    @classmethod
    def of(cls, by_status: dict[str, int]) -> PublicCounts:
        return cls(consent_asked=by_status.get("consent_asked", 0), joined=by_status.get("joined", 0),
                   left=by_status.get("left", 0))


class OperationOut(BaseModel):
    id: int
    name: str
    kind: OperationKind
    status: OperationStatus
    keyword: str | None
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
    public_participants: PublicCounts


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
    public_participants: PublicCounts = Field(description="Publiek dat via het trefwoord meedeed")
    reports: int = Field(description="Meldingen van deelnemers terwijl de actie open was")
    reports_by_category: dict[str, int]
    reports_by_urgency: dict[str, int]
    follow_ups: dict[str, int]
    results: dict[str, int]
    messages: dict[str, MessageCounts] = Field(description="Per soort: invitation, message, closing, answer")
    reports_with_action: int = Field(description="Meldingen met een terugkoppeling of afgehandeld")
    median_seconds_to_action: float | None = Field(
        description="Mediaan van de tijd van ontvangst tot de eerste terugkoppeling of afhandeling")


class QuickIn(BaseModel):
    """A heterdaad or vermissing opened from an incident, for the wijken within the radius of its place."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["heterdaad", "vermissing"]
    radius_m: int = Field(default=1000, ge=100, le=10_000, description="Straal rond de plaats van het incident")
    briefing: str | None = Field(default=None, max_length=2000,
                                 description="De tekst voor de beheerders; zonder: de beschrijving van het incident")
    minutes: int = Field(default=120, ge=15, le=24 * 60, description="Hoe lang de actie loopt, vanaf nu")
    confirm_warnings: list[WarningCode] = Field(default_factory=list)

    @field_validator("briefing")
    @classmethod
    def _briefing(cls, value: str | None) -> str | None:
        return normalise_text(value) or None if value is not None else None


class QuickOut(BaseModel):
    id: int
    status: OperationStatus
    wijkcodes: list[str]
    invited: int = Field(description="Uitgenodigde beheerders")
    warnings: list[WarningOut] = Field(default_factory=list)
