"""The review workflow: checks, clarifications, escalation, decisions and four-eyes approval.

Every action checks the actor's role first, then the rules (holds, blocks, four eyes), then acts,
in one transaction with its audit event. No view, command or admin can reach a lower function.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from govreq.accounts.models import StaffRole, User
from govreq.accounts.permissions import actor_roles, require_role
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from govreq.holds.rules import holding
from govreq.holds.selectors import holds_possibly_in_force, request_scope
from govreq.intake.models import LegalRequest, RequestStatus
from govreq.intake.services import lock_request, request_transition
from govreq.intake.workflow import FINAL_STATUSES
from govreq.policy.selectors import policy_current
from govreq.review.checks import BLOCK, Finding, needs_human_rights_approval, run_checks, worst
from govreq.review.facts import request_facts
from govreq.review.models import (
    DISCLOSING_OUTCOMES,
    Approval,
    ApprovalKind,
    CheckResult,
    CheckRun,
    CheckTrigger,
    Clarification,
    Decision,
    DecisionOutcome,
    RejectionReason,
)

S = RequestStatus
STANDARD_APPROVALS_NEEDED = 2


# --- checks ------------------------------------------------------------------------------------


def checks_run(*, actor: Actor, request: LegalRequest, trigger: str, now: datetime) -> CheckRun:
    """Run every check on the request under the current policy and store the results."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("checks_run must run inside the caller's transaction")
    version, policy = policy_current()
    findings = run_checks(request_facts(request, policy, now=now), policy)
    run = CheckRun.objects.create(
        request=request, policy_version=version, trigger=trigger, ran_at=now
    )
    CheckResult.objects.bulk_create(
        CheckResult(run=run, code=f.code, outcome=f.outcome, message=f.message, details=f.details)
        for f in findings
    )
    LegalRequest.objects.filter(pk=request.pk).update(
        check_outcome=worst(findings),
        needs_human_rights_approval=needs_human_rights_approval(findings),
    )
    request.check_outcome = worst(findings)
    request.needs_human_rights_approval = needs_human_rights_approval(findings)
    audit_record(
        actor=actor,
        action="checks.ran",
        object_type="legal_request",
        object_id=request.public_id,
        data={
            "run": run.pk,
            "trigger": trigger,
            "policy_version": version.version,
            "results": {f.code: f.outcome for f in findings},
        },
        now=now,
    )
    return run


@transaction.atomic
def checks_run_manually(*, actor: Actor, request: LegalRequest, now: datetime) -> CheckRun:
    require_role(actor, StaffRole.INTAKE, StaffRole.REVIEWER, StaffRole.HUMAN_RIGHTS_OFFICER)
    return checks_run(
        actor=actor, request=lock_request(request), trigger=CheckTrigger.MANUAL, now=now
    )


def checks_rerun_open(
    *, actor: Actor, trigger: str, now: datetime, jurisdiction: str | None = None
) -> int:
    """Re-run the checks of every open request (after a policy change), in batches."""
    queryset = LegalRequest.objects.exclude(status__in=FINAL_STATUSES).select_related("agency")
    if jurisdiction:
        queryset = queryset.filter(jurisdiction_id=jurisdiction)
    count = 0
    for request in queryset.order_by("pk").iterator(chunk_size=500):
        checks_run(actor=actor, request=request, trigger=trigger, now=now)
        count += 1
    return count


def latest_findings(request: LegalRequest) -> list[Finding]:
    run = CheckRun.objects.filter(request=request).order_by("-id").first()
    if run is None:
        return []
    return [
        Finding(code=r.code, outcome=r.outcome, message=r.message, details=r.details)
        for r in run.results.all()
    ]


def on_request_received(*, actor: Actor, request: LegalRequest, now: datetime) -> LegalRequest:
    """Intake hands every new request here, in its own transaction: holds, then checks."""
    from govreq.holds.services import hold_apply_to_new_request

    # Re-read under the row lock: the facts must come from the database, not from whatever
    # instances the caller holds.
    request = hold_apply_to_new_request(actor=actor, request=lock_request(request), now=now)
    checks_run(actor=actor, request=request, trigger=CheckTrigger.INTAKE, now=now)
    return request


# --- guards ------------------------------------------------------------------------------------


