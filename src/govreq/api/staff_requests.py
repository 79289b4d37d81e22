"""Staff endpoints (/api/v1/staff/requests): the queue, the case, and every review action.

Routes only translate HTTP to services; roles, holds and four-eyes are enforced in the services.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from django.db.models import Q
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from govreq.accounts.models import User
from govreq.accounts.permissions import actor_roles
from govreq.agencies.confidence import Confidence
from govreq.agencies.models import Agency, AgencyContact
from govreq.api.auth import caller_staff
from govreq.api.pagination import (
    CursorPage,
    CursorPageParams,
    paginate_keyset,
    reject_unknown_query_parameters,
)
from govreq.api.productions import StaffProductionOut
from govreq.api.requests import (
    ClarificationOut,
    DateRangeOut,
    DocumentOut,
    EmergencyOut,
    GagOrderOut,
    RequestOut,
)
from govreq.api.schemas import ERRORS
from govreq.core.actors import Actor
from govreq.core.errors import ValidationFailed
from govreq.core.moments import Moment
from govreq.disclosure.selectors import productions_of
from govreq.intake import selectors as intake_selectors
from govreq.intake.models import OPEN_STATUSES, LegalRequest, RequestKind, RequestStatus
from govreq.lifecycle import reviewing, trusting
from govreq.review import services
from govreq.review.confidence import agency_confidence_now, officer_confidence_now
from govreq.review.deadlines import clock_at
from govreq.review.models import (
    ApprovalKind,
    CallBack,
    DecisionOutcome,
    FollowUpObligation,
    RejectionReason,
)
from govreq.review.selectors import (
    Inbox,
    ReviewRecord,
    inbox_filter,
    queue_counts,
    queue_rows,
    request_queue,
    request_queue_keyset,
    review_record,
)

router = Router()
S = RequestStatus


class QueueItemOut(Schema):
    """A queue row (``review.selectors.queue_rows``)."""

    id: uuid.UUID = Field(alias="public_id")
    reference: str
    status: RequestStatus
    kind: str
    jurisdiction: str = Field(alias="jurisdiction_id")
    agency: str = Field(alias="agency_name")
    offence_category: str
    received_at: datetime
    deadline_at: datetime | None
    respond_by: datetime = Field(description="The platform's response target (policy deadlines).")
    overdue: bool = Field(description="The answer is the platform's to give and is late.")
    check_outcome: str
    needs_human_rights_approval: bool
    assigned_to: str | None = Field(alias="assigned_to_email")
    target_count: int
    agency_confidence: int | None = Field(
        default=None, description="The agency's confidence score (0-100) as last computed."
    )

    @staticmethod
    def resolve_overdue(obj: Any) -> bool:
        return clock_at(
            status=obj["status"], respond_by=obj["respond_by"], now=timezone.now()
        ).overdue


class QueuePage(CursorPage):
    items: list[QueueItemOut]
    counts_by_status: dict[str, int] = Field(
        description="How many requests are in each open status (closed ones are not counted)."
    )


class QueueFilters(CursorPageParams):
    status: list[RequestStatus] | None = None
    jurisdiction: str | None = Field(default=None, min_length=2, max_length=2)
    kind: RequestKind | None = None
    deadline_before: datetime | None = Field(
        default=None, description="Only requests whose agency's deadline is before this moment."
    )
    due_before: Moment | None = Field(
        default=None,
        description="Only requests whose response target (respond_by) is before this moment.",
    )
    assigned_to_me: bool = False
    order: Literal["urgency", "confidence"] = Field(
        default="urgency",
        description="urgency: emergencies, then the nearest response target; confidence: the "
        "least trusted agencies first.",
    )
    inbox: Inbox | None = Field(
        default=None,
        description="approval: decisions you may still approve; human_rights: awaiting the "
        "human-rights officer; mine: assigned to you; overdue: the answer is late.",
    )


class CheckResultOut(Schema):
    code: str
    outcome: str
    message: str
    details: dict[str, Any]


class CheckRunOut(Schema):
    ran_at: datetime
    trigger: str
    policy_version: int


class ApprovalOut(Schema):
    kind: str
    slot: int
    approver: str
    note: str
    approved_at: datetime


class DecisionOut(Schema):
    id: int
    outcome: str
    rationale: str
    letter: str
    rejection_reasons: list[str]
    approved_target_ids: list[int]
    approved_categories: list[str]
    approved_from: date | None
    approved_to: date | None
    requires_human_rights_approval: bool
    decided_by: str | None
    decided_at: datetime
    superseded_at: datetime | None
    approvals: list[ApprovalOut]
    approvals_missing: list[str]


class CoveringHoldOut(Schema):
    id: int
    jurisdiction: str
    reason: str
    effective_from: datetime
    excepted: bool


class ReReviewOut(Schema):
    hold: int
    approved_at: datetime
    flagged_at: datetime


class HistoryWithActorOut(Schema):
    from_status: str | None
    to_status: str
    occurred_at: datetime
    reason: str
    actor: str


class StaffTargetOut(Schema):
    id: int
    type: str
    value: str


class ReasonOut(Schema):
    points: int
    text: str


class ConfidenceOut(Schema):
    score: int
    level: str
    reasons: list[ReasonOut]


class ContactOut(Schema):
    id: int
    kind: str
    phone: str
    directory: str
    directory_url: str
    verified_by: str
    verified_at: datetime


class CallBackOut(Schema):
    id: int
    phone: str
    directory: str
    called_at: datetime
    called_by: str
    person_reached: str
    outcome: str
    notes: str


class FollowUpOut(Schema):
    due_at: datetime
    fulfilled_by: str | None
    fulfilled_at: datetime | None
    missed_at: datetime | None


class DocumentTextOut(Schema):
    document_id: int
    method: str = Field(description="PDF (text layer), OCR, PLAIN (text file) or NONE.")
    text: str
    pages: int
    truncated: bool
    failed: bool = Field(description="The document could not be read (broken, too large).")
    note: str
    extracted_at: datetime


class StaffRequestOut(Schema):
    """Everything the agency sees (RequestOut), plus the review record."""

    id: uuid.UUID
    reference: str
    status: RequestStatus
    agency: str
    officer: str
    jurisdiction: str
    channel: str
    received_at: datetime
    kind: str
    legal_basis: str
    issuing_authority: str
    agency_case_number: str
    offence_category: str
    narrative: str
    data_categories: list[str]
    data_range: DateRangeOut | None
    deadline_at: datetime | None
    respond_by: datetime
    overdue: bool
    gag_order: GagOrderOut | None
    emergency: EmergencyOut | None
    documents: list[DocumentOut]
    document_texts: list[DocumentTextOut] = Field(
        description="The text read from each document that has been read (staff only)."
    )
    clarifications: list[ClarificationOut]
    agency_id: int
    agency_status: str
    assigned_to: str | None
    check_outcome: str
    needs_human_rights_approval: bool
    targets: list[StaffTargetOut]
    history: list[HistoryWithActorOut]
    check_run: CheckRunOut | None
    checks: list[CheckResultOut]
    decisions: list[DecisionOut]
    holds: list[CoveringHoldOut]
    re_reviews: list[ReReviewOut]
    productions: list[StaffProductionOut]
    agency_confidence: ConfidenceOut
    officer_confidence: ConfidenceOut
    agency_contacts: list[ContactOut] = Field(
        description="The agency's verified numbers: the only ones a call-back may use."
    )
    call_backs: list[CallBackOut]
    follow_up: FollowUpOut | None = Field(
        description="For an approved emergency: the legal process the agency owes, and when."
    )


def staff_request_detail(record: ReviewRecord) -> dict[str, Any]:
    request = record.request
    base = RequestOut.model_validate(request).model_dump()
    return {
        **base,
        "agency_id": request.agency_id,
        "agency_status": request.agency.status,
        "assigned_to": request.assigned_to.email if request.assigned_to else None,
        "respond_by": request.respond_by,
        "overdue": clock_at(
            status=request.status, respond_by=request.respond_by, now=timezone.now()
        ).overdue,
        "check_outcome": request.check_outcome,
        "needs_human_rights_approval": request.needs_human_rights_approval,
        "targets": [{"id": t.pk, "type": t.type, "value": t.value} for t in request.targets.all()],
        "document_texts": [
            {"document_id": d.document.pk, **model_to_dict(d.text, exclude=["id", "document"])}
            for d in intake_selectors.documents_with_text(request)
            if d.text is not None
        ],
        "history": [
            {
                "from_status": c.from_status or None,
                "to_status": c.to_status,
                "occurred_at": c.occurred_at,
                "reason": c.reason,
                "actor": c.actor_label,
            }
            for c in request.status_changes.all()
        ],
        "check_run": {
            "ran_at": record.check_run.ran_at,
            "trigger": record.check_run.trigger,
            "policy_version": record.check_run.policy_version.version,
        }
        if record.check_run
        else None,
        "checks": [
            {"code": r.code, "outcome": r.outcome, "message": r.message, "details": r.details}
            for r in record.results
        ],
        "decisions": [
            {
                "id": d.pk,
                "outcome": d.outcome,
                "rationale": d.rationale,
                "letter": d.letter,
                "rejection_reasons": d.rejection_reasons,
                "approved_target_ids": d.approved_target_ids,
                "approved_categories": d.approved_categories,
                "approved_from": d.approved_from,
                "approved_to": d.approved_to,
                "requires_human_rights_approval": d.requires_human_rights_approval,
                "decided_by": d.decided_by.email if d.decided_by else None,
                "decided_at": d.decided_at,
                "superseded_at": d.superseded_at,
                "approvals": [
                    {
                        "kind": a.kind,
                        "slot": a.slot,
                        "approver": a.approver.email,
                        "note": a.note,
                        "approved_at": a.approved_at,
                    }
                    for a in d.approvals.all()
                ],
                "approvals_missing": services.approvals_missing(d)
                if d.outcome in ("FULL", "PARTIAL") and d.superseded_at is None
                else [],
            }
            for d in record.decisions
        ],
        "holds": [
            {
                "id": h.hold.id,
                "jurisdiction": h.hold.jurisdiction,
                "reason": h.hold.reason,
                "effective_from": h.hold.effective_from,
                "excepted": h.excepted,
            }
            for h in record.holds
        ],
        "re_reviews": [
            {
                "id": r.pk,
                "hold": r.hold_id,
                "approved_at": r.approved_at,
                "flagged_at": r.flagged_at,
                "resolved_at": r.resolved_at,
                "resolution": r.resolution,
                "resolution_reason": r.resolution_reason,
            }
            for r in record.re_reviews
        ],
        "productions": list(productions_of(request).select_related("request", "released_by")),
        **trust_detail(request),
    }


def contacts_out(agency: Agency) -> list[dict[str, Any]]:
    """The agency's current verified numbers (ContactOut), for the case and the agency."""
    return [
        {
            "id": c.pk,
            "kind": c.kind,
            "phone": c.phone,
            "directory": c.directory,
            "directory_url": c.directory_url,
            "verified_by": c.verified_by.email,
            "verified_at": c.verified_at,
        }
        for c in AgencyContact.objects.filter(agency=agency, retired_at__isnull=True)
        .select_related("verified_by")
        .order_by("kind", "pk")
    ]


