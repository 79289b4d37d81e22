from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Unpack

from django.db.models import Q, QuerySet

from govreq.core.errors import NotFound
from govreq.holds import replay as replay_engine
from govreq.holds.models import HoldChange, HoldChangeState, HoldReReview, JurisdictionHold
from govreq.holds.rules import (
    HoldSpec,
    HoldTerms,
    RequestScope,
    holding,
    in_force,
    in_scope,
)
from govreq.intake.models import FINAL_STATUSES, LegalRequest, RequestStatus, StatusChange

S = RequestStatus


def hold_spec(hold: JurisdictionHold) -> HoldSpec:
    return HoldSpec(
        id=hold.pk,
        jurisdiction=hold.jurisdiction_id,
        scope_kinds=frozenset(hold.scope_kinds),
        scope_offences=frozenset(hold.scope_offences),
        scope_agencies=frozenset(int(a) for a in hold.scope_agencies),
        scope_legal_basis=hold.scope_legal_basis,
        received_from_start=hold.received_from_start,
        allow_emergency=hold.allow_emergency,
        allow_offences=frozenset(hold.allow_offences),
        effective_from=hold.effective_from,
        effective_to=hold.effective_to,
        reason=hold.reason,
        reason_zh_hant=hold.reason_zh_hant,
    )


def request_scope(request: LegalRequest) -> RequestScope:
    return RequestScope(
        jurisdiction=request.jurisdiction_id,
        kind=request.kind,
        offence_category=request.offence_category,
        agency_id=request.agency_id,
        legal_basis=request.legal_basis,
        received_at=request.received_at,
    )


def holds_possibly_in_force(jurisdiction: str, at: datetime) -> list[HoldSpec]:
    """Holds on the jurisdiction that have not ended by ``at`` (rules.in_force decides the rest)."""
    rows = JurisdictionHold.objects.filter(
        jurisdiction_id=jurisdiction, voided_at__isnull=True
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at))
    return [hold_spec(row) for row in rows]


def hold_list(*, jurisdiction: str | None = None) -> QuerySet[JurisdictionHold]:
    queryset = JurisdictionHold.objects.select_related("jurisdiction", "created_by", "lifted_by")
    if jurisdiction:
        queryset = queryset.filter(jurisdiction_id=jurisdiction.upper())
    return queryset.order_by("-effective_from", "-id")


def hold_get(hold_id: int) -> JurisdictionHold:
    hold = hold_list().filter(pk=hold_id).first()
    if hold is None:
        raise NotFound(f"no hold with id {hold_id}", code="hold_not_found")
    return hold


def open_requests_in_scope(spec: HoldSpec) -> list[LegalRequest]:
    """Open requests the hold's scope covers (whatever the time and the exceptions)."""
    candidates = LegalRequest.objects.filter(jurisdiction_id=spec.jurisdiction).exclude(
        status__in=FINAL_STATUSES
    )
    if spec.scope_kinds:
        candidates = candidates.filter(kind__in=spec.scope_kinds)
    if spec.scope_offences:
        candidates = candidates.filter(offence_category__in=spec.scope_offences)
    if spec.scope_agencies:
        candidates = candidates.filter(agency_id__in=spec.scope_agencies)
    if spec.received_from_start:
        candidates = candidates.filter(received_at__gte=spec.effective_from)
    rows = candidates.select_related("agency").order_by("pk")
    return [r for r in rows if in_scope(spec, request_scope(r))]


def histories(
    requests: QuerySet[LegalRequest], *, chunk: int = 2000
) -> Iterator[replay_engine.History]:
    """The requests with their status histories, in primary-key order, ``chunk`` at a time
    (a keyset walk: two queries per chunk, memory bounded by the chunk, never by the table)."""
    last = 0
    while True:
        rows = list(
            requests.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk",
                "reference",
                "jurisdiction_id",
                "kind",
                "offence_category",
                "agency_id",
                "legal_basis",
                "received_at",
            )[:chunk]
        )
        if not rows:
            return
        steps: dict[int, list[replay_engine.Step]] = defaultdict(list)
        changes = (
            StatusChange.objects.filter(request_id__in=[row[0] for row in rows])
            .order_by("request_id", "occurred_at", "id")
            .values_list("request_id", "occurred_at", "to_status")
        )
        for request_id, occurred_at, to_status in changes:
            steps[request_id].append(replay_engine.Step(at=occurred_at, to_status=to_status))
        for pk, reference, jurisdiction, kind, offence, agency, basis, received_at in rows:
            yield replay_engine.History(
                id=pk,
                reference=reference,
                scope=RequestScope(
                    jurisdiction=jurisdiction,
                    kind=kind,
                    offence_category=offence,
                    agency_id=agency,
                    legal_basis=basis,
                    received_at=received_at,
                ),
                steps=tuple(steps.get(pk, ())),
            )
        last = rows[-1][0]


def replay_now(spec: HoldSpec, *, now: datetime) -> Iterator[replay_engine.Replayed]:
    """The hold placed now, replayed over every request it could touch: the open requests of its
    jurisdiction, and those approved since its start (for re-review)."""
    approved_since = StatusChange.objects.filter(
        to_status=S.APPROVED,
        occurred_at__gte=spec.effective_from,
        request__jurisdiction_id=spec.jurisdiction,
    ).values("request_id")
    candidates = LegalRequest.objects.filter(jurisdiction_id=spec.jurisdiction).filter(
        ~Q(status__in=FINAL_STATUSES) | Q(pk__in=approved_since)
    )
    for history in histories(candidates):
        yield replay_engine.replay(spec, history, placed_at=now, until=now)


