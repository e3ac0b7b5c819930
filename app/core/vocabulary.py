"""The meldkamer's vocabulary: every fixed enumeration with its Dutch label, defined once.

Services validate against these, the dashboard renders from them (served by `GET /api/v1/meta`).
Offences are not here: the triage lexicon (config/triage.yaml) defines them with their labels, so that a
new offence is a change to that file only (see app.triage.vocabulary)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, get_args


@dataclass(frozen=True)
class Term:
    code: str
    label: str


@dataclass(frozen=True)
class Vocabulary:
    """An ordered list of codes with their Dutch labels; the order is meaningful (most urgent first)."""

    terms: tuple[Term, ...]

    @classmethod
    def of(cls, codes: Any, **labels: str) -> Vocabulary:
        """Labels for every code of the Literal type `codes`, in its order; a missing or extra label fails at
        import, so the type and its labels cannot drift apart."""
        expected = get_args(codes)
        if set(labels) != set(expected):
            raise ValueError(f"labels {sorted(labels)} do not match the codes {sorted(expected)}")
        return cls(tuple(Term(code, labels[code]) for code in expected))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(term.code for term in self.terms)

    def label(self, code: str) -> str:
        return next((term.label for term in self.terms if term.code == code), code)

    def rank(self, code: str | None) -> int:
        """Position in the list; an unknown code ranks after every known one."""
        codes = self.codes
        return codes.index(code) if code in codes else len(codes)

    def as_json(self) -> list[dict[str, str]]:
        return [{"code": term.code, "label": term.label} for term in self.terms]

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)


Urgency = Literal["P1", "P2", "P3", "none"]
URGENCY = Vocabulary.of(Urgency, P1="P1", P2="P2", P3="P3", none="Geen politietaak")
WALL_URGENCIES: tuple[Urgency, ...] = ("P1", "P2")  # what a videowall shows

Category = Literal["signalement", "delict", "verdachte_situatie", "informatie", "vermissing", "overig"]
CATEGORY = Vocabulary.of(Category, signalement="Signalement", delict="Delict",
                         verdachte_situatie="Verdachte situatie", informatie="Informatie", vermissing="Vermissing",
                         overig="Overig")

FollowUp = Literal["ter_plaatse", "surveillance", "doorgezet_gemeente", "actie_wijkagent", "interne_informatiedeling",
                   "geen_opvolging"]
FOLLOW_UP = Vocabulary.of(FollowUp, ter_plaatse="Eenheid ter plaatse", surveillance="Surveillance",
                          doorgezet_gemeente="Doorgezet naar gemeente", actie_wijkagent="Actie wijkagent",
                          interne_informatiedeling="Interne informatiedeling", geen_opvolging="Geen opvolging")

Result = Literal["aanhouding", "persoon_gevonden", "geen_verdachte_situatie", "onbekend"]
RESULT = Vocabulary.of(Result, aanhouding="Aanhouding", persoon_gevonden="Persoon gevonden",
                       geen_verdachte_situatie="Geen verdachte situatie", onbekend="Onbekend")

ReportStatus = Literal["ontvangen", "in_behandeling", "afgehandeld"]
REPORT_STATUS = Vocabulary.of(ReportStatus, ontvangen="Ontvangen", in_behandeling="In behandeling",
                              afgehandeld="Afgehandeld")

IncidentStatus = Literal["open", "closed", "merged"]
INCIDENT_STATUS = Vocabulary.of(IncidentStatus, open="Open", closed="Gesloten", merged="Samengevoegd")

BroadcastKind = Literal["heterdaad", "signalement", "vermissing", "waarschuwing", "informatie", "einde"]
BROADCAST_KIND = Vocabulary.of(BroadcastKind, heterdaad="Heterdaad", signalement="Signalement",
                               vermissing="Vermissing", waarschuwing="Waarschuwing", informatie="Informatie",
                               einde="Einde alarm")

# What beheerders receive: the alert kinds above, and "actie" for the messages of an operation (app.operations
# sends those; the alert form never offers it).
MessageKind = Literal[BroadcastKind, "actie"]
MESSAGE_KIND = Vocabulary.of(MessageKind, **{term.code: term.label for term in BROADCAST_KIND.terms}, actie="Actie")

Channel = Literal["whatsapp", "app", "webhook", "email"]
CHANNEL = Vocabulary.of(Channel, whatsapp="WhatsApp", app="In de app", webhook="Partner-app", email="E-mail")

OperationKind = Literal["ddo", "heterdaad", "vermissing", "evenement", "probleemaanpak"]
OPERATION_KIND = Vocabulary.of(OperationKind, ddo="DDO-actiedag", heterdaad="Heterdaad", vermissing="Vermissing",
                               evenement="Evenement", probleemaanpak="Probleemaanpak")

OperationStatus = Literal["gepland", "open", "gesloten"]
OPERATION_STATUS = Vocabulary.of(OperationStatus, gepland="Gepland", open="Open", gesloten="Gesloten")

# A beheerder's answer to an operation's invitation; "no_answer" until they join or decline.
ParticipantStatus = Literal["no_answer", "joined", "declined", "left"]
PARTICIPANT_STATUS = Vocabulary.of(ParticipantStatus, no_answer="Geen antwoord", joined="Doet mee",
                                   declined="Afgeslagen", left="Afgemeld")

StaffRole = Literal["operator", "specialist", "wijkagent", "analyst", "admin"]
STAFF_ROLE = Vocabulary.of(StaffRole, operator="centralist", specialist="operationeel specialist",
                           wijkagent="wijkagent", analyst="analist", admin="beheer")
STAFF: tuple[StaffRole, ...] = get_args(StaffRole)

# Who may do what, by role: the route guards and the dashboard use the same lists.
DECIDERS: tuple[StaffRole, ...] = ("operator", "specialist")  # decide on incidents
ALERT_SENDERS: tuple[StaffRole, ...] = ("operator", "specialist", "wijkagent")
QUEUE_READERS: tuple[StaffRole, ...] = ("operator", "specialist", "wijkagent", "analyst")
KNOWLEDGE_EDITORS: tuple[StaffRole, ...] = ("wijkagent", "analyst")  # hotspots and signalementen
AGREEMENT_READERS: tuple[StaffRole, ...] = ("analyst", "specialist")  # the engine against the operators
# Operations: a specialist runs any kind, a wijkagent a probleemaanpak in its own wijken, an operator a heterdaad
# or vermissing from an incident (app.operations.permissions holds the rule per kind).
OPERATION_RUNNERS: tuple[StaffRole, ...] = ("specialist", "wijkagent", "operator")
OPERATION_READERS: tuple[StaffRole, ...] = ("specialist", "wijkagent", "operator", "analyst", "admin")
PERMISSIONS: dict[str, tuple[StaffRole, ...]] = {
    "decide": DECIDERS, "send_alerts": ALERT_SENDERS, "read_queue": QUEUE_READERS,
    "edit_knowledge": KNOWLEDGE_EDITORS, "read_agreement": AGREEMENT_READERS,
    "run_operations": OPERATION_RUNNERS, "read_operations": OPERATION_READERS,
}

TIMEZONE = "Europe/Amsterdam"
