"""Staff endpoints for jurisdiction holds (/api/v1/staff/holds)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from govreq.api.auth import caller_staff
from govreq.api.pagination import PageParams, paginate, reject_unknown_query_parameters
from govreq.api.schemas import ERRORS
from govreq.holds import selectors
from govreq.holds.models import JurisdictionHold
from govreq.intake.models import LegalRequest, OffenceCategory, RequestKind
from govreq.lifecycle import holding

router = Router()


class HoldOut(Schema):
    id: int
    jurisdiction: str = Field(alias="jurisdiction_id")
    scope_kinds: list[str]
    scope_offences: list[str]
    scope_agencies: list[int]
    scope_legal_basis: str
    allow_emergency: bool
    allow_offences: list[str]
    effective_from: datetime
    effective_to: datetime | None
    reason: str
    review_notes: str
    created_at: datetime
    lifted_at: datetime | None
    lift_reason: str


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


class HoldDetailOut(HoldOut):
    on_hold: list[CoveredRequestOut]
    re_reviews: list[CoveredRequestOut]


class HoldIn(Schema):
    jurisdiction: str = Field(min_length=2, max_length=2)
    effective_from: datetime
    effective_to: datetime | None = None
    reason: str = Field(min_length=1, max_length=5000)
    review_notes: str = Field(default="", max_length=50000)
    scope_kinds: list[RequestKind] = []
    scope_offences: list[OffenceCategory] = []
    scope_agencies: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = []
    scope_legal_basis: str = Field(default="", max_length=200)
    allow_emergency: bool = False
    allow_offences: list[OffenceCategory] = []


class HoldPlacedOut(Schema):
    hold: HoldOut
    put_on_hold: list[str]
    excepted: list[str]
    flagged_for_re_review: list[str]


class LiftIn(Schema):
    reason: str = Field(min_length=1, max_length=5000)


class HoldLiftedOut(Schema):
    hold: HoldOut
    released: list[str]


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
        "re_reviews": [row(r) for r in flagged],
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


@router.post("", response={201: HoldPlacedOut, **ERRORS}, summary="Place a hold")
def place_hold(request: HttpRequest, payload: HoldIn) -> Status[dict[str, Any]]:
    actor = caller_staff(request)
    placed = holding.hold_place(
        actor=actor,
        jurisdiction_code=payload.jurisdiction,
        effective_from=payload.effective_from,
        effective_to=payload.effective_to,
        reason=payload.reason,
        review_notes=payload.review_notes,
        scope_kinds=[str(k) for k in payload.scope_kinds],
        scope_offences=[str(o) for o in payload.scope_offences],
        scope_agencies=payload.scope_agencies,
        scope_legal_basis=payload.scope_legal_basis,
        allow_emergency=payload.allow_emergency,
        allow_offences=[str(o) for o in payload.allow_offences],
        now=timezone.now(),
    )
    return Status(
        201,
        {
            "hold": placed.hold,
            "put_on_hold": placed.put_on_hold,
            "excepted": placed.excepted,
            "flagged_for_re_review": placed.flagged,
        },
    )


@router.post("/{hold_id}/lift", response={200: HoldLiftedOut, **ERRORS}, summary="Lift a hold")
def lift_hold(request: HttpRequest, hold_id: int, payload: LiftIn) -> dict[str, Any]:
    actor = caller_staff(request)
    lifted = holding.hold_lift(
        actor=actor, hold=selectors.hold_get(hold_id), reason=payload.reason, now=timezone.now()
    )
    return {"hold": lifted.hold, "released": lifted.released}
