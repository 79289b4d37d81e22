"""Review as a stage of the request's life: start, ask, escalate, decide, approve, close.

Each action checks the actor's role first, then the rules that depend on where the request is in
its life (holds, blocking checks, the status), then records what review decided through
``review.services`` and moves the status, all in one transaction with the audit events. No view,
command or admin reaches a lower function to skip a step.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from django.db import transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import FraudFlagKind
from govreq.agencies.trust import contact_for_call_back, fraud_flag_raise
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, ValidationFailed
from govreq.intake.models import LegalRequest, RequestStatus
from govreq.intake.services import lock_request
from govreq.lifecycle.agency_mail import tell_officer
from govreq.lifecycle.disclosing import open_production
from govreq.lifecycle.guards import refuse_if_held
from govreq.lifecycle.notifying import notices_for_named
from govreq.lifecycle.transitions import request_transition
from govreq.lifecycle.trusting import follow_up_oblige
from govreq.review import services as review
from govreq.review.confidence import confidence_refresh_on_commit
from govreq.review.models import (
    DISCLOSING_OUTCOMES,
    Approval,
    CallBack,
    CallBackOutcome,
    CheckTrigger,
    Clarification,
    Decision,
    DecisionOutcome,
    RejectionReason,
)

S = RequestStatus

# Where each decision takes the request (NO_DATA passes through DECIDED to CLOSED; PRESERVE
# waits in DECIDED until its snapshot is sealed).
_AFTER_DECISION = {
    DecisionOutcome.FULL: S.DECIDED,
    DecisionOutcome.PARTIAL: S.DECIDED,
    DecisionOutcome.PRESERVE: S.DECIDED,
    DecisionOutcome.REJECTED: S.REJECTED,
    DecisionOutcome.NO_DATA: S.CLOSED,
}


# Held from these, a request may still be rejected for the hold's sake: nothing was approved yet.
_DECIDABLE_WHILE_HELD = frozenset(
    {S.RECEIVED, S.IN_REVIEW, S.NEEDS_CLARIFICATION, S.ESCALATED, S.DECIDED}
)


@transaction.atomic
def request_start_review(*, actor: Actor, request: LegalRequest, now: datetime) -> LegalRequest:
    """Take a received request into review (assigning it to the reviewer who starts it)."""
    require_role(actor, StaffRole.INTAKE, StaffRole.REVIEWER)
    request = lock_request(request)
    assigned: dict[str, object] = {}
    if request.assigned_to_id is None and actor.user is not None:
        request.assigned_to = actor.user
        request.save(update_fields=["assigned_to"])
        assigned = {"assigned_to": actor.user.pk}
    return request_transition(
        actor=actor,
        request=request,
        to_status=S.IN_REVIEW,
        reason="Review started",
        now=now,
        audit_data=assigned,
    )


@transaction.atomic
def clarification_ask(
    *, actor: Actor, request: LegalRequest, question: str, now: datetime
) -> Clarification:
    """Ask the agency a question or push back (the letter is part of the case)."""
    require_role(actor, StaffRole.REVIEWER)
    if not question.strip():
        raise ValidationFailed.single("question", "must not be empty")
    request = request_transition(
        actor=actor,
        request=request,
        to_status=S.NEEDS_CLARIFICATION,
        reason="Clarification requested",
        now=now,
    )
    clarification = review.clarification_record(
        actor=actor, request=request, question=question, now=now
    )
    tell_officer(request, "question")
    return clarification


@transaction.atomic
def clarification_answer(
    *, actor: Actor, request: LegalRequest, clarification_id: int, answer: str, now: datetime
) -> Clarification:
    """The agency answers; the request returns to review and its checks run again."""
    locked = lock_request(request)  # the request row first, then the chain (in the record)
    clarification = review.clarification_answer_record(
        actor=actor, request=locked, clarification_id=clarification_id, answer=answer, now=now
    )
    if locked.status == S.NEEDS_CLARIFICATION:
        locked = request_transition(
            actor=actor, request=locked, to_status=S.IN_REVIEW, reason="Agency answered", now=now
        )
    elif locked.status == S.ON_HOLD and locked.status_before_hold == S.NEEDS_CLARIFICATION:
        # Answered while a hold keeps it: when the hold ends it goes back to review, not back to
        # waiting for an answer it already has.
        locked.status_before_hold = S.IN_REVIEW
        locked.save(update_fields=["status_before_hold"])
    review.checks_run(
        actor=actor, request=locked, trigger=CheckTrigger.CLARIFICATION_ANSWERED, now=now
    )
    return clarification


@transaction.atomic
def call_back(
    *,
    actor: Actor,
    request: LegalRequest,
    contact_id: int,
    called_at: datetime,
    outcome: str,
    now: datetime,
    person_reached: str = "",
    notes: str = "",
) -> CallBack:
    """The second-level check: staff called the agency on a number from its verified contacts
    and asked whether it sent this request. NOT_CONFIRMED blocks the request (its CALL_BACK
    check) and raises a fraud flag on the officer; the checks run again."""
    request = lock_request(request)
    contact = contact_for_call_back(request.agency, contact_id)
    call = review.call_back_record(
        actor=actor,
        request=request,
        contact=contact,
        called_at=called_at,
        outcome=outcome,
        person_reached=person_reached,
        notes=notes,
        now=now,
    )
    if call.outcome == CallBackOutcome.NOT_CONFIRMED:
        fraud_flag_raise(
            actor=actor,
            agency=request.agency,
            officer=request.officer,
            kind=FraudFlagKind.CALLBACK_NOT_CONFIRMED,
            request_reference=request.reference,
            note=f"Called {call.phone} ({contact.directory}): {call.notes}",
            now=now,
        )
    review.checks_run(actor=actor, request=request, trigger=CheckTrigger.CALL_BACK, now=now)
    confidence_refresh_on_commit(request.agency, now=now)
    return call


@transaction.atomic
def request_escalate(
    *, actor: Actor, request: LegalRequest, reason: str, now: datetime
) -> LegalRequest:
    """Send the request to the human-rights officer."""
    require_role(actor, StaffRole.REVIEWER)
    if not reason.strip():
        raise ValidationFailed.single("reason", "say why it needs human-rights review")
    return request_transition(
        actor=actor, request=request, to_status=S.ESCALATED, reason=reason.strip(), now=now
    )


@transaction.atomic
def request_return_to_review(
    *, actor: Actor, request: LegalRequest, reason: str, now: datetime
) -> LegalRequest:
    """Back to review (from escalation, or a decision sent back); any current decision lapses."""
    require_role(actor, StaffRole.REVIEWER, StaffRole.APPROVER, StaffRole.HUMAN_RIGHTS_OFFICER)
    if not reason.strip():
        raise ValidationFailed.single("reason", "must not be empty")
    return request_transition(
        actor=actor, request=request, to_status=S.IN_REVIEW, reason=reason.strip(), now=now
    )


@transaction.atomic
def decision_make(
    *,
    actor: Actor,
    request: LegalRequest,
    outcome: str,
    rationale: str,
    rejection_reasons: list[str] | None = None,
    approved_target_ids: list[int] | None = None,
    approved_categories: list[str] | None = None,
    approved_from: date | None = None,
    approved_to: date | None = None,
    letter: str = "",
    now: datetime,
) -> Decision:
    """Decide a request. FULL and PARTIAL then wait for approvals; REJECTED and NO_DATA end it;
    PRESERVE (preservation requests only) takes a sealed snapshot and discloses nothing."""
    require_role(actor, StaffRole.REVIEWER)
    request = lock_request(request)
    rejected_for_hold = (
        outcome == DecisionOutcome.REJECTED
        and RejectionReason.JURISDICTION_HOLD in (rejection_reasons or [])
        and request.status == S.ON_HOLD
        and request.status_before_hold in _DECIDABLE_WHILE_HELD
    )
    if not rejected_for_hold:
        refuse_if_held(request, now)
    draft = review.decision_validate(
        request=request,
        outcome=outcome,
        rationale=rationale,
        rejection_reasons=rejection_reasons,
        approved_target_ids=approved_target_ids,
        approved_categories=approved_categories,
        approved_from=approved_from,
        approved_to=approved_to,
        letter=letter,
    )
    lapsed: list[int] = []
    if rejected_for_hold:
        # A held request may be turned down because of the hold; what it was waiting for lapses
        # (recorded in the status change's event, as every lapse is, for reconcile).
        current = Decision.objects.filter(request=request, superseded_at__isnull=True)
        lapsed = list(current.values_list("pk", flat=True))
        current.update(superseded_at=now)
    elif request.status not in (S.IN_REVIEW, S.ESCALATED):
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()}; only a request in review "
            "or escalated can be decided",
            code="illegal_transition",
        )
    if draft.disclosing:
        # Facts change (an agency suspended, a hold placed): decide on fresh checks.
        review.checks_run(actor=actor, request=request, trigger=CheckTrigger.DECISION, now=now)
        review.refuse_if_blocked(request)
        review.refuse_unless_escalated(request)
    elif draft.outcome == DecisionOutcome.PRESERVE:
        # Preserving takes a copy of an account's records: the agency must be real.
        review.checks_run(actor=actor, request=request, trigger=CheckTrigger.DECISION, now=now)
        review.refuse_if_blocked(request)
    decision = review.decision_record(actor=actor, request=request, draft=draft, now=now)
    to_status = _AFTER_DECISION[DecisionOutcome(outcome)]
    if to_status == S.CLOSED:
        # NO_DATA passes through DECIDED so the history shows the decision, then closes.
        request_transition(
            actor=actor, request=request, to_status=S.DECIDED, reason="Decision: NO_DATA", now=now
        )
    request_transition(
        actor=actor,
        request=request,
        to_status=to_status,
        reason=f"Decision: {outcome}",
        now=now,
        audit_data={"superseded_decisions": lapsed} if lapsed else None,
    )
    if draft.outcome == DecisionOutcome.PRESERVE:
        open_production(actor=actor, request=request, decision=decision, now=now)
    elif not draft.disclosing:
        tell_officer(request, "decision")  # rejected or no data: the agency is told now
        notices_for_named(request=request)
    return decision


@transaction.atomic
def approval_give(
    *,
    actor: Actor,
    request: LegalRequest,
    kind: str | None = None,
    note: str = "",
    assessment: Mapping[str, str] | None = None,
    now: datetime,
) -> Approval:
    """Approve the current FULL/PARTIAL decision (four eyes; plus the HR officer if needed,
    whose approval carries their structured assessment).

    Serialised by a row lock on the request; the last approval needed moves it to APPROVED.
    """
    review.require_named_approver(actor)
    request = lock_request(request)
    refuse_if_held(request, now)
    decision = review.current_decision(request)
    if (
        request.status != S.DECIDED
        or decision is None
        or decision.outcome not in DISCLOSING_OUTCOMES
    ):
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()}; there is no disclosure "
            "decision awaiting approval",
            code="nothing_to_approve",
        )
    review.refuse_without_call_back(request)
    review.checks_run(actor=actor, request=request, trigger=CheckTrigger.DECISION, now=now)
    review.refuse_if_blocked(request)
    approval = review.approval_record(
        actor=actor,
        request=request,
        decision=decision,
        kind=kind,
        note=note,
        assessment=assessment,
        now=now,
    )
    if not review.approvals_missing(decision):
        request_transition(
            actor=actor,
            request=request,
            to_status=S.APPROVED,
            reason="All required approvals given",
            now=now,
        )
        open_production(actor=actor, request=request, decision=decision, now=now)
        follow_up_oblige(actor=actor, request=request, now=now)
        tell_officer(request, "decision")
    return approval


@transaction.atomic
def request_close(
    *, actor: Actor, request: LegalRequest, reason: str, now: datetime
) -> LegalRequest:
    """Close a request whose disclosure was delivered (or a preservation that is done with).

    An approved disclosure is never closed by hand without a delivery: the agency downloads the
    released package, or a reviewer records a delivery by other means with its evidence
    (``disclosing.delivery_record_other_means``); an agency that no longer wants it withdraws."""
    require_role(actor, StaffRole.REVIEWER)
    request = lock_request(request)
    refuse_if_held(request, now)
    if request.status in (S.APPROVED, S.PRODUCED):
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()} but nothing has been "
            "delivered: release its production for the agency to download, or record a "
            "delivery by other means with its evidence, or the agency's withdrawal",
            code="delivery_required",
        )
    if request.status not in (S.DELIVERED, S.PRESERVED):
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()}; only an approved request "
            "that was delivered, or a preserved one, is closed this way",
            code="illegal_transition",
        )
    return request_transition(
        actor=actor, request=request, to_status=S.CLOSED, reason=reason.strip() or "Closed", now=now
    )
