"""Confidence in agencies and officers: the facts gathered for ``agencies.confidence`` (pure),
the stored score the queue sorts by, and the follow-up process an emergency disclosure obliges.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q

from govreq.agencies.confidence import (
    AgencyTrustFacts,
    Confidence,
    FlagFact,
    OfficerTrustFacts,
    agency_confidence,
    officer_confidence,
)
from govreq.agencies.models import Agency, AgencyContact, FraudFlag, Officer
from govreq.intake.models import LegalRequest, RequestKind
from govreq.policy.selectors import policy_current
from govreq.review.models import AgencyConfidence, Decision, FollowUpObligation


def _flags(rows: list[FraudFlag]) -> tuple[FlagFact, ...]:
    return tuple(
        FlagFact(kind=f.kind, raised_at=f.raised_at, request_reference=f.request_reference)
        for f in rows
    )


def agency_confidence_now(agency: Agency, *, now: datetime) -> Confidence:
    """The agency's confidence with its reasons, computed from the records as they are now."""
    _, policy = policy_current()
    facts = AgencyTrustFacts(
        status=agency.status,
        verified_at=agency.verified_at,
        verification_method=agency.verification_method,
        contacts=AgencyContact.objects.filter(agency=agency, retired_at__isnull=True).count(),
        answered=Decision.objects.filter(request__agency=agency, superseded_at__isnull=True)
        .values("request")
        .distinct()
        .count(),
        flags=_flags(list(FraudFlag.objects.filter(agency=agency))),
        now=now,
        reverify_days=policy.trust.reverify_days,
        flag_window_days=policy.trust.fraud_flag_window_days,
    )
    return agency_confidence(facts)


def officer_confidence_now(officer: Officer, *, now: datetime) -> Confidence:
    _, policy = policy_current()
    agency = agency_confidence_now(officer.agency, now=now)
    facts = OfficerTrustFacts(
        created_at=officer.created_at,
        answered=Decision.objects.filter(request__officer=officer, superseded_at__isnull=True)
        .values("request")
        .distinct()
        .count(),
        flags=_flags(list(FraudFlag.objects.filter(officer=officer))),
        now=now,
        new_officer_days=policy.trust.new_officer_days,
        flag_window_days=policy.trust.fraud_flag_window_days,
    )
    return officer_confidence(agency, facts)


def confidence_refresh(agency: Agency, *, now: datetime) -> AgencyConfidence:
    """Store the agency's score for sorting (after a flag, a call-back, a verification, and by
    the worker as time passes)."""
    confidence = agency_confidence_now(agency, now=now)
    row, _ = AgencyConfidence.objects.update_or_create(
        agency=agency,
        defaults={
            "score": confidence.score,
            "level": confidence.level,
            "reasons": [{"points": r.points, "text": r.text} for r in confidence.reasons],
            "reverify_due": confidence.reverify_due,
            "reverify_overdue": confidence.reverify_overdue,
            "computed_at": now,
        },
    )
    return row


def confidence_refresh_on_commit(agency: Agency, *, now: datetime) -> None:
    """Store the agency's score once the change that moved it commits, in a short transaction
    of its own: the stored score is a cache for sorting, and its row is never locked after a
    transaction has taken the audit-chain lock (the one lock order)."""
    agency_id = agency.pk

    def refresh() -> None:
        with transaction.atomic():
            confidence_refresh(Agency.objects.get(pk=agency_id), now=now)

    transaction.on_commit(refresh)


def confidences_refresh_all(*, now: datetime) -> list[AgencyConfidence]:
    """Every agency's score again (there are few agencies; the time-driven parts, such as an
    overdue re-verification, change without any write)."""
    return [confidence_refresh(agency, now=now) for agency in Agency.objects.order_by("pk")]


def reverification_overdue() -> list[Agency]:
    return list(
        Agency.objects.filter(confidence__reverify_overdue=True)
        .select_related("jurisdiction")
        .order_by("name")
    )


# --- the follow-up process ------------------------------------------------------------------------


def follow_up_obligation_open(request: LegalRequest, *, now: datetime) -> FollowUpObligation | None:
    """An emergency disclosure was approved: the agency owes formal legal process in time."""
    if request.kind != RequestKind.EMERGENCY:
        return None
    _, policy = policy_current()
    obligation, _ = FollowUpObligation.objects.get_or_create(
        emergency=request,
        defaults={"due_at": now + timedelta(days=policy.trust.follow_up_days)},
    )
    return obligation


# An emergency whose disclosure stands (approved, released, delivered, or closed after it); one
# returned to review, rejected or withdrawn disclosed nothing and owes nothing.
_DISCLOSED = ["APPROVED", "PRODUCED", "DELIVERED", "CLOSED"]


def follow_ups_overdue(now: datetime) -> list[FollowUpObligation]:
    return list(
        FollowUpObligation.objects.filter(
            fulfilled_at__isnull=True,
            missed_at__isnull=True,
            due_at__lte=now,
            emergency__status__in=_DISCLOSED,
        )
        .select_related("emergency__agency", "emergency__officer")
        .order_by("due_at", "pk")
    )


def follow_ups_open_for(agency: Agency) -> list[FollowUpObligation]:
    return list(
        FollowUpObligation.objects.filter(
            emergency__agency=agency, fulfilled_at__isnull=True, missed_at__isnull=True
        )
        .select_related("emergency")
        .order_by("due_at")
    )


def agency_request_counts(agency: Agency) -> dict[str, int]:
    counts = LegalRequest.objects.filter(agency=agency).aggregate(
        total=Count("pk"), emergencies=Count("pk", filter=Q(kind=RequestKind.EMERGENCY))
    )
    return {key: int(value or 0) for key, value in counts.items()}
