"""Which requests a hold covers, and which it lets through. Pure: no ORM, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NotRequired, TypedDict


class HoldTerms(TypedDict):
    """What a hold says: where, from when (and until when), which requests, which exceptions,
    and why (the public reason and the due-diligence notes)."""

    jurisdiction_code: str
    effective_from: datetime
    reason: str
    # The public reason in Traditional Chinese, for readers of the Chinese pages (optional: the
    # English reason is shown where there is none).
    reason_zh_hant: NotRequired[str]
    effective_to: NotRequired[datetime | None]
    review_notes: NotRequired[str]
    scope_kinds: NotRequired[list[str] | None]
    scope_offences: NotRequired[list[str] | None]
    scope_agencies: NotRequired[list[int] | None]
    scope_legal_basis: NotRequired[str]
    received_from_start: NotRequired[bool]
    allow_emergency: NotRequired[bool]
    allow_offences: NotRequired[list[str] | None]


@dataclass(frozen=True, kw_only=True)
class HoldSpec:
    id: int
    jurisdiction: str
    scope_kinds: frozenset[str] = frozenset()
    scope_offences: frozenset[str] = frozenset()
    scope_agencies: frozenset[int] = frozenset()
    scope_legal_basis: str = ""
    received_from_start: bool = False  # only requests received at or after effective_from
    allow_emergency: bool = False
    allow_offences: frozenset[str] = frozenset()
    effective_from: datetime
    effective_to: datetime | None = None
    reason: str = ""
    reason_zh_hant: str = ""


@dataclass(frozen=True, kw_only=True)
class RequestScope:
    """What a hold looks at in a request."""

    jurisdiction: str
    kind: str
    offence_category: str
    agency_id: int
    legal_basis: str
    received_at: datetime


def in_force(hold: HoldSpec, at: datetime) -> bool:
    return hold.effective_from <= at and (hold.effective_to is None or at < hold.effective_to)


def in_scope(hold: HoldSpec, request: RequestScope) -> bool:
    """Whether the request falls within the hold's scope (regardless of time and exceptions)."""
    if request.jurisdiction != hold.jurisdiction:
        return False
    if hold.scope_kinds and request.kind not in hold.scope_kinds:
        return False
    if hold.scope_offences and request.offence_category not in hold.scope_offences:
        return False
    if hold.scope_agencies and request.agency_id not in hold.scope_agencies:
        return False
    if hold.received_from_start and request.received_at < hold.effective_from:
        return False
    return not (
        hold.scope_legal_basis
        and hold.scope_legal_basis.casefold() not in request.legal_basis.casefold()
    )


def excepted(hold: HoldSpec, request: RequestScope) -> bool:
    """Whether the hold lets this request proceed (with a human-rights officer's approval)."""
    return (hold.allow_emergency and request.kind == "EMERGENCY") or (
        request.offence_category in hold.allow_offences
    )


def holding(holds: list[HoldSpec], request: RequestScope, at: datetime) -> list[HoldSpec]:
    """The holds in force at ``at`` that stop this request (in scope and not excepted)."""
    return [
        h for h in holds if in_force(h, at) and in_scope(h, request) and not excepted(h, request)
    ]


def excepting(holds: list[HoldSpec], request: RequestScope, at: datetime) -> list[HoldSpec]:
    """The holds in force that cover this request but let it through under an exception."""
    return [h for h in holds if in_force(h, at) and in_scope(h, request) and excepted(h, request)]
