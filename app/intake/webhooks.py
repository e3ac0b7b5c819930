"""Inbound webhooks: WhatsApp Business Cloud API and partner apps. Both are public routes that prove who
is calling with an HMAC signature instead of a token, and both end in the one intake service."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.deps import SessionDep, SettingsDep
from app.core.errors import ProblemError, Unauthorized
from app.core.guard import strip_nul
from app.core.openapi import problems, request_body
from app.core.schemas import parse_json_body
from app.intake import inbound, service
from app.intake.router import intake_answer
from app.intake.schemas import ReportIn, ReportOut
from app.intake.whatsapp import MalformedWebhook, parse_webhook, verify_handshake, verify_signature
from app.registry.schemas import normalise_phone

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
PARTNER_SIGNATURE = "X-Meldkamer-Signature"
PARTNER_TIMESTAMP = "X-Meldkamer-Timestamp"


def _secret(value: Any, name: str) -> str:
    if value is None or not value.get_secret_value():
        raise ProblemError(503, "Dienst niet beschikbaar", f"{name} is niet ingesteld.", code="not_configured")
    return str(value.get_secret_value())


@router.get("/whatsapp", response_class=PlainTextResponse, summary="WhatsApp-verificatie (hub.challenge)",
            responses=problems(403, 503))
async def whatsapp_handshake(
    settings: SettingsDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    expected = _secret(settings.whatsapp_verify_token, "MELDKAMER_WHATSAPP_VERIFY_TOKEN")
    answer = verify_handshake(mode, token, challenge, expected)
    if answer is None:
        raise ProblemError(403, "Geen toegang", "Verificatietoken klopt niet.", code="bad_verify_token")
    return PlainTextResponse(answer)


WHATSAPP_BODY = {"type": "object", "required": ["object", "entry"],
                 "properties": {"object": {"type": "string", "enum": ["whatsapp_business_account"]},
                                "entry": {"type": "array", "items": {"type": "object"}}}}


@router.post("/whatsapp", summary="WhatsApp-berichten en statusmeldingen", responses=problems(401, 503),
             openapi_extra=request_body(media={"application/json": {"schema": WHATSAPP_BODY}},
                                        description="Meta's webhook, ondertekend met X-Hub-Signature-256"))
async def whatsapp_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    signature: Annotated[str | None, Header(alias="X-Hub-Signature-256")] = None,
) -> dict[str, Any]:
    raw = await request.body()
    if not verify_signature(raw, signature, _secret(settings.whatsapp_app_secret, "MELDKAMER_WHATSAPP_APP_SECRET")):
        raise Unauthorized("De handtekening (X-Hub-Signature-256) klopt niet.")
    try:
        # A NUL cannot be stored and no member typed it: removed here rather than refusing Meta's whole batch.
        batch = parse_webhook(strip_nul(json.loads(raw)))
    except (ValueError, MalformedWebhook) as exc:
        raise ProblemError(400, "Ongeldig webhookbericht", str(exc)[:300], field="body") from exc
    state = request.app.state
    outcomes = [
        await inbound.accept_whatsapp_message(session, state.intake_writer, message,
                                              getattr(state, "whatsapp_reply_handler", None),
                                              getattr(state, "report_group_chosen", None),
                                              getattr(state, "whatsapp_public_handler", None))
        for message in batch.messages
    ] + [await inbound.quarantine_rejected(session, rejected) for rejected in batch.rejected]
    new_statuses = [status for status in batch.statuses if await inbound.store_status(session, status)]
    status_handler = getattr(state, "whatsapp_status_handler", None)
    if status_handler is not None and new_statuses:
        await status_handler(session, new_statuses)
    fetcher = getattr(state, "media_fetcher", None)
    if fetcher is not None:
        fetcher.wake()
    return {"messages": [o.kind for o in outcomes], "statuses_stored": len(new_statuses)}


class PartnerReport(BaseModel):
    """What a partner app (AlarmApp, WaakSamen, ...) sends on behalf of a registered beheerder."""

    model_config = ConfigDict(extra="forbid")
    message_id: str = Field(min_length=1, max_length=120, description="Uniek per partner; herhalen is veilig")
    beheerder_phone: str = Field(max_length=32)
    report: ReportIn

    @field_validator("beheerder_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)


def _verify_partner(secret: str, timestamp: str | None, signature: str | None, raw: bytes,
                    max_age: int) -> None:
    if not timestamp or not signature or not timestamp.isdigit():
        raise Unauthorized(f"{PARTNER_TIMESTAMP} en {PARTNER_SIGNATURE} zijn verplicht.")
    if abs(time.time() - int(timestamp)) > max_age:
        raise Unauthorized("Het bericht is te oud of uit de toekomst (herhaald bericht?).")
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise Unauthorized(f"De handtekening ({PARTNER_SIGNATURE}) klopt niet.")


@router.post("/partner/{partner}", summary="Melding van een partner-app (HMAC-ondertekend)", status_code=201,
             response_model=ReportOut,
             responses={200: {"model": ReportOut, "description": "Herhaald bericht: de eerste melding"},
                        202: {"description": "Onbekende beheerder: in quarantaine"}, **problems(401, 429)},
             openapi_extra=request_body(PartnerReport))
async def partner_webhook(
    partner: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    timestamp: Annotated[str | None, Header(alias=PARTNER_TIMESTAMP)] = None,
    signature: Annotated[str | None, Header(alias=PARTNER_SIGNATURE)] = None,
) -> Response:
    secret = settings.partner_secrets.get(partner)
    if secret is None:
        raise ProblemError(404, "Niet gevonden", f"Partner '{partner}' is niet bekend.", code="unknown_partner")
    raw = await request.body()
    _verify_partner(secret.get_secret_value(), timestamp, signature, raw, settings.webhook_max_age_seconds)
    body = parse_json_body(PartnerReport, raw)
    beheerder = await service.beheerder_by_phone(session, body.beheerder_phone)
    if beheerder is None:
        await service.quarantine(session, channel=f"partner:{partner}", external_id=f"{partner}:{body.message_id}",
                                 sender=body.beheerder_phone, sender_name=None, kind="text",
                                 text=body.report.text, reason="onbekend nummer")
        return JSONResponse({"status": "quarantaine"}, status_code=202)
    intake = service.IntakeRequest(
        beheerder_id=beheerder.id, channel=f"partner:{partner}", body=body.report,
        idempotency_key=f"partner:{partner}:{body.message_id}", request_hash=service.request_hash(body.report),
    )
    return intake_answer(await service.submit_report(session, request.app.state.intake_writer, intake))
