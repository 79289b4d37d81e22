"""The review area's own writes: checks, assignment, clarifications, decisions and approvals.

These record what review decides; they never change a request's status. The lifecycle
(``govreq.lifecycle.reviewing``) calls them inside its actions, which add the holds, the status
changes and the order of things. Each checks the actor's role first, then its own rules (four
eyes, a valid decision), then writes, with its audit event in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction

from govreq.accounts.models import StaffRole, User
from govreq.accounts.permissions import actor_roles, require_role
from govreq.agencies.models import AgencyContact
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from govreq.intake.models import FINAL_STATUSES, LegalRequest, RequestKind, RequestStatus
from govreq.intake.services import lock_request
from govreq.policy.selectors import policy_current
from govreq.review.checks import BLOCK, Finding, needs_human_rights_approval, run_checks, worst
from govreq.review.facts import request_facts
from govreq.review.letters import LetterFacts, letter_compose
from govreq.review.models import (
    DISCLOSING_OUTCOMES,
    Approval,
    ApprovalKind,
    AssessmentConclusion,
    CallBack,
    CallBackOutcome,
    CheckResult,
    CheckRun,
    CheckTrigger,
    Clarification,
    Decision,
    DecisionOutcome,
    HumanRightsAssessment,
    RejectionReason,
)

S = RequestStatus
STANDARD_APPROVALS_NEEDED = 2


# --- checks --------------------------------------------------------------------------------------


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
        CheckResult(
            run=run,
            code=f.code,
            outcome=f.outcome,
            message=f.message,
            details=f.details,
            said=[s.stored() for s in f.said],
        )
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


# --- rules ---------------------------------------------------------------------------------------


def refuse_if_blocked(request: LegalRequest, *, ignore: frozenset[str] = frozenset()) -> None:
    """No disclosing decision or approval while a check blocks (BLOCK outcomes)."""
    blocks = [f for f in latest_findings(request) if f.outcome == BLOCK and f.code not in ignore]
    if blocks:
        raise Conflict(
            f"{request.reference} cannot be disclosed while checks block it: "
            + "; ".join(f"{f.code}: {f.message}" for f in blocks),
            code="blocked_by_checks",
        )


def call_back_confirmed(request: LegalRequest) -> CallBack | None:
    """The call-back that confirms the request: the latest one that reached someone, if it
    said CONFIRMED."""
    latest = (
        CallBack.objects.filter(request=request)
        .exclude(outcome=CallBackOutcome.NO_ANSWER)
        .select_related("contact")
        .order_by("-called_at", "-id")
        .first()
    )
    return latest if latest is not None and latest.outcome == CallBackOutcome.CONFIRMED else None


def refuse_without_call_back(request: LegalRequest) -> None:
    """The second-level check: a request of a kind the policy names (emergencies) is approved
    only after the agency confirmed it on a call-back to a verified number."""
    _, policy = policy_current()
    if (
        request.kind in policy.trust.callback_required_kinds
        and call_back_confirmed(request) is None
    ):
        raise Conflict(
            f"{request.reference} is {RequestKind(request.kind).label.lower()}: before it can be "
            "approved, call the agency back on a number from its verified contacts and record "
            "that it confirms sending this request",
            code="callback_required",
        )


def call_back_record(
    *,
    actor: Actor,
    request: LegalRequest,
    contact: AgencyContact,
    called_at: datetime,
    outcome: str,
    now: datetime,
    person_reached: str = "",
    notes: str = "",
) -> CallBack:
    """Record a call-back on a verified contact of the request's agency (the lifecycle then
    checks the request again, and a NOT_CONFIRMED raises a fraud flag)."""
    require_role(actor, StaffRole.INTAKE, StaffRole.REVIEWER)
    if actor.user is None:
        raise PermissionDenied(
            "a call-back is recorded by the person who called", code="role_required"
        )
    errors: list[FieldError] = []
    if outcome not in CallBackOutcome.values:
        errors.append(
            FieldError(
                field="outcome", message=f"{outcome!r} is not one of {', '.join(CallBackOutcome)}"
            )
        )
    if called_at.tzinfo is None:
        errors.append(FieldError(field="called_at", message="needs a time zone"))
    elif called_at > now:
        errors.append(FieldError(field="called_at", message="lies in the future"))
    elif called_at < request.received_at.replace(second=0, microsecond=0):  # typed to the minute
        errors.append(FieldError(field="called_at", message="is before the request arrived"))
    if contact.agency_id != request.agency_id or contact.retired_at is not None:
        errors.append(
            FieldError(field="contact", message="is not a current verified contact of the agency")
        )
    if outcome == CallBackOutcome.CONFIRMED and not person_reached.strip():
        errors.append(
            FieldError(field="person_reached", message="say who at the agency confirmed it")
        )
    if errors:
        raise ValidationFailed(errors)
    if request.status in FINAL_STATUSES:
        raise Conflict(f"{request.reference} is closed", code="request_closed")
    if outcome == CallBackOutcome.CONFIRMED:
        # Four eyes on the second-level check: the number was verified by someone else, and a
        # "not confirmed" is not overturned by the person who recorded it.
        if contact.verified_by_id == actor.user.pk:
            raise Conflict(
                "you verified this number yourself: a colleague makes the call-back that "
                "confirms a request on it",
                code="four_eyes",
            )
        if CallBack.objects.filter(
            request=request, outcome=CallBackOutcome.NOT_CONFIRMED, called_by=actor.user
        ).exists():
            raise Conflict(
                "you recorded that the agency did not confirm this request: a colleague must "
                "make the call-back that confirms it",
                code="four_eyes",
            )
    call = CallBack.objects.create(
        request=request,
        contact=contact,
        phone=contact.phone,
        called_at=called_at,
        called_by=actor.user,
        person_reached=person_reached.strip(),
        outcome=outcome,
        notes=notes.strip(),
        recorded_at=now,
    )
    audit_record(
        actor=actor,
        action="request.called_back",
        object_type="legal_request",
        object_id=request.public_id,
        data={
            "call_back": call.pk,
            "contact": contact.pk,
            "phone": contact.phone,
            "directory": contact.directory,
            "called_at": called_at,
            "outcome": outcome,
            "person_reached": call.person_reached,
        },
        now=now,
    )
    return call


def current_decision(request: LegalRequest) -> Decision | None:
    return Decision.objects.filter(request=request, superseded_at__isnull=True).first()


# --- assignment and clarifications ---------------------------------------------------------------


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


def clarification_record(
    *, actor: Actor, request: LegalRequest, question: str, now: datetime
) -> Clarification:
    """Record a question to the agency (the lifecycle moves the request to NEEDS_CLARIFICATION)."""
    require_role(actor, StaffRole.REVIEWER)
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


def clarification_answer_record(
    *, actor: Actor, request: LegalRequest, clarification_id: int, answer: str, now: datetime
) -> Clarification:
    """Record the agency's answer to one of its own request's questions (the lifecycle then
    returns the request to review and runs its checks again)."""
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
    return clarification


# --- decisions and approvals ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DecisionDraft:
    """A decision as validated, before it is recorded."""

    outcome: str
    rationale: str
    rejection_reasons: list[str]
    approved_target_ids: list[int]
    approved_categories: list[str]
    approved_from: date | None
    approved_to: date | None
    letter: str

    @property
    def disclosing(self) -> bool:
        return self.outcome in DISCLOSING_OUTCOMES


def decision_validate(
    *,
    request: LegalRequest,
    outcome: str,
    rationale: str,
    rejection_reasons: list[str] | None = None,
    approved_target_ids: list[int] | None = None,
    approved_categories: list[str] | None = None,
    approved_from: date | None = None,
    approved_to: date | None = None,
    letter: str = "",
) -> DecisionDraft:
    """The decision's fields, checked against the request; ValidationFailed names each problem."""
    errors: list[FieldError] = []
    preservation = request.kind == RequestKind.PRESERVATION
    if outcome not in DecisionOutcome.values:
        errors.append(
            FieldError(
                field="outcome", message=f"must be one of {', '.join(DecisionOutcome.values)}"
            )
        )
    elif preservation and outcome not in (DecisionOutcome.PRESERVE, DecisionOutcome.REJECTED):
        errors.append(
            FieldError(
                field="outcome",
                message="a preservation request is decided PRESERVE or REJECTED: preserving "
                "discloses nothing",
            )
        )
    elif not preservation and outcome == DecisionOutcome.PRESERVE:
        errors.append(
            FieldError(field="outcome", message="PRESERVE is only for preservation requests")
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
        if (approved_from is None) != (approved_to is None):
            errors.append(
                FieldError(field="approved_range", message="give both the first and last day")
            )
        elif approved_from is not None and approved_to is not None:
            if request.data_from is None or request.data_to is None:
                errors.append(
                    FieldError(field="approved_range", message="the request names no date range")
                )
            elif not request.data_from <= approved_from <= approved_to <= request.data_to:
                errors.append(
                    FieldError(
                        field="approved_range",
                        message=f"must lie within the requested {request.data_from} to "
                        f"{request.data_to}, first day first",
                    )
                )
        narrowed_range = approved_from is not None and (
            approved_from != request.data_from or approved_to != request.data_to
        )
        if (
            set(target_ids) == requested_targets
            and set(categories) == set(request.data_categories)
            and not narrowed_range
        ):
            errors.append(FieldError(field="outcome", message="that is everything: decide FULL"))
    elif approved_target_ids or approved_categories:
        errors.append(FieldError(field="approved_target_ids", message="only for PARTIAL"))
    elif approved_from is not None or approved_to is not None:
        errors.append(FieldError(field="approved_range", message="only for PARTIAL"))
    if errors:
        raise ValidationFailed(errors)
    return DecisionDraft(
        outcome=outcome,
        rationale=rationale.strip(),
        rejection_reasons=reasons,
        approved_target_ids=target_ids,
        approved_categories=categories,
        approved_from=approved_from if outcome == DecisionOutcome.PARTIAL else None,
        approved_to=approved_to if outcome == DecisionOutcome.PARTIAL else None,
        letter=letter.strip(),
    )


def refuse_unless_escalated(request: LegalRequest) -> None:
    """A disclosure with a human-rights risk or under a hold exception is decided only after
    escalation to the human-rights officer."""
    if request.needs_human_rights_approval and request.status != S.ESCALATED:
        raise Conflict(
            f"{request.reference} carries a human-rights risk or a hold exception: escalate "
            "it to the human-rights officer before deciding to disclose",
            code="escalation_required",
        )


def decision_letter(request: LegalRequest, draft: DecisionDraft) -> str:
    """The reviewer's letter, or one composed from the policy's templates for the outcome."""
    if draft.letter:
        return draft.letter
    targets = list(request.targets.order_by("pk"))
    partial = draft.outcome == DecisionOutcome.PARTIAL
    produced = [t for t in targets if not partial or t.pk in draft.approved_target_ids]
    categories = draft.approved_categories if partial else list(request.data_categories)
    _, policy = policy_current()
    return letter_compose(
        policy.letters,
        LetterFacts(
            reference=request.reference,
            agency=request.agency.name,
            jurisdiction=request.jurisdiction_id,
            case_number=request.agency_case_number,
            received=request.received_at.date(),
            outcome=draft.outcome,
            rejection_reasons=draft.rejection_reasons,
            produced_accounts=[t.value for t in produced],
            produced_categories=categories,
            not_produced_accounts=[t.value for t in targets if t not in produced],
            not_produced_categories=sorted(set(request.data_categories) - set(categories)),
        ),
    )


def decision_record(
    *, actor: Actor, request: LegalRequest, draft: DecisionDraft, now: datetime
) -> Decision:
    """Record a validated decision (the lifecycle moves the request on)."""
    require_role(actor, StaffRole.REVIEWER)
    decision = Decision.objects.create(
        request=request,
        outcome=draft.outcome,
        rejection_reasons=draft.rejection_reasons,
        approved_target_ids=draft.approved_target_ids,
        approved_categories=draft.approved_categories,
        approved_from=draft.approved_from,
        approved_to=draft.approved_to,
        rationale=draft.rationale,
        letter=decision_letter(request, draft),
        requires_human_rights_approval=draft.disclosing
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
            "outcome": draft.outcome,
            "rejection_reasons": draft.rejection_reasons,
            "approved_target_ids": draft.approved_target_ids,
            "approved_categories": draft.approved_categories,
            "approved_range": [draft.approved_from, draft.approved_to]
            if draft.approved_from
            else None,
            "requires_human_rights_approval": decision.requires_human_rights_approval,
        },
        now=now,
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


def require_named_approver(actor: Actor) -> User:
    """Approvers and the human-rights officer approve in their own name, never as the system."""
    require_role(actor, StaffRole.APPROVER, StaffRole.HUMAN_RIGHTS_OFFICER)
    if actor.user is None:
        raise PermissionDenied(
            "approvals must be given by a named staff member", code="role_required"
        )
    return actor.user


def approval_record(
    *,
    actor: Actor,
    request: LegalRequest,
    decision: Decision,
    kind: str | None = None,
    note: str = "",
    assessment: Mapping[str, str] | None = None,
    now: datetime,
) -> Approval:
    """Record one approval of ``decision`` under the four-eyes rules: never by the decider,
    once per person, only the kinds still missing, each kind by its role.

    The human-rights officer's approval carries their structured ``assessment`` (risk found,
    standards applied, conclusion, conditions): refused without one, stored with it.

    The caller holds the request's row lock; the database's uniqueness constraints make a double
    approval impossible even without it.
    """
    approver = require_named_approver(actor)
    if decision.decided_by_id == approver.pk:
        raise Conflict("the person who decided cannot approve their own decision", code="four_eyes")
    if decision.approvals.filter(approver=approver).exists():
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
    assessed = assessment_validate(assessment) if kind == ApprovalKind.HUMAN_RIGHTS else None
    if assessed is None and assessment:
        raise ValidationFailed.single(
            "assessment", "only the human-rights officer's approval carries an assessment"
        )
    slot = decision.approvals.filter(kind=kind).count() + 1
    try:
        with transaction.atomic():
            approval = Approval.objects.create(
                decision=decision,
                kind=kind,
                slot=slot,
                approver=approver,
                note=note.strip(),
                approved_at=now,
            )
            if assessed is not None:
                HumanRightsAssessment.objects.create(approval=approval, **assessed)
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
        data={
            "decision": decision.pk,
            "approval": approval.pk,
            "kind": kind,
            "slot": slot,
            **({"assessment": assessed} if assessed else {}),
        },
        now=now,
    )
    return approval


ASSESSMENT_FIELDS = ("risk_found", "standards_applied", "conclusion", "conditions")


def assessment_validate(assessment: Mapping[str, str] | None) -> dict[str, str]:
    """The human-rights officer's assessment, complete: what risk they found, which standards
    they applied, their conclusion, and the conditions a mitigated risk depends on."""
    given = {k: str((assessment or {}).get(k) or "").strip() for k in ASSESSMENT_FIELDS}
    errors = [
        FieldError(field=f"assessment.{name}", message="required for the human-rights approval")
        for name in ("risk_found", "standards_applied", "conclusion")
        if not given[name]
    ]
    if given["conclusion"] and given["conclusion"] not in AssessmentConclusion.values:
        errors.append(
            FieldError(
                field="assessment.conclusion",
                message=f"must be one of {', '.join(AssessmentConclusion.values)}",
            )
        )
    if given["conclusion"] == AssessmentConclusion.RISK_MITIGATED and not given["conditions"]:
        errors.append(
            FieldError(
                field="assessment.conditions",
                message="a risk accepted under conditions needs the conditions",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return given