def _refuse_if_held(request: LegalRequest, now: datetime) -> None:
    """No decision or approval while a hold covers the request, whoever asks."""
    holds = holding(
        holds_possibly_in_force(request.jurisdiction_id, now), request_scope(request), now
    )
    if request.status == S.ON_HOLD or holds:
        hold = holds[0] if holds else None
        detail = f" under hold #{hold.id} on {hold.jurisdiction} ({hold.reason})" if hold else ""
        raise Conflict(
            f"{request.reference} is on hold{detail}: no decision, approval or disclosure is "
            "possible while the hold is in force",
            code="on_hold",
        )


def _refuse_if_blocked(request: LegalRequest, *, ignore: frozenset[str] = frozenset()) -> None:
    blocks = [f for f in latest_findings(request) if f.outcome == BLOCK and f.code not in ignore]
    if blocks:
        raise Conflict(
            f"{request.reference} cannot be disclosed while checks block it: "
            + "; ".join(f"{f.code}: {f.message}" for f in blocks),
            code="blocked_by_checks",
        )


def _current_decision(request: LegalRequest) -> Decision | None:
    return Decision.objects.filter(request=request, superseded_at__isnull=True).first()


# --- workflow actions --------------------------------------------------------------------------


@transaction.atomic
def request_start_review(*, actor: Actor, request: LegalRequest, now: datetime) -> LegalRequest:
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
def request_assign(
    *, actor: Actor, request: LegalRequest, assignee: User | None, now: datetime
) -> LegalRequest:
    require_role(actor, StaffRole.INTAKE, StaffRole.REVIEWER)
    request = lock_request(request)
    if assignee is not None and StaffRole.REVIEWER not in actor_roles(Actor.for_user(assignee)):
        raise ValidationFailed.single("assignee", f"{assignee.email} is not a reviewer")
    request.assigned_to = assignee
    request.updated_at = now
    request.save(update_fields=["assigned_to", "updated_at"])
    audit_record(
        actor=actor,
        action="request.assigned",
        object_type="legal_request",
        object_id=request.public_id,
        data={"assignee": assignee.pk if assignee else None},
        now=now,
    )
    return request


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
    clarification = Clarification.objects.create(
        request=request, question=question.strip(), asked_at=now, asked_by=actor.user
    )
    audit_record(
        actor=actor,
        action="clarification.asked",
        object_type="legal_request",
        object_id=request.public_id,
        data={"clarification": clarification.pk},
        now=now,
    )
    return clarification


