"""Gathering the facts the pure checks look at. The only part of checking that reads the ORM."""

from __future__ import annotations

from datetime import datetime, timedelta

from govreq.holds.rules import excepted, in_force, in_scope
from govreq.holds.selectors import holds_possibly_in_force, request_scope
from govreq.intake.models import LegalRequest, RequestStatus, Target
from govreq.policy.document import PolicyDocument
from govreq.review.checks import CallBackFact, DuplicateFact, HoldFact, RequestFacts
from govreq.review.models import CallBack

_CHUNK = 500
_LIMIT = 200


def request_facts(request: LegalRequest, policy: PolicyDocument, *, now: datetime) -> RequestFacts:
    scope = request_scope(request)
    holds = tuple(
        HoldFact(
            id=hold.id,
            jurisdiction=hold.jurisdiction,
            effective_from=hold.effective_from.date(),
            reason=hold.reason,
            excepted=excepted(hold, scope),
        )
        for hold in holds_possibly_in_force(request.jurisdiction_id, now)
        if in_force(hold, now) and in_scope(hold, scope)
    )
    targets = list(request.targets.values_list("type", "value"))
    return RequestFacts(
        jurisdiction=request.jurisdiction_id,
        agency_name=request.agency.name,
        agency_status=request.agency.status,
        kind=request.kind,
        offence_category=request.offence_category,
        legal_basis=request.legal_basis,
        narrative=request.narrative,
        data_categories=frozenset(request.data_categories),
        data_from=request.data_from,
        data_to=request.data_to,
        received_on=request.received_at.date(),
        target_count=len(targets),
        document_count=request.documents.count(),
        gag_order=request.gag_order,
        gag_legal_basis=request.gag_legal_basis,
        gag_expires_on=request.gag_expires_on,
        emergency_danger=request.emergency_danger,
        emergency_why_now=request.emergency_why_now,
        holds=holds,
        duplicates=_duplicates(request, targets, policy.thresholds.duplicate_window_days),
        call_backs=tuple(
            CallBackFact(
                outcome=outcome, called_on=called_at.date(), phone=phone, directory=directory
            )
            for outcome, called_at, phone, directory in CallBack.objects.filter(request=request)
            .order_by("called_at", "id")
            .values_list("outcome", "called_at", "phone", "contact__directory")
        ),
    )


def _duplicates(
    request: LegalRequest, targets: list[tuple[str, str]], window_days: int
) -> tuple[DuplicateFact, ...]:
    if not targets:
        return ()
    wanted = set(targets)
    values = sorted({value for _, value in targets})
    since = request.received_at - timedelta(days=window_days)
    rows: list[tuple[str, object, datetime, str, str]] = []
    # value__in in chunks (one OR per target overflows SQLite's expression tree at 1,000);
    # the type is matched here.
    for start in range(0, len(values), _CHUNK):
        rows += [
            row
            for row in Target.objects.filter(value__in=values[start : start + _CHUNK])
            .filter(
                request__agency_id=request.agency_id,
                request__received_at__gte=since,
                request__received_at__lte=request.received_at,
            )
            .exclude(request_id=request.pk)
            .exclude(request__status=RequestStatus.WITHDRAWN)
            .values_list(
                "request__reference", "request__public_id", "request__received_at", "type", "value"
            )
            .order_by("-request__received_at", "request__reference")[:_LIMIT]
            if (row[3], row[4]) in wanted
        ]
    rows.sort(key=lambda row: (-row[2].timestamp(), row[0]))
    grouped: dict[str, tuple[str, datetime, list[str]]] = {}
    for reference, public_id, received_at, target_type, value in rows[:_LIMIT]:
        entry = grouped.setdefault(reference, (str(public_id), received_at, []))
        entry[2].append(f"{target_type}:{value}")
    return tuple(
        DuplicateFact(
            reference=reference,
            public_id=public_id,
            received_on=received_at.date(),
            overlapping=tuple(overlap),
        )
        for reference, (public_id, received_at, overlap) in grouped.items()
    )