def confidence_out(confidence: Confidence) -> dict[str, Any]:
    return {
        "score": confidence.score,
        "level": confidence.level,
        "reasons": [{"points": r.points, "text": r.text} for r in confidence.reasons],
    }


def trust_detail(request: LegalRequest) -> dict[str, Any]:
    """Is this really that agency? Its confidence, the officer's, its verified numbers, the
    call-backs made and the follow-up owed."""
    now = timezone.now()
    obligation = FollowUpObligation.objects.filter(emergency=request).first()
    return {
        "agency_confidence": confidence_out(agency_confidence_now(request.agency, now=now)),
        "officer_confidence": confidence_out(officer_confidence_now(request.officer, now=now)),
        "agency_contacts": contacts_out(request.agency),
        "call_backs": [
            {
                "id": c.pk,
                "phone": c.phone,
                "directory": c.contact.directory,
                "called_at": c.called_at,
                "called_by": c.called_by.email,
                "person_reached": c.person_reached,
                "outcome": c.outcome,
                "notes": c.notes,
            }
            for c in CallBack.objects.filter(request=request)
            .select_related("contact", "called_by")
            .order_by("called_at", "pk")
        ],
        "follow_up": {
            "due_at": obligation.due_at,
            "fulfilled_by": obligation.fulfilled_by.reference if obligation.fulfilled_by else None,
            "fulfilled_at": obligation.fulfilled_at,
            "missed_at": obligation.missed_at,
        }
        if obligation is not None
        else None,
    }