@transaction.atomic
def clarification_answer(
    *, actor: Actor, request: LegalRequest, clarification_id: int, answer: str, now: datetime
) -> Clarification:
    """The agency answers; the request returns to review and its checks run again."""
    if actor.officer is None or actor.officer.agency_id != request.agency_id:
        raise NotFound(f"no request {request.public_id}", code="request_not_found")
    if not answer.strip():
        raise ValidationFailed.single("answer", "must not be empty")
    if request.status in FINAL_STATUSES:
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()}; it takes no more answers",
            code="request_closed",
        )
    clarification = (
        Clarification.objects.select_for_update()
        .filter(pk=clarification_id, request=request)
        .first()
    )
    if clarification is None:
        raise NotFound(f"no clarification {clarification_id}", code="clarification_not_found")
    if clarification.answered_at is not None:
        raise Conflict("this question was already answered", code="already_answered")
    clarification.answer = answer.strip()
    clarification.answered_at = now
    clarification.answered_by = actor.officer
    clarification.save(update_fields=["answer", "answered_at", "answered_by"])
    audit_record(
        actor=actor,
        action="clarification.answered",
        object_type="legal_request",
        object_id=request.public_id,
        data={"clarification": clarification.pk},
        now=now,
    )
    locked = lock_request(request)
    if locked.status == S.NEEDS_CLARIFICATION:
        locked = request_transition(
            actor=actor, request=locked, to_status=S.IN_REVIEW, reason="Agency answered", now=now
        )
    checks_run(actor=actor, request=locked, trigger=CheckTrigger.CLARIFICATION_ANSWERED, now=now)
    return clarification


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
    letter: str = "",
    now: datetime,
) -> Decision:
    """Decide a request. FULL and PARTIAL then wait for approvals; REJECTED and NO_DATA end it."""
    require_role(actor, StaffRole.REVIEWER)
    request = lock_request(request)
    _refuse_if_held(request, now)
    errors: list[FieldError] = []
    if outcome not in DecisionOutcome.values:
        errors.append(
            FieldError(
                field="outcome", message=f"must be one of {', '.join(DecisionOutcome.values)}"
            )
        )
    if not rationale.strip():
        errors.append(FieldError(field="rationale", message="explain the decision"))
    reasons = sorted(set(rejection_reasons or []))
    for reason in reasons:
        if reason not in RejectionReason.values:
            errors.append(
                FieldError(field="rejection_reasons", message=f"unknown reason {reason!r}")
            )
    if outcome == DecisionOutcome.REJECTED and not reasons:
        errors.append(FieldError(field="rejection_reasons", message="give at least one reason"))
    if outcome != DecisionOutcome.REJECTED and reasons:
        errors.append(FieldError(field="rejection_reasons", message="only for REJECTED"))
    target_ids: list[int] = []
    categories: list[str] = []
    if outcome == DecisionOutcome.PARTIAL:
        requested_targets = set(request.targets.values_list("pk", flat=True))
        target_ids = sorted(set(approved_target_ids or []))
        categories = sorted(set(approved_categories or []))
        if not target_ids or not set(target_ids) <= requested_targets:
            errors.append(
                FieldError(
                    field="approved_target_ids", message="name some of the request's targets"
                )
            )
        if not categories or not set(categories) <= set(request.data_categories):
            errors.append(
                FieldError(
                    field="approved_categories",
                    message="name some of the data categories the request asked for",
                )
            )
        if set(target_ids) == requested_targets and set(categories) == set(request.data_categories):
            errors.append(FieldError(field="outcome", message="that is everything: decide FULL"))
    elif approved_target_ids or approved_categories:
        errors.append(FieldError(field="approved_target_ids", message="only for PARTIAL"))
    if errors:
        raise ValidationFailed(errors)
    if request.status not in (S.IN_REVIEW, S.ESCALATED):
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()}; only a request in review "
            "or escalated can be decided",
            code="illegal_transition",
        )

    disclosing = outcome in DISCLOSING_OUTCOMES
    if disclosing:
        # Facts change (an agency suspended, a hold placed): decide on fresh checks.
        checks_run(actor=actor, request=request, trigger=CheckTrigger.DECISION, now=now)
        _refuse_if_blocked(request)
        if request.needs_human_rights_approval and request.status != S.ESCALATED:
            raise Conflict(
                f"{request.reference} carries a human-rights risk or a hold exception: escalate "
                "it to the human-rights officer before deciding to disclose",
                code="escalation_required",
            )
    decision = Decision.objects.create(
        request=request,
        outcome=outcome,
        rejection_reasons=reasons,
        approved_target_ids=target_ids,
        approved_categories=categories,
        rationale=rationale.strip(),
        letter=letter.strip(),
        requires_human_rights_approval=disclosing
        and (request.needs_human_rights_approval or request.status == S.ESCALATED),
        decided_by=actor.user,
        decided_at=now,
    )
    audit_record(
        actor=actor,
        action="decision.made",
        object_type="legal_request",
        object_id=request.public_id,
        data={
            "decision": decision.pk,
            "outcome": outcome,
            "rejection_reasons": reasons,
            "approved_target_ids": target_ids,
            "approved_categories": categories,
            "requires_human_rights_approval": decision.requires_human_rights_approval,
        },
        now=now,
    )
    to_status = {
        DecisionOutcome.FULL: S.DECIDED,
        DecisionOutcome.PARTIAL: S.DECIDED,
        DecisionOutcome.REJECTED: S.REJECTED,
        DecisionOutcome.NO_DATA: S.CLOSED,
    }[DecisionOutcome(outcome)]
    if to_status == S.CLOSED:
        # NO_DATA passes through DECIDED so the history shows the decision, then closes.
        request_transition(
            actor=actor, request=request, to_status=S.DECIDED, reason="Decision: NO_DATA", now=now
        )
    request_transition(
        actor=actor, request=request, to_status=to_status, reason=f"Decision: {outcome}", now=now
    )
    return decision


