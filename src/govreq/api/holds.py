"""Staff endpoints for jurisdiction holds (/api/v1/staff/holds)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from govreq.api.auth import caller_staff
from govreq.api.pagination import PageParams, paginate, reject_unknown_query_parameters
from govreq.api.schemas import ERRORS
from govreq.core.moments import Moment
from govreq.holds import selectors
from govreq.holds.models import HoldChange, JurisdictionHold
from govreq.intake.models import LegalRequest, OffenceCategory, RequestKind
from govreq.lifecycle import holding
from govreq.transparency.services import reports_correct_for_hold

router = Router()


class HoldOut(Schema):
    id: int
    jurisdiction: str = Field(alias="jurisdiction_id")
    scope_kinds: list[str]
    scope_offences: list[str]
    scope_agencies: list[int]
    scope_legal_basis: str
    received_from_start: bool
    allow_emergency: bool
    allow_offences: list[str]
    effective_from: datetime
    effective_to: datetime | None
    reason: str
    reason_zh_hant: str
    review_notes: str
    created_at: datetime
    lifted_at: datetime | None
    lift_reason: str
    voided_at: datetime | None
    void_reason: str


class HoldPage(Schema):
    items: list[HoldOut]
    count: int
    page: int
    page_size: int
    next_page: int | None


class CoveredRequestOut(Schema):
    id: str
    reference: str
    status: str
    kind: str
    offence_category: str


class FlaggedRequestOut(CoveredRequestOut):
    flag_id: int
    resolution: str
    resolution_reason: str


class HoldDetailOut(HoldOut):
    on_hold: list[CoveredRequestOut]
    re_reviews: list[FlaggedRequestOut]


class HoldScopeIn(Schema):
    """Where and when a hold applies, which requests it covers and which it lets through (a
    hold proposed, or one back-tested)."""

    jurisdiction: str = Field(min_length=2, max_length=2)
    effective_from: Moment
    effective_to: Moment | None = None
    received_from_start: bool = Field(
        default=False,
        description="Hold only requests received at or after effective_from (the law's own "
        "moment), not every open request in scope.",
    )
    scope_kinds: list[RequestKind] = []
    scope_offences: list[OffenceCategory] = []
    scope_agencies: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = []
    scope_legal_basis: str = Field(default="", max_length=200)
    allow_emergency: bool = False
    allow_offences: list[OffenceCategory] = []


class HoldIn(HoldScopeIn):
    reason: str = Field(min_length=1, max_length=5000)
    reason_zh_hant: str = Field(
        default="", max_length=5000, description="The public reason in Traditional Chinese."
    )
    review_notes: str = Field(default="", max_length=50000)


class HoldChangeOut(Schema):
    id: int
    kind: str
    state: str
    hold_id: int | None
    terms: dict[str, Any]
    reason: str
    preview: dict[str, Any]
    proposed_by: str | None
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class HoldChangeDoneOut(Schema):
    change: HoldChangeOut
    hold: HoldOut
    put_on_hold: list[str] = []
    excepted: list[str] = []
    flagged_for_re_review: list[str] = []
    released: list[str] = []
    corrected_reports: list[str] = Field(
        default=[], description="Published reports re-published as corrections (period vN)."
    )


class ReReviewIn(Schema):
    resolution: Literal["CONFIRMED", "RETURNED"]
    reason: str = Field(min_length=1, max_length=5000)


class ReReviewOut(Schema):
    id: int
    hold_id: int
    reference: str
    resolution: str
    resolved_at: datetime | None
    reason: str


class LiftIn(Schema):
    reason: str = Field(min_length=1, max_length=5000)


class HoldFilters(PageParams):
    jurisdiction: str | None = Field(default=None, min_length=2, max_length=2)


def hold_with_requests(hold: JurisdictionHold) -> dict[str, Any]:
    """A hold with the requests it keeps on hold and those it flagged (the API's and the CLI's
    ``hold show --json`` shape)."""
    on_hold, flagged = selectors.hold_requests(hold)

    def row(r: LegalRequest) -> dict[str, str]:
        return {
            "id": str(r.public_id),
            "reference": r.reference,
            "status": r.status,
            "kind": r.kind,
            "offence_category": r.offence_category,
        }

    return {
        **HoldOut.model_validate(hold).model_dump(by_alias=True),
        "on_hold": [row(r) for r in on_hold],
        "re_reviews": [
            {
                **row(f.request),
                "flag_id": f.pk,
                "resolution": f.resolution,
                "resolution_reason": f.resolution_reason,
            }
            for f in flagged
        ],
    }


@router.get("", response={200: HoldPage, **ERRORS}, summary="List holds")
def list_holds(request: HttpRequest, filters: Query[HoldFilters]) -> dict[str, Any]:
    reject_unknown_query_parameters(request, HoldFilters)
    caller_staff(request)
    return paginate(selectors.hold_list(jurisdiction=filters.jurisdiction), filters)


@router.get(
    "/{hold_id}", response={200: HoldDetailOut, **ERRORS}, summary="A hold and its requests"
)
def get_hold(request: HttpRequest, hold_id: int) -> dict[str, Any]:
    caller_staff(request)
    return hold_with_requests(selectors.hold_get(hold_id))


def _change(change: HoldChange) -> dict[str, Any]:
    return {
        "id": change.pk,
        "kind": change.kind,
        "state": change.state,
        "hold_id": change.hold_id,
        "terms": change.terms,
        "reason": change.reason,
        "preview": change.preview,
        "proposed_by": change.proposed_by.email if change.proposed_by else None,
        "proposed_at": change.proposed_at,
        "decided_by": change.decided_by.email if change.decided_by else None,
        "decided_at": change.decided_at,
    }


@router.post(
    "",
    response={202: HoldChangeOut, **ERRORS},
    summary="Propose a hold (a second policy admin confirms it)",
)
def propose_hold(request: HttpRequest, payload: HoldIn) -> Status[dict[str, Any]]:
    actor = caller_staff(request)
    change = holding.hold_propose(
        actor=actor,
        jurisdiction_code=payload.jurisdiction,
        effective_from=payload.effective_from,
        effective_to=payload.effective_to,
        received_from_start=payload.received_from_start,
        reason=payload.reason,
        reason_zh_hant=payload.reason_zh_hant,
        review_notes=payload.review_notes,
        scope_kinds=[str(k) for k in payload.scope_kinds],
        scope_offences=[str(o) for o in payload.scope_offences],
        scope_agencies=payload.scope_agencies,
        scope_legal_basis=payload.scope_legal_basis,
        allow_emergency=payload.allow_emergency,
        allow_offences=[str(o) for o in payload.allow_offences],
        now=timezone.now(),
    )
    return Status(202, _change(change))


@router.post(
    "/{hold_id}/lift",
    response={202: HoldChangeOut, **ERRORS},
    summary="Propose lifting a hold (with what it would release)",
)
def propose_lift(request: HttpRequest, hold_id: int, payload: LiftIn) -> Status[dict[str, Any]]:
    actor = caller_staff(request)
    change = holding.hold_lift_propose(
        actor=actor, hold=selectors.hold_get(hold_id), reason=payload.reason, now=timezone.now()
    )
    return Status(202, _change(change))


@router.post(
    "/{hold_id}/void",
    response={202: HoldChangeOut, **ERRORS},
    summary="Propose voiding a hold placed by mistake",
)
def propose_void(request: HttpRequest, hold_id: int, payload: LiftIn) -> Status[dict[str, Any]]:
    actor = caller_staff(request)
    change = holding.hold_void_propose(
        actor=actor, hold=selectors.hold_get(hold_id), reason=payload.reason, now=timezone.now()
    )
    return Status(202, _change(change))


@router.get("/changes", response={200: list[HoldChangeOut], **ERRORS}, summary="Pending changes")
def pending_changes(request: HttpRequest) -> list[dict[str, Any]]:
    caller_staff(request)
    return [_change(c) for c in selectors.hold_changes_pending()[:500]]


@router.post(
    "/changes/{change_id}/confirm",
    response={200: HoldChangeDoneOut, **ERRORS},
    summary="Confirm another policy admin's hold change: it happens now",
)
def confirm_change(request: HttpRequest, change_id: int) -> dict[str, Any]:
    actor = caller_staff(request)
    change = selectors.hold_change_get(change_id)
    result = holding.hold_change_confirm(actor=actor, change=change, now=timezone.now())
    change.refresh_from_db()
    corrected = []
    if not isinstance(result, holding.HoldLifted):
        corrected = reports_correct_for_hold(actor=actor, hold=result.hold, now=timezone.now())
    done: dict[str, Any] = {
        "change": _change(change),
        "hold": result.hold,
        "corrected_reports": [f"{r.period} v{r.version}" for r in corrected],
    }
    if isinstance(result, holding.HoldPlaced):
        done |= {
            "put_on_hold": result.put_on_hold,
            "excepted": result.excepted,
            "flagged_for_re_review": result.flagged,
        }
    else:
        done["released"] = result.released
    return done


@router.post(
    "/changes/{change_id}/cancel",
    response={200: HoldChangeOut, **ERRORS},
    summary="Cancel a proposed hold change",
)
def cancel_change(request: HttpRequest, change_id: int) -> dict[str, Any]:
    actor = caller_staff(request)
    change = holding.hold_change_cancel(
        actor=actor, change=selectors.hold_change_get(change_id), now=timezone.now()
    )
    return _change(change)


@router.post(
    "/re-reviews/{flag_id}/resolve",
    response={200: ReReviewOut, **ERRORS},
    summary="Resolve a re-review flag: CONFIRMED (the approval stands) or RETURNED to review",
)
def resolve_re_review(request: HttpRequest, flag_id: int, payload: ReReviewIn) -> dict[str, Any]:
    actor = caller_staff(request)
    flag = holding.re_review_resolve(
        actor=actor,
        flag=selectors.re_review_get(flag_id),
        resolution=payload.resolution,
        reason=payload.reason,
        now=timezone.now(),
    )
    return {
        "id": flag.pk,
        "hold_id": flag.hold_id,
        "reference": flag.request.reference,
        "resolution": flag.resolution,
        "resolved_at": flag.resolved_at,
        "reason": flag.resolution_reason,
    }
