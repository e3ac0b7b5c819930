"""Who may run which operation: a specialist any; a wijkagent a probleemaanpak in its own wijken; an operator a
heterdaad or vermissing, opened from an incident. Running covers creating, inviting, messaging and closing."""

from __future__ import annotations

from collections.abc import Sequence

from app.core.errors import ProblemError
from app.core.principal import Principal
from app.core.vocabulary import OPERATION_KIND

OPERATOR_KINDS = ("heterdaad", "vermissing")
WIJKAGENT_KINDS = ("probleemaanpak",)
PUBLIC_KINDS = ("evenement", "vermissing")  # may have a keyword for the public (app.operations.public)


def _refuse(detail: str, code: str, field: str = "kind") -> ProblemError:
    return ProblemError(403, "Geen toegang", detail, field=field, code=code)


def _kinds(kinds: Sequence[str]) -> str:
    return " of ".join(OPERATION_KIND.label(kind).lower() for kind in kinds)


def check_may_run(actor: Principal, kind: str, wijkcodes: Sequence[str]) -> None:
    if actor.role == "specialist":
        return
    if actor.role == "operator":
        if kind not in OPERATOR_KINDS:
            raise _refuse(f"Een centralist mag alleen een {_kinds(OPERATOR_KINDS)} openen.", "kind_not_allowed")
        return
    if actor.role == "wijkagent":
        if kind not in WIJKAGENT_KINDS:
            raise _refuse(f"Een wijkagent mag alleen een {_kinds(WIJKAGENT_KINDS)} houden.", "kind_not_allowed")
        outside = [code for code in wijkcodes if code not in actor.wijkcodes]
        if outside:
            raise _refuse(f"Een wijkagent mag alleen in de eigen wijken een actie houden; niet in "
                          f"{', '.join(outside)}.", "wijk_not_allowed", field="area")
        return
    raise _refuse("Uw rol mag geen acties houden.", "forbidden")