def approvals_missing(decision: Decision) -> list[str]:
    """What the decision still needs. The human-rights officer's approval is needed when the
    decision said so, or when the request needs it now (a hold exception or a human-rights risk
    that appeared after the decision)."""
    approvals = list(decision.approvals.all())
    standard = sum(1 for a in approvals if a.kind == ApprovalKind.STANDARD)
    missing = [ApprovalKind.STANDARD.value] * max(0, STANDARD_APPROVALS_NEEDED - standard)
    needs_hr = decision.requires_human_rights_approval or (
        LegalRequest.objects.filter(
            pk=decision.request_id, needs_human_rights_approval=True
        ).exists()
    )
    if needs_hr and not any(a.kind == ApprovalKind.HUMAN_RIGHTS for a in approvals):
        missing.append(ApprovalKind.HUMAN_RIGHTS.value)
    return missing


@transaction.atomic
def approval_give(
    *,
    actor: Actor,
    request: LegalRequest,
    kind: str | None = None,
    note: str = "",
    now: datetime,
) -> Approval:
    """Approve the current FULL/PARTIAL decision (four eyes; plus the HR officer if needed).

    Serialised by a row lock on the request; the database's uniqueness constraints make a
    double approval impossible even without it.
    """
    require_role(actor, StaffRole.APPROVER, StaffRole.HUMAN_RIGHTS_OFFICER)
    if actor.user is None:
        raise PermissionDenied(
            "approvals must be given by a named staff member", code="role_required"
        )
    request = lock_request(request)
    _refuse_if_held(request, now)
    decision = _current_decision(request)
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
    checks_run(actor=actor, request=request, trigger=CheckTrigger.DECISION, now=now)
    _refuse_if_blocked(request)
    if decision.decided_by_id == actor.user.pk:
        raise Conflict("the person who decided cannot approve their own decision", code="four_eyes")
    if decision.approvals.filter(approver=actor.user).exists():
        raise Conflict("you have already approved this decision", code="four_eyes")
    roles = actor_roles(actor)
    missing = approvals_missing(decision)
    if kind is None:
        hr_needed = ApprovalKind.HUMAN_RIGHTS.value in missing
        if (
            hr_needed
            and StaffRole.HUMAN_RIGHTS_OFFICER in roles
            and (StaffRole.APPROVER not in roles or ApprovalKind.STANDARD.value not in missing)
        ):
            kind = ApprovalKind.HUMAN_RIGHTS
        else:
            kind = ApprovalKind.STANDARD
    if kind not in ApprovalKind.values:
        raise ValidationFailed.single("kind", f"must be one of {', '.join(ApprovalKind.values)}")
    if kind == ApprovalKind.HUMAN_RIGHTS and StaffRole.HUMAN_RIGHTS_OFFICER not in roles:
        raise PermissionDenied("this needs the human-rights officer role", code="role_required")
    if kind == ApprovalKind.STANDARD and StaffRole.APPROVER not in roles:
        raise PermissionDenied("this needs the approver role", code="role_required")
    if kind not in missing:
        raise Conflict(
            f"no {ApprovalKind(kind).label.lower()} is needed any more", code="not_needed"
        )
    slot = decision.approvals.filter(kind=kind).count() + 1
    try:
        with transaction.atomic():
            approval = Approval.objects.create(
                decision=decision,
                kind=kind,
                slot=slot,
                approver=actor.user,
                note=note.strip(),
                approved_at=now,
            )
    except IntegrityError:
        raise Conflict(
            "another approval was recorded at the same moment; reload and try again",
            code="four_eyes",
        ) from None
    audit_record(
        actor=actor,
        action="approval.given",
        object_type="legal_request",
        object_id=request.public_id,
        data={"decision": decision.pk, "approval": approval.pk, "kind": kind, "slot": slot},
        now=now,
    )
    if not approvals_missing(decision):
        request_transition(
            actor=actor,
            request=request,
            to_status=S.APPROVED,
            reason="All required approvals given",
            now=now,
        )
    return approval


@transaction.atomic
def request_close(
    *, actor: Actor, request: LegalRequest, reason: str, now: datetime
) -> LegalRequest:
    """Close an approved request once its disclosure has been delivered."""
    require_role(actor, StaffRole.REVIEWER)
    request = lock_request(request)
    _refuse_if_held(request, now)
    if request.status != S.APPROVED:
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()}; only an approved request "
            "is closed this way",
            code="illegal_transition",
        )
    return request_transition(
        actor=actor, request=request, to_status=S.CLOSED, reason=reason.strip() or "Closed", now=now
    )
