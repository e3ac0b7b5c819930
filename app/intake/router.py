"""REST intake for beheerders, their own reports, and staff access to photos (audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from app.audit import service as audit
from app.core.deps import BearerDep, RoleGuard, SessionDep, SettingsDep, allow, client_ip, presented_token
from app.core.errors import InvalidInput, ProblemError, Unauthorized
from app.core.openapi import problems, request_body
from app.core.principal import Principal
from app.core.schemas import IdPath, Offset, Page, parse_json_body
from app.core.settings import Settings
from app.core.vocabulary import STAFF
from app.intake import group_choice, service
from app.intake.photo_pool import PhotoPoolBusy
from app.intake.photos import PhotoRejected, SanitisedUpload
from app.intake.schemas import QuarantineOut, ReportGroupIn, ReportIn, ReportOut

router = APIRouter(prefix="/reports", tags=["meldingen"])
admin_router = APIRouter(prefix="/admin/quarantine", tags=["meldingen"])
Limit = Annotated[int, Query(ge=1, le=200)]


class TooManyReports(ProblemError):
    def __init__(self, retry_after: float) -> None:
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(429, "Te veel meldingen", f"U stuurt sneller meldingen dan toegestaan. Probeer het over "
                         f"{seconds} seconden opnieuw.", code="rate_limited", headers={"Retry-After": str(seconds)})


def _retry_seconds(wait: float) -> int:
    return max(1, int(wait + 0.999))


class TooManyPhotos(ProblemError):
    def __init__(self, retry_after: float) -> None:
        seconds = _retry_seconds(retry_after)
        super().__init__(429, "Te veel foto's", f"U stuurt meer foto's dan de meldkamer per minuut verwerkt. "
                         f"Probeer het over {seconds} seconden opnieuw.", code="photo_budget",
                         headers={"Retry-After": str(seconds)})


class PhotosBusy(ProblemError):
    def __init__(self, retry_after: float) -> None:
        seconds = _retry_seconds(retry_after)
        super().__init__(503, "Fotoverwerking bezet", f"De meldkamer verwerkt nu veel foto's. Probeer het over "
                         f"{seconds} seconden opnieuw.", code="photos_busy", headers={"Retry-After": str(seconds)})


async def _admitted(request: Request, credentials: BearerDep) -> Principal:
    """The caller, with a slot of the shared report limit taken when it is a beheerder: on PostgreSQL the token
    check and the slot are one statement (app.intake.ratelimit.SharedRateLimiter.admit)."""
    token = presented_token(request, credentials)
    if not token:
        raise Unauthorized()
    principal, wait = await request.app.state.intake_rate_limiter.admit(token, client_ip(request))
    request.state.principal = principal
    if wait is not None:
        raise TooManyReports(wait)
    return principal


class _ReportSender(RoleGuard):
    """allow("beheerder") for sending a report, whose token check also takes the beheerder's slot."""

    def __init__(self) -> None:
        super().__init__("beheerder")

    async def __call__(self, principal: Annotated[Principal, Depends(_admitted)]) -> Principal:
        return await super().__call__(principal)


async def _read_multipart(request: Request, settings: Settings) -> tuple[ReportIn, list[bytes]]:
    form = await request.form(max_files=settings.photos_per_report + 1, max_fields=10)
    raw = form.get("report")
    if raw is None:
        raise InvalidInput("Het deel 'report' (JSON) ontbreekt.", field="report")
    body = parse_json_body(ReportIn, raw if isinstance(raw, str) else await raw.read(), field="report")
    uploads = form.getlist("photos")
    if not all(isinstance(item, UploadFile) for item in uploads):
        raise InvalidInput("Een foto moet als bestand worden meegestuurd, niet als tekst.", field="photos")
    if len(uploads) > settings.photos_per_report:
        raise InvalidInput(f"Maximaal {settings.photos_per_report} foto's per melding.", field="photos")
    return body, [await upload.read() for upload in uploads if isinstance(upload, UploadFile)]


async def _sanitise_all(request: Request, principal: Principal, files: list[bytes],
                        settings: Settings) -> list[SanitisedUpload]:
    """Decodes the photos in the photo pool, within the beheerder's budget of decoded pixels: the most they
    can cost is reserved first, what they did cost is settled afterwards."""
    if not files:
        return []
    budget, key = request.app.state.photo_budget, f"beheerder:{principal.id}"
    reserved = len(files) * settings.photo_max_pixels
    wait = budget.reserve(key, reserved)
    if wait is not None:
        raise TooManyPhotos(wait)
    used = reserved  # unless we learn better: a request that went away keeps its reservation
    try:
        outcomes = await request.app.state.photo_pool.sanitise(files)
        used = sum(_decoded_pixels(outcome) for outcome in outcomes)
    except PhotoPoolBusy as busy:
        used = 0
        raise PhotosBusy(busy.retry_after) from busy
    finally:
        budget.settle(key, reserved, used)
    return [_accepted(index, outcome) for index, outcome in enumerate(outcomes)]


def _decoded_pixels(outcome: SanitisedUpload | PhotoRejected) -> int:
    if isinstance(outcome, PhotoRejected):
        return outcome.pixels
    return outcome.photo.width * outcome.photo.height


