"""Staff endpoints for user notice: a request's notices with their history and the gag
extensions the agency filed; delaying a due notice, ending a delay, deciding an extension.

Routes translate HTTP to the lifecycle's actions; roles and states are enforced there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from govreq.api.auth import caller_staff
from govreq.api.requests import DocumentOut, GagOrderOut
from govreq.api.schemas import ERRORS
from govreq.core.moments import Moment
from govreq.intake import selectors as intake_selectors
from govreq.lifecycle import notifying
from govreq.notices.models import GagExtension, NoticeEvent, UserNotice
from govreq.notices.selectors import (
    gag_extension_get,
    gag_extensions_of,
    notice_get,
    notices_of,
)

request_notices_router = Router()
notices_router = Router()
gag_extensions_router = Router()


class NoticeEventOut(Schema):
    from_status: str | None
    to_status: str
    reason: str
    occurred_at: datetime

    @staticmethod
    def resolve_from_status(obj: NoticeEvent) -> str | None:
        return obj.from_status or None


class NoticeOut(Schema):
    id: int
    account: str = Field(description="The platform's account id.")
    status: str = Field(description="DUE, DELAYED, SENT or NOT_POSSIBLE (no contact address)")
    status_label: str
    delay_reason: str | None = Field(
        description="GAG_ORDER, EMERGENCY, CHILD_SAFETY or AGENCY_REQUEST (while or once delayed)"
    )
    delay_reason_label: str | None
    delayed_until: datetime | None = Field(
        description="While DELAYED: due from then; null: until a reviewer ends the delay."
    )
    language: str = Field(description="The language it was sent in (empty until sent).")
    created_at: datetime
    sent_at: datetime | None
    history: list[NoticeEventOut]

    @staticmethod
    def resolve_status_label(obj: UserNotice) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_delay_reason(obj: UserNotice) -> str | None:
        return obj.delay_reason or None

    @staticmethod
    def resolve_delay_reason_label(obj: UserNotice) -> str | None:
        return str(obj.get_delay_reason_display()) if obj.delay_reason else None

    @staticmethod
    def resolve_history(obj: UserNotice) -> list[NoticeEvent]:
        return list(obj.events.all())


class GagExtensionOut(Schema):
    id: int
    status: str = Field(description="PENDING, ACCEPTED or REFUSED")
    new_expires_on: date
    legal_basis: str
    filed_at: datetime
    document: DocumentOut
    decided_at: datetime | None
    decided_by: str | None
    note: str

    @staticmethod
    def resolve_decided_by(obj: GagExtension) -> str | None:
        return obj.decided_by.email if obj.decided_by else None


class RequestNoticesOut(Schema):
    request: str = Field(description="The request's reference.")
    gag_order: GagOrderOut | None
    notices: list[NoticeOut]
    gag_extensions: list[GagExtensionOut]


class NoticeDelayIn(Schema):
    reason: str = Field(min_length=1, max_length=5000, description="Why the wait is accepted.")
    until: Moment | None = Field(
        default=None, description="Due from then; null: until a reviewer ends the delay."
    )


class NoticeDelayEndIn(Schema):
    reason: str = Field(min_length=1, max_length=5000)


class GagExtensionDecisionIn(Schema):
    accept: bool
    note: str = Field(default="", max_length=5000, description="Required to refuse.")


@request_notices_router.get(
    "/{request_id}/notices",
    response={200: RequestNoticesOut, **ERRORS},
    summary="A request's user notices (with their history) and gag extensions",
)
def list_notices(request: HttpRequest, request_id: str) -> dict[str, Any]:
    caller_staff(request)
    legal_request = intake_selectors.request_get(public_id=request_id)
    return {
        "request": legal_request.reference,
        "gag_order": {
            "legal_basis": legal_request.gag_legal_basis,
            "expires_on": legal_request.gag_expires_on,
        }
        if legal_request.gag_order
        else None,
        "notices": list(notices_of(legal_request)),
        "gag_extensions": list(gag_extensions_of(legal_request)),
    }


def _notice_out(notice: UserNotice) -> UserNotice:
    return notices_of(notice.request).get(pk=notice.pk)


@notices_router.post(
    "/{notice_id}/delay",
    response={200: NoticeOut, **ERRORS},
    summary="Delay a due notice because the agency asked (reviewer)",
    description="Refused (409 `notice_not_due`) unless the notice is due.",
)
def delay_notice(request: HttpRequest, notice_id: int, payload: NoticeDelayIn) -> UserNotice:
    actor = caller_staff(request)
    notice = notifying.notice_delay(
        actor=actor,
        notice=notice_get(notice_id),
        until=payload.until,
        reason=payload.reason,
        now=timezone.now(),
    )
    return _notice_out(notice)


@notices_router.post(
    "/{notice_id}/end-delay",
    response={200: NoticeOut, **ERRORS},
    summary="End a delay that is not a gag order: the notice is due (reviewer)",
    description="Refused (409 `notice_not_delayed`) for a notice that is not delayed, or waits "
    "for a gag order.",
)
def end_notice_delay(request: HttpRequest, notice_id: int, payload: NoticeDelayEndIn) -> UserNotice:
    actor = caller_staff(request)
    notice = notifying.notice_delay_end(
        actor=actor, notice=notice_get(notice_id), reason=payload.reason, now=timezone.now()
    )
    return _notice_out(notice)


@gag_extensions_router.post(
    "/{extension_id}/decision",
    response={200: GagExtensionOut, **ERRORS},
    summary="Accept or refuse a new non-disclosure order the agency filed (reviewer)",
    description="Accepting moves the gag's end, and the waiting notices with it. Refused (409 "
    "`already_decided`) a second time; a note is required to refuse (422).",
)
def decide_gag_extension(
    request: HttpRequest, extension_id: int, payload: GagExtensionDecisionIn
) -> GagExtension:
    actor = caller_staff(request)
    notifying.gag_extension_decide(
        actor=actor,
        extension=gag_extension_get(extension_id),
        accept=payload.accept,
        note=payload.note,
        now=timezone.now(),
    )
    return gag_extension_get(extension_id)
