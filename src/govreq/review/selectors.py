"""Reads for the staff side: the queue, and a request with its whole review record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from govreq.accounts.models import StaffRole, User
from govreq.core.keyset import Key, KeysetList, list_shape
from govreq.holds.models import HoldReReview
from govreq.holds.rules import HoldSpec, excepted, in_force, in_scope
from govreq.holds.selectors import holds_possibly_in_force, request_scope
from govreq.intake.models import OPEN_STATUSES, LegalRequest, RequestKind, RequestStatus
from govreq.intake.selectors import REQUEST_ROW
from govreq.review.checks import SEVERITY
from govreq.review.deadlines import RESPONDING_STATUSES
from govreq.review.models import (
    DISCLOSING_OUTCOMES,
    Approval,
    ApprovalKind,
    CheckResult,
    CheckRun,
    Decision,
)


def _queue_filtered(
    *,
    statuses: list[str] | None = None,
    jurisdiction: str | None = None,
    kind: str | None = None,
    deadline_before: datetime | None = None,
    due_before: datetime | None = None,
    assigned_to: User | None = None,
    inbox: Q | None = None,
) -> QuerySet[LegalRequest]:
    queryset = LegalRequest.objects.select_related(
        "agency", "agency__confidence", "jurisdiction", "assigned_to"
    )
    if inbox is not None:
        queryset = queryset.filter(inbox)
    queryset = queryset.filter(status__in=statuses or [str(s) for s in OPEN_STATUSES])
    if jurisdiction:
        queryset = queryset.filter(jurisdiction_id=jurisdiction.upper())
    if kind:
        queryset = queryset.filter(kind=kind)
    if deadline_before is not None:  # the agency's own deadline
        queryset = queryset.filter(deadline_at__lt=deadline_before)
    if due_before is not None:  # the platform's response target
        queryset = queryset.filter(respond_by__lt=due_before)
    if assigned_to is not None:
        queryset = queryset.filter(assigned_to=assigned_to)
    return queryset


def request_queue(*, order: str = "urgency", **filters: Any) -> QuerySet[LegalRequest]:
    """Open requests (or those in ``statuses``, or in an ``inbox_filter``): emergencies first,
    then the nearest response target (``respond_by``); with ``order="confidence"`` the least
    trusted agencies first (no score yet counts as least). The keyword filters are those of
    ``request_queue_keyset``; pages are taken with that (this ordered queryset is for offset
    pages, which are limited, and for callers that want every row)."""
    queryset = _queue_filtered(**filters)
    if order == "confidence":
        return queryset.order_by(
            F("agency__confidence__score").asc(nulls_first=True), "respond_by", "id"
        )
    emergency_first = Case(
        When(kind=RequestKind.EMERGENCY, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return queryset.order_by(emergency_first, "respond_by", "received_at", "id")


QUEUE_KEYS = (Key(name="respond_by"), Key(name="received_at"), Key(name="id"))
CONFIDENCE_KEYS = (Key(name="confidence_order"), Key(name="respond_by"), Key(name="id"))

# What the queue shows (the staff API, the console), read as plain rows (``values()``): no
# model instance per row and per related row, whatever the size of the history. The agency's
# name, its confidence score (None: not computed yet) and the assignee's address come by join.
QUEUE_ROW = (
    *(name for name in REQUEST_ROW if name != "narrative"),
    "respond_by",
    "check_outcome",
    "needs_human_rights_approval",
)
QUEUE_ROW_JOINED = {
    "agency_name": F("agency__name"),
    "agency_confidence": F("agency__confidence__score"),
    "assigned_to_email": F("assigned_to__email"),
}


def queue_rows(
    queryset: QuerySet[LegalRequest], *also: str
) -> QuerySet[LegalRequest, dict[str, Any]]:
    """``queryset``'s requests as queue rows (``QUEUE_ROW`` and ``QUEUE_ROW_JOINED``, and the
    annotations named in ``also``)."""
    return queryset.values(*QUEUE_ROW, *also, **QUEUE_ROW_JOINED)


def request_queue_keyset(*, order: str = "urgency", **filters: Any) -> KeysetList:
    """The queue in ``request_queue``'s order, as a keyset list of rows (``queue_rows``).
    Emergencies first is two segments (the emergencies, then the rest), each read in
    (respond_by, received_at, id) order straight from an index, instead of sorting every
    matching row by a computed "is it an emergency" column. The segments are built only when a
    page of this shape (the order and filters) has not been compiled yet (``core.keyset``); an
    inbox filter, an expression, is compiled every time."""
    shape = list_shape("review.request_queue", order=order, **filters)
    if order == "confidence":

        def ranked() -> list[QuerySet[LegalRequest, dict[str, Any]]]:
            # No score yet counts as least trusted: first, as -1 (scores are 0-100). A signed
            # integer: compared as the score's own unsigned type, Django would drop "= -1" as
            # out of range.
            queryset = _queue_filtered(**filters).order_by()
            ranking = Coalesce(
                F("agency__confidence__score"), Value(-1), output_field=IntegerField()
            )
            return [queue_rows(queryset.annotate(confidence_order=ranking), "confidence_order")]

        return KeysetList(segments=ranked, keys=CONFIDENCE_KEYS, shape=shape)

    def urgent_first() -> list[QuerySet[LegalRequest, dict[str, Any]]]:
        queryset = _queue_filtered(**filters).order_by()
        return [
            queue_rows(queryset.filter(kind=RequestKind.EMERGENCY)),
            queue_rows(queryset.exclude(kind=RequestKind.EMERGENCY)),
        ]

    return KeysetList(segments=urgent_first, keys=QUEUE_KEYS, shape=shape)


def queue_counts() -> dict[str, int]:
    """How many requests are in each open status. Open requests are few whatever the size of
    the history, and each count reads the status index: closed statuses are not counted (that
    would read the whole table on every page view)."""
    rows = (
        LegalRequest.objects.filter(status__in=[str(s) for s in OPEN_STATUSES])
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["status"]: row["n"] for row in rows}


@dataclass(frozen=True, kw_only=True)
class CoveringHold:
    hold: HoldSpec
    excepted: bool


@dataclass(frozen=True, kw_only=True)
class ReviewRecord:
    request: LegalRequest
    check_run: CheckRun | None
    results: list[CheckResult]
    decisions: list[Decision]
    holds: list[CoveringHold]
    re_reviews: list[HoldReReview]


def review_record(request: LegalRequest, *, now: datetime) -> ReviewRecord:
    run = (
        CheckRun.objects.filter(request=request)
        .select_related("policy_version")
        .order_by("-id")
        .first()
    )
    results = sorted(run.results.all(), key=lambda r: (-SEVERITY[r.outcome], r.id)) if run else []
    decisions = list(
        Decision.objects.filter(request=request)
        .select_related("decided_by")
        .prefetch_related(
            Prefetch("approvals", queryset=Approval.objects.select_related("approver"))
        )
        .order_by("-decided_at", "-id")
    )
    scope = request_scope(request)
    holds = [
        CoveringHold(hold=h, excepted=excepted(h, scope))
        for h in holds_possibly_in_force(request.jurisdiction_id, now)
        if in_force(h, now) and in_scope(h, scope)
    ]
    re_reviews = list(HoldReReview.objects.filter(request=request).select_related("hold"))
    return ReviewRecord(
        request=request,
        check_run=run,
        results=results,
        decisions=decisions,
        holds=holds,
        re_reviews=re_reviews,
    )


# --- inboxes: what is waiting for me -------------------------------------------------------------


class Inbox(StrEnum):
    APPROVAL = "approval"  # a disclosing decision I may still approve
    HUMAN_RIGHTS = "human_rights"  # escalated, or a decision missing the HR officer's approval
    MINE = "mine"  # open requests assigned to me
    OVERDUE = "overdue"  # the platform's answer is late


INBOX_ROLES: dict[Inbox, frozenset[str]] = {
    Inbox.APPROVAL: frozenset({StaffRole.APPROVER, StaffRole.HUMAN_RIGHTS_OFFICER}),
    Inbox.HUMAN_RIGHTS: frozenset({StaffRole.HUMAN_RIGHTS_OFFICER}),
    Inbox.MINE: frozenset({StaffRole.REVIEWER, StaffRole.INTAKE}),
    Inbox.OVERDUE: frozenset(StaffRole.values),
}


def inboxes_for(roles: frozenset[str] | set[str]) -> list[Inbox]:
    """The inboxes a person with ``roles`` has, in the order the console shows them."""
    return [inbox for inbox in Inbox if INBOX_ROLES[inbox] & set(roles)]


def _current_disclosing() -> QuerySet[Decision]:
    return Decision.objects.filter(
        request=OuterRef("pk"), superseded_at__isnull=True, outcome__in=DISCLOSING_OUTCOMES
    )


def _hr_approval_missing(decisions: QuerySet[Decision]) -> QuerySet[Decision]:
    """Decisions that need the human-rights officer's approval and do not have it yet."""
    return decisions.filter(
        Q(requires_human_rights_approval=True) | Q(request__needs_human_rights_approval=True)
    ).exclude(
        Exists(Approval.objects.filter(decision=OuterRef("pk"), kind=ApprovalKind.HUMAN_RIGHTS))
    )