def _accepted(index: int, outcome: SanitisedUpload | PhotoRejected) -> SanitisedUpload:
    if isinstance(outcome, PhotoRejected):
        status = 413 if outcome.code == "too_large" else 422
        raise ProblemError(status, "Foto geweigerd", outcome.detail_nl, field=f"photos[{index}]", code=outcome.code)
    return outcome


def intake_answer(result: service.IntakeResult) -> Response:
    """201 with the new report, or 200 with the first one for a repeated request. Serialised here rather
    than by FastAPI's response_model, which would validate the finished model again."""
    return Response(service.report_out(result.report).model_dump_json(), status_code=201 if result.created else 200,
                    media_type="application/json")


REPORT_FORM = {
    "type": "object", "required": ["report"],
    "properties": {
        "report": {"$ref": "#/components/schemas/ReportIn"},
        "photos": {"type": "array", "maxItems": 4, "items": {"type": "string", "format": "binary"},
                   "description": "JPEG, PNG, WebP of HEIC; EXIF wordt verwijderd"},
    },
}
REPORT_FORM_ENCODING = {"report": {"contentType": "application/json"}}  # the report part is JSON


@router.post("", response_model=ReportOut, status_code=201, summary="Melding doorsturen (beheerder)",
             responses={200: {"model": ReportOut,
                              "description": "Dezelfde Idempotency-Key en inhoud: de eerste melding"},
                        **problems(429, 503)},
             openapi_extra=request_body(ReportIn, multipart=REPORT_FORM, multipart_encoding=REPORT_FORM_ENCODING,
                                        description="JSON, of multipart met de melding en tot vier foto's"))
async def submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
    principal: Principal = Depends(_ReportSender()),
) -> Response:
    if request.headers.get("content-type", "").startswith("multipart/"):
        body, files = await _read_multipart(request, settings)
    else:
        body, files = parse_json_body(ReportIn, await request.body()), []
    uploads = await _sanitise_all(request, principal, files, settings)
    digests = [upload.digest for upload in uploads]
    intake = service.IntakeRequest(
        beheerder_id=principal.id, channel="api", body=body, request_hash=service.request_hash(body, digests),
        idempotency_key=idempotency_key, photos=[upload.photo for upload in uploads],
    )
    return intake_answer(await service.submit_report(session, request.app.state.intake_writer, intake))


@router.get("", response_model=Page[ReportOut], summary="Mijn meldingen met status en terugkoppeling")
async def list_mine(session: SessionDep, limit: Limit = 50, offset: Offset = 0,
                    principal: Principal = allow("beheerder")) -> Page[ReportOut]:
    reports, total = await service.list_own_reports(session, principal.id, limit=limit, offset=offset)
    feedback = await service.feedback_for_reports(session, [r.id for r in reports])
    return Page(items=[service.report_out(r, feedback[r.id]) for r in reports], total=total, limit=limit,
                offset=offset)


@router.get("/{report_id}", response_model=ReportOut, summary="Eén melding")
async def get_one(report_id: IdPath, session: SessionDep,
                  principal: Principal = allow("beheerder", *STAFF)) -> ReportOut:
    if principal.kind == "beheerder":
        report = await service.get_own_report(session, principal.id, report_id)
    else:
        report = await service.get_report(session, report_id)
    return service.report_out(report, (await service.feedback_for_reports(session, [report.id]))[report.id])


@router.patch("/{report_id}", response_model=ReportOut,
              summary="Groep van een melding kiezen (centralist); voor WhatsApp-meldingen waarvan de groep nog open is")
async def choose_group(report_id: IdPath, body: ReportGroupIn, request: Request, session: SessionDep,
                       actor: Principal = allow("operator", "specialist")) -> ReportOut:
    report = await group_choice.choose_for_report(session, actor, report_id, body.group_id,
                                                  request.app.state.report_group_chosen)
    return service.report_out(report, (await service.feedback_for_reports(session, [report.id]))[report.id])


@router.get("/{report_id}/photos/{photo_id}", summary="Foto bij een melding (wordt gelogd)",
            response_class=FileResponse)
async def get_photo(report_id: IdPath, photo_id: IdPath, session: SessionDep, settings: SettingsDep,
                    principal: Principal = allow("operator", "specialist", "wijkagent", "admin")) -> FileResponse:
    photo = await service.photo_for_staff(session, report_id, photo_id)
    audit.record(session, principal, "photo.view", target_type="report_photo", target_id=photo.id,
                 report_id=report_id)
    await session.commit()
    assert photo.stored_name is not None
    return FileResponse(settings.photo_dir / photo.stored_name, media_type=photo.media_type,
                        headers={"Cache-Control": "private, no-store"})


@admin_router.get("", response_model=Page[QuarantineOut],
                  summary="Berichten van onbekende nummers (nooit in de wachtrij van de centralisten)")
async def quarantine(session: SessionDep, limit: Limit = 50, offset: Offset = 0,
                     _: Principal = allow("admin")) -> Page[QuarantineOut]:
    rows, total = await service.list_quarantine(session, limit=limit, offset=offset)
    return Page(items=[QuarantineOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)