class CallBackIn(Schema):
    contact_id: int = Field(ge=1, le=2**63 - 1, description="One of agency_contacts.")
    called_at: Moment
    outcome: Literal["CONFIRMED", "NOT_CONFIRMED", "NO_ANSWER"]
    person_reached: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=5000)


class FollowUpIn(Schema):
    follow_up: str = Field(
        min_length=1, max_length=64, description="The follow-up request's reference or id."
    )


def _record(request_id: str) -> ReviewRecord:
    legal_request = intake_selectors.request_get(public_id=request_id)
    return review_record(legal_request, now=timezone.now())


def _inbox(inbox: Inbox | None, actor: Actor) -> Q | None:
    if inbox is None:
        return None
    if actor.user is None:
        return Q(pk__in=[])
    return inbox_filter(inbox, user=actor.user, roles=actor_roles(actor), now=timezone.now())


@router.get("", response={200: QueuePage, **ERRORS}, summary="The review queue")
def queue(request: HttpRequest, filters: Query[QueueFilters]) -> dict[str, Any]:
    reject_unknown_query_parameters(request, QueueFilters)
    actor = caller_staff(request)
    statuses = sorted(str(s) for s in filters.status or [])
    criteria: dict[str, Any] = {
        "statuses": statuses,
        "jurisdiction": filters.jurisdiction,
        "kind": filters.kind,
        "deadline_before": filters.deadline_before,
        "due_before": filters.due_before,
        "assigned_to": actor.user if filters.assigned_to_me else None,
        "inbox": _inbox(filters.inbox, actor),
        "order": filters.order,
    }
    queryset = queue_rows(request_queue(**criteria))
    # Open requests are few: counting them is cheap; a closed status is the whole history.
    cheap = set(statuses) <= {str(s) for s in OPEN_STATUSES}
    binding = {
        **{name: value for name, value in criteria.items() if name not in ("inbox", "assigned_to")},
        "list": "api.staff.queue",
        "inbox": filters.inbox,
        "mine": filters.assigned_to_me,
        "staff": actor.user.pk if actor.user else None,
    }
    page = paginate_keyset(
        request_queue_keyset(**criteria),
        queryset,
        filters,
        binding=binding,
        count=queryset.count if cheap else None,
    )
    return {**page, "counts_by_status": queue_counts()}