def inbox_filter(inbox: Inbox, *, user: User, roles: frozenset[str] | set[str], now: datetime) -> Q:
    """The requests in one of ``user``'s inboxes, as a filter on the queue. Approvals follow the
    four-eyes rules (``review.services.approval_record`` decides; this only finds candidates):
    never the decider's own decision, never twice by one person; the two standard approvals are
    complete once slot 2 is taken."""
    if inbox is Inbox.MINE:
        return Q(assigned_to=user, status__in=[str(s) for s in OPEN_STATUSES])
    if inbox is Inbox.OVERDUE:
        return Q(status__in=RESPONDING_STATUSES, respond_by__lt=now)
    if inbox is Inbox.HUMAN_RIGHTS:
        waiting = Exists(_hr_approval_missing(_current_disclosing()))
        return Q(status=RequestStatus.ESCALATED) | (Q(status=RequestStatus.DECIDED) & Q(waiting))
    open_to_me = (
        _current_disclosing()
        .exclude(decided_by=user)
        .exclude(Exists(Approval.objects.filter(decision=OuterRef("pk"), approver=user)))
    )
    wanted = Q(pk__in=[])
    if StaffRole.APPROVER in roles:
        second = Approval.objects.filter(
            decision=OuterRef("pk"), kind=ApprovalKind.STANDARD, slot=2
        )
        wanted |= Q(Exists(open_to_me.exclude(Exists(second))))
    if StaffRole.HUMAN_RIGHTS_OFFICER in roles:
        wanted |= Q(Exists(_hr_approval_missing(open_to_me)))
    return Q(status=RequestStatus.DECIDED) & wanted


def inbox_counts(
    *, user: User, roles: frozenset[str] | set[str], now: datetime
) -> dict[Inbox, int]:
    """How many requests wait in each of ``user``'s inboxes (open requests only: cheap)."""
    return {
        inbox: LegalRequest.objects.filter(
            inbox_filter(inbox, user=user, roles=roles, now=now)
        ).count()
        for inbox in inboxes_for(roles)
    }
