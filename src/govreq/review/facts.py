"""Gathering the facts the pure checks look at. The only part of checking that reads the ORM."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from govreq.accounts.models import ApiToken
from govreq.agencies.models import FraudFlag
from govreq.holds.rules import excepted, in_force, in_scope
from govreq.holds.selectors import holds_possibly_in_force, request_scope
from govreq.intake.models import (
    Channel,
    Document,
    DocumentText,
    LegalRequest,
    RequestStatus,
    Target,
)
from govreq.policy.document import PolicyDocument
from govreq.review.checks import (
    CallBackFact,
    DocumentTextFact,
    DuplicateFact,
    HoldFact,
    RequesterFact,
    RequestFacts,
)
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
            reason_zh_hant=hold.reason_zh_hant,
            excepted=excepted(hold, scope),
        )
        for hold in holds_possibly_in_force(request.jurisdiction_id, now)
        if in_force(hold, now) and in_scope(hold, scope)
    )
    targets = list(request.targets.values_list("type", "value"))
    document_count, requester = _documents_and_requester(request, policy, now=now)
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
        document_count=document_count,
        gag_order=request.gag_order,
        gag_legal_basis=request.gag_legal_basis,
        gag_expires_on=request.gag_expires_on,
        emergency_danger=request.emergency_danger,
        emergency_why_now=request.emergency_why_now,
        holds=holds,
        duplicates=_duplicates(request, targets, policy.thresholds.duplicate_window_days),
        requester=requester,
        call_backs=tuple(
            CallBackFact(
                outcome=outcome, called_on=called_at.date(), phone=phone, directory=directory
            )
            for outcome, called_at, phone, directory in CallBack.objects.filter(request=request)
            .order_by("called_at", "id")
            .values_list("outcome", "called_at", "phone", "contact__directory")
        ),
        agency_case_number=request.agency_case_number,
        issuing_authority=request.issuing_authority,
        targets=tuple(targets),
        documents=_document_texts(request) if document_count else (),
    )


def _document_texts(request: LegalRequest) -> tuple[DocumentTextFact, ...]:
    """Each document of the request, with the text read from it when it has been read."""
    texts = {
        text.document_id: text
        for text in DocumentText.objects.filter(document__request=request).only(
            "document_id", "method", "text", "note", "failed"
        )
    }
    facts: list[DocumentTextFact] = []
    for document_id, name in Document.objects.filter(request=request).values_list(
        "pk", "original_name"
    ):
        text = texts.get(document_id)
        facts.append(
            DocumentTextFact(name=name, read=False)
            if text is None
            else DocumentTextFact(
                name=name,
                read=True,
                method=text.method,
                text=text.text,
                note=text.note,
                failed=text.failed,
            )
        )
    return tuple(facts)


def _documents_and_requester(
    request: LegalRequest, policy: PolicyDocument, *, now: datetime
) -> tuple[int, RequesterFact]:
    """The request's document count and its requester's history (the officer's age, newest
    token, earlier requests by channel, the fraud flags) in one statement: a correlated subquery
    each, as one join per history would multiply the counts."""
    received = request.received_at
    earlier = LegalRequest.objects.filter(officer=OuterRef("officer_id")).filter(
        Q(received_at__lt=received) | Q(received_at=received, pk__lt=request.pk)
    )
    flags = FraudFlag.objects.filter(raised_at__lte=now)
    agency_flags = flags.filter(
        agency_id=request.agency_id,
        raised_at__gte=now - timedelta(days=policy.trust.fraud_flag_window_days),
    )
    channels = {
        f"earlier_{channel}": _count(earlier.filter(channel=channel), "officer")
        for channel in Channel.values
    }
    row = (
        LegalRequest.objects.filter(pk=request.pk)
        .annotate(
            document_count=_count(Document.objects.filter(request=OuterRef("pk")), "request"),
            officer_created_at=F("officer__created_at"),
            newest_token_at=Subquery(
                ApiToken.objects.filter(officer=OuterRef("officer_id"), created_at__lte=received)
                .exclude(revoked_at__lt=received)
                .exclude(expires_at__lt=received)
                .order_by("-created_at")
                .values("created_at")[:1]
            ),
            officer_flags=_count(flags.filter(officer=OuterRef("officer_id")), "officer"),
            agency_flags=_count(agency_flags, "agency"),
            agency_latest_flag_at=Subquery(
                agency_flags.order_by()
                .values("agency")
                .annotate(m=Max("raised_at"))
                .values("m")[:1]
            ),
            **channels,
        )
        .values(
            "document_count",
            "officer_created_at",
            "newest_token_at",
            "officer_flags",
            "agency_flags",
            "agency_latest_flag_at",
            *channels,
        )
        .get()
    )
    token_at = row["newest_token_at"] if request.channel == Channel.API else None
    latest_flag_at = row["agency_latest_flag_at"]
    return row["document_count"], RequesterFact(
        officer_created_on=row["officer_created_at"].date(),
        token_created_on=token_at.date() if token_at else None,
        channel=request.channel,
        earlier_by_channel={
            channel: row[f"earlier_{channel}"]
            for channel in Channel.values
            if row[f"earlier_{channel}"]
        },
        agency_flags=row["agency_flags"],
        agency_latest_flag_on=latest_flag_at.date() if latest_flag_at else None,
        officer_flags=row["officer_flags"],
    )


def _count(queryset: QuerySet[Any], group: str) -> Coalesce:
    """COUNT(*) of ``queryset`` as a subquery (0 when empty); ``group`` is the column the outer
    reference filters on."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


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