@router.get("/{request_id}", response={200: StaffRequestOut, **ERRORS}, summary="A case")
def case(request: HttpRequest, request_id: str) -> dict[str, Any]:
    caller_staff(request)
    return staff_request_detail(_record(request_id))


class TransitionIn(Schema):
    to: Literal["IN_REVIEW", "ESCALATED", "CLOSED"] = Field(
        description=(
            "IN_REVIEW starts review (from RECEIVED) or sends a request back to review (from "
            "ESCALATED, DECIDED or APPROVED); ESCALATED sends it to the human-rights officer; "
            "CLOSED closes an approved request after delivery."
        )
    )
    reason: str = Field(default="", max_length=5000)


@router.post(
    "/{request_id}/transitions", response={200: StaffRequestOut, **ERRORS}, summary="Move a case"
)
def transition(request: HttpRequest, request_id: str, payload: TransitionIn) -> dict[str, Any]:
    actor = caller_staff(request)
    legal_request = intake_selectors.request_get(public_id=request_id)
    now = timezone.now()
    if payload.to == "IN_REVIEW" and legal_request.status == S.RECEIVED:
        reviewing.request_start_review(actor=actor, request=legal_request, now=now)
    elif payload.to == "IN_REVIEW":
        reviewing.request_return_to_review(
            actor=actor, request=legal_request, reason=payload.reason, now=now
        )
    elif payload.to == "ESCALATED":
        reviewing.request_escalate(
            actor=actor, request=legal_request, reason=payload.reason, now=now
        )
    else:
        reviewing.request_close(actor=actor, request=legal_request, reason=payload.reason, now=now)
    return staff_request_detail(_record(request_id))


class AssignIn(Schema):
    assignee: str | None = Field(description="A reviewer's e-mail, or null to unassign.")


@router.post("/{request_id}/assign", response={200: StaffRequestOut, **ERRORS})
def assign(request: HttpRequest, request_id: str, payload: AssignIn) -> dict[str, Any]:
    actor = caller_staff(request)
    assignee = None
    if payload.assignee:
        assignee = User.objects.filter(
            email=payload.assignee.strip().lower(), is_active=True
        ).first()
        if assignee is None:
            raise ValidationFailed.single("assignee", "no active staff user with that e-mail")
    services.request_assign(
        actor=actor,
        request=intake_selectors.request_get(public_id=request_id),
        assignee=assignee,
        now=timezone.now(),
    )
    return staff_request_detail(_record(request_id))


class QuestionIn(Schema):
    question: str = Field(min_length=1, max_length=20000)


@router.post(
    "/{request_id}/clarifications",
    response={200: StaffRequestOut, **ERRORS},
    summary="Ask the agency a question (push back)",
)
def ask(request: HttpRequest, request_id: str, payload: QuestionIn) -> dict[str, Any]:
    actor = caller_staff(request)
    reviewing.clarification_ask(
        actor=actor,
        request=intake_selectors.request_get(public_id=request_id),
        question=payload.question,
        now=timezone.now(),
    )
    return staff_request_detail(_record(request_id))