def approved_since_start(spec: HoldSpec, *, now: datetime) -> list[tuple[LegalRequest, datetime]]:
    """Requests in scope (not excepted) approved within the hold's period before it reached them
    (re-review flags), oldest approval first."""
    flagged = sorted(
        (r.flagged_at, r.history.id) for r in replay_now(spec, now=now) if r.flagged_at
    )
    requests = LegalRequest.objects.select_related("agency").in_bulk([pk for _, pk in flagged])
    return [(requests[pk], at) for at, pk in flagged]


@dataclass(frozen=True, kw_only=True)
class HoldPreview:
    would_hold: list[str]
    excepted: list[str]
    would_flag: list[str]
    # Open requests in scope received before the hold's start: held when the hold covers every
    # open request, left alone when it holds only requests received from its start.
    received_before_start: list[str]
    received_from_start: bool


def spec_from_terms(terms: HoldTerms, *, id: int = 0) -> HoldSpec:
    """The pure view of terms not yet recorded (a preview, a proposed change)."""
    return HoldSpec(
        id=id,
        jurisdiction=terms["jurisdiction_code"].strip().upper(),
        scope_kinds=frozenset(terms.get("scope_kinds") or []),
        scope_offences=frozenset(terms.get("scope_offences") or []),
        scope_agencies=frozenset(terms.get("scope_agencies") or []),
        scope_legal_basis=terms.get("scope_legal_basis", "").strip(),
        received_from_start=terms.get("received_from_start", False),
        allow_emergency=terms.get("allow_emergency", False),
        allow_offences=frozenset(terms.get("allow_offences") or []),
        effective_from=terms["effective_from"],
        effective_to=terms.get("effective_to"),
        reason=terms.get("reason", ""),
        reason_zh_hant=terms.get("reason_zh_hant", ""),
    )


def hold_preview(*, now: datetime, **terms: Unpack[HoldTerms]) -> HoldPreview:
    """What placing this hold would do, without doing it ("this hold would put N on hold"), and
    which requests the other reading of its start would change. The same replay as the
    back-test (``holds.replay``), with the hold placed now."""
    spec = spec_from_terms(terms)
    would_hold: list[str] = []
    excepted_refs: list[str] = []
    before_start: list[str] = []
    flagged: list[tuple[datetime, str]] = []
    for result in replay_now(spec, now=now):
        reference = result.history.reference
        open_now = replay_engine.status_at(result.history.steps, now) not in FINAL_STATUSES
        if result.received_before_start and open_now and in_force(spec, now):
            before_start.append(reference)
        if result.held:
            would_hold.append(reference)
        elif result.excepted and result.reached_at is not None:
            excepted_refs.append(reference)
        if result.flagged_at is not None:
            flagged.append((result.flagged_at, reference))
    return HoldPreview(
        would_hold=would_hold,
        excepted=excepted_refs,
        would_flag=[reference for _, reference in sorted(flagged)],
        received_before_start=before_start,
        received_from_start=spec.received_from_start,
    )


def hold_release_preview(hold: JurisdictionHold, now: datetime) -> list[str]:
    """What lifting the hold now would release: the requests it keeps on hold that no other
    hold in force covers."""
    spec = hold_spec(hold)
    others = [h for h in holds_possibly_in_force(spec.jurisdiction, now) if h.id != spec.id]
    released: list[str] = []
    rows = LegalRequest.objects.filter(jurisdiction_id=spec.jurisdiction, status=S.ON_HOLD)
    for request in rows.select_related("agency").order_by("pk").iterator():
        scope = request_scope(request)
        if in_scope(spec, scope) and not holding(others, scope, now):
            released.append(request.reference)
    return released


def hold_requests(hold: JurisdictionHold) -> tuple[list[LegalRequest], list[HoldReReview]]:
    """The requests a hold keeps ON_HOLD now (the first 1,000 by receipt), and those it flagged
    for re-review."""
    spec = hold_spec(hold)
    on_hold = [
        r
        for r in LegalRequest.objects.filter(
            jurisdiction_id=hold.jurisdiction_id, status=S.ON_HOLD
        ).order_by("received_at")[:1000]
        if in_scope(spec, request_scope(r))
    ]
    flagged = list(HoldReReview.objects.filter(hold=hold).select_related("request").order_by("id"))
    return on_hold, flagged


def hold_changes_pending() -> QuerySet[HoldChange]:
    return (
        HoldChange.objects.filter(state=HoldChangeState.PENDING)
        .select_related("hold", "proposed_by")
        .order_by("proposed_at", "id")
    )


def hold_change_get(change_id: int) -> HoldChange:
    change = HoldChange.objects.select_related("hold", "proposed_by").filter(pk=change_id).first()
    if change is None:
        raise NotFound(f"no hold change with id {change_id}", code="hold_change_not_found")
    return change


def re_review_open_for(reference: str) -> HoldReReview:
    """The oldest unresolved re-review flag of a request (by reference or public id)."""
    flags = HoldReReview.objects.filter(resolved_at__isnull=True).select_related("request")
    flag = (
        flags.filter(Q(request__reference=reference.strip().upper()))
        .order_by("flagged_at", "id")
        .first()
    )
    if flag is None:
        raise NotFound(f"{reference} has no open re-review flag", code="re_review_not_found")
    return flag


def re_reviews_open(request: LegalRequest) -> list[HoldReReview]:
    return list(
        HoldReReview.objects.filter(request=request, resolved_at__isnull=True)
        .select_related("hold")
        .order_by("flagged_at", "id")
    )


def re_review_get(flag_id: int) -> HoldReReview:
    flag = HoldReReview.objects.select_related("request", "hold").filter(pk=flag_id).first()
    if flag is None:
        raise NotFound(f"no re-review flag with id {flag_id}", code="re_review_not_found")
    return flag