class DecisionIn(Schema):
    outcome: DecisionOutcome
    rationale: str = Field(min_length=1, max_length=20000)
    rejection_reasons: list[RejectionReason] = []
    approved_target_ids: list[int] = Field(default=[], description="PARTIAL: target ids.")
    approved_categories: list[str] = Field(default=[], description="PARTIAL: data categories.")
    approved_from: date | None = Field(default=None, description="PARTIAL: first day (narrower).")
    approved_to: date | None = Field(default=None, description="PARTIAL: last day (narrower).")
    letter: str = Field(default="", max_length=20000, description="Letter to the agency.")


@router.post(
    "/{request_id}/decision",
    response={200: StaffRequestOut, **ERRORS},
    summary="Decide: FULL, PARTIAL, REJECTED, NO_DATA, or PRESERVE (preservation requests)",
)
def decide(request: HttpRequest, request_id: str, payload: DecisionIn) -> dict[str, Any]:
    actor = caller_staff(request)
    reviewing.decision_make(
        actor=actor,
        request=intake_selectors.request_get(public_id=request_id),
        outcome=payload.outcome,
        rationale=payload.rationale,
        rejection_reasons=[str(r) for r in payload.rejection_reasons],
        approved_target_ids=payload.approved_target_ids,
        approved_categories=payload.approved_categories,
        approved_from=payload.approved_from,
        approved_to=payload.approved_to,
        letter=payload.letter,
        now=timezone.now(),
    )
    return staff_request_detail(_record(request_id))


class AssessmentIn(Schema):
    risk_found: str = Field(default="", max_length=10000)
    standards_applied: str = Field(default="", max_length=10000)
    conclusion: str = Field(
        default="", description="NO_SIGNIFICANT_RISK or RISK_MITIGATED (which needs conditions)"
    )
    conditions: str = Field(default="", max_length=10000)


class ApprovalIn(Schema):
    kind: ApprovalKind | None = Field(
        default=None,
        description="STANDARD or HUMAN_RIGHTS; by default what the caller's roles can give.",
    )
    note: str = Field(default="", max_length=5000)
    assessment: AssessmentIn | None = Field(
        default=None,
        description="Required for the human-rights officer's approval (HUMAN_RIGHTS): the risk "
        "found, the standards applied, the conclusion and any conditions.",
    )


@router.post(
    "/{request_id}/approvals",
    response={200: StaffRequestOut, **ERRORS},
    summary="Approve the current disclosure decision",
)
def approve(request: HttpRequest, request_id: str, payload: ApprovalIn) -> dict[str, Any]:
    actor = caller_staff(request)
    reviewing.approval_give(
        actor=actor,
        request=intake_selectors.request_get(public_id=request_id),
        kind=payload.kind,
        note=payload.note,
        assessment=payload.assessment.dict() if payload.assessment else None,
        now=timezone.now(),
    )
    return staff_request_detail(_record(request_id))


@router.post(
    "/{request_id}/checks", response={200: StaffRequestOut, **ERRORS}, summary="Run checks again"
)
def rerun_checks(request: HttpRequest, request_id: str) -> dict[str, Any]:
    actor = caller_staff(request)
    services.checks_run_manually(
        actor=actor, request=intake_selectors.request_get(public_id=request_id), now=timezone.now()
    )
    return staff_request_detail(_record(request_id))


@router.post(
    "/{request_id}/call-backs",
    response={201: StaffRequestOut, **ERRORS},
    summary="Record a call-back to the agency on a verified number",
)
def record_call_back(
    request: HttpRequest, request_id: str, payload: CallBackIn
) -> Status[dict[str, Any]]:
    actor = caller_staff(request)
    legal_request = intake_selectors.request_get(public_id=request_id)
    reviewing.call_back(
        actor=actor,
        request=legal_request,
        contact_id=payload.contact_id,
        called_at=payload.called_at,
        outcome=payload.outcome,
        person_reached=payload.person_reached,
        notes=payload.notes,
        now=timezone.now(),
    )
    return Status(201, staff_request_detail(_record(request_id)))


@router.post(
    "/{request_id}/follow-up",
    response={200: StaffRequestOut, **ERRORS},
    summary="Link the legal process that followed an emergency disclosure",
)
def link_follow_up(request: HttpRequest, request_id: str, payload: FollowUpIn) -> dict[str, Any]:
    actor = caller_staff(request)
    emergency = intake_selectors.request_get(public_id=request_id)
    named = payload.follow_up.strip()
    follow_up = (
        intake_selectors.request_get_by_reference(named)
        if named.upper().startswith("GR-")
        else intake_selectors.request_get(public_id=named)
    )
    trusting.follow_up_link(
        actor=actor, emergency=emergency, follow_up=follow_up, now=timezone.now()
    )
    return staff_request_detail(_record(request_id))
