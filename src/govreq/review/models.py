"""Check results, clarifications, decisions and approvals: the review record of a request."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CheckOutcome(models.TextChoices):
    PASS = "PASS", "Pass"
    INFO = "INFO", "Information"
    WARN = "WARN", "Warning"
    BLOCK = "BLOCK", "Blocks disclosure"


class CheckTrigger(models.TextChoices):
    INTAKE = "INTAKE", "Request received"
    DOCUMENT_ADDED = "DOCUMENT_ADDED", "Document added"
    HOLD_PLACED = "HOLD_PLACED", "Hold placed"
    HOLD_LIFTED = "HOLD_LIFTED", "Hold lifted"
    POLICY_CHANGED = "POLICY_CHANGED", "Policy changed"
    CLARIFICATION_ANSWERED = "CLARIFICATION_ANSWERED", "Clarification answered"
    MANUAL = "MANUAL", "Run by staff"
    DECISION = "DECISION", "Before a decision or approval"
    AGENCY_CHANGED = "AGENCY_CHANGED", "Agency verified or suspended"
    CALL_BACK = "CALL_BACK", "Call-back recorded"
    DOCUMENT_READ = "DOCUMENT_READ", "Document text read"


class CheckRun(models.Model):
    """One run of every legitimacy check on one request, under one policy version."""

    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.CASCADE, related_name="check_runs"
    )
    policy_version = models.ForeignKey(
        "policy.PolicyVersion", on_delete=models.PROTECT, related_name="+"
    )
    trigger = models.CharField(max_length=24, choices=CheckTrigger.choices)
    ran_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["request", "-id"])]

    def __str__(self) -> str:
        return f"checks on {self.request_id} ({self.trigger})"


class CheckResult(models.Model):
    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    code = models.CharField(max_length=32)
    outcome = models.CharField(max_length=5, choices=CheckOutcome.choices)
    message = models.TextField()  # in English
    details = models.JSONField(default=dict)
    # The message as sentences, [[template, values], ...], for the reader's language
    # (review.wording); empty for results stored before it was kept.
    said = models.JSONField(default=list)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "code"], name="check_result_once_per_run"),
            models.CheckConstraint(
                condition=models.Q(outcome__in=CheckOutcome.values), name="check_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.outcome}"


class Clarification(models.Model):
    """A question (push-back letter) to the agency, and its answer."""

    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.CASCADE, related_name="clarifications"
    )
    question = models.TextField()
    asked_at = models.DateTimeField()
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        "agencies.Officer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(question=""), name="clarification_asks"),
            models.CheckConstraint(
                condition=models.Q(answered_at__isnull=True, answer="")
                | (models.Q(answered_at__isnull=False) & ~models.Q(answer="")),
                name="clarification_answer_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"clarification {self.pk} on {self.request_id}"


class DecisionOutcome(models.TextChoices):
    FULL = "FULL", "Disclose in full"
    PARTIAL = "PARTIAL", "Disclose in part"
    REJECTED = "REJECTED", "Reject"
    NO_DATA = "NO_DATA", "No data found"
    PRESERVE = "PRESERVE", "Preserve (disclose nothing)"


class RejectionReason(models.TextChoices):
    INVALID_PROCESS = "INVALID_PROCESS", "Invalid or insufficient legal process"
    OVERBROAD = "OVERBROAD", "Overbroad"
    JURISDICTION_HOLD = "JURISDICTION_HOLD", "Jurisdiction hold"
    HUMAN_RIGHTS = "HUMAN_RIGHTS", "Human-rights concerns"
    NO_SUCH_ACCOUNT = "NO_SUCH_ACCOUNT", "No such account"
    OTHER = "OTHER", "Other"


DISCLOSING_OUTCOMES = (DecisionOutcome.FULL, DecisionOutcome.PARTIAL)


class Decision(models.Model):
    """A reviewer's decision. FULL and PARTIAL need two approvals by two other staff members
    (and a human-rights officer's approval when ``requires_human_rights_approval``)."""

    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.CASCADE, related_name="decisions"
    )
    outcome = models.CharField(max_length=8, choices=DecisionOutcome.choices)
    rejection_reasons = models.JSONField(default=list, blank=True)
    approved_target_ids = models.JSONField(default=list, blank=True)
    approved_categories = models.JSONField(default=list, blank=True)
    # PARTIAL may narrow the requested date range too (inclusive dates, as requested).
    approved_from = models.DateField(null=True, blank=True)
    approved_to = models.DateField(null=True, blank=True)
    rationale = models.TextField()
    letter = models.TextField(blank=True, help_text="The letter to the agency, if any.")
    requires_human_rights_approval = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(superseded_at__isnull=True),
                name="decision_one_current_per_request",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=DecisionOutcome.values),
                name="decision_outcome_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome=DecisionOutcome.REJECTED)
                | ~models.Q(rejection_reasons=[]),
                name="decision_rejection_has_reasons",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome=DecisionOutcome.PARTIAL)
                | (~models.Q(approved_target_ids=[]) & ~models.Q(approved_categories=[])),
                name="decision_partial_says_what",
            ),
            models.CheckConstraint(
                condition=~models.Q(rationale=""), name="decision_has_rationale"
            ),
            models.CheckConstraint(
                condition=models.Q(approved_from__isnull=True, approved_to__isnull=True)
                | models.Q(
                    outcome=DecisionOutcome.PARTIAL,
                    approved_from__isnull=False,
                    approved_to__isnull=False,
                    approved_from__lte=models.F("approved_to"),
                ),
                name="decision_approved_range_partial_and_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} on {self.request_id}"


class ApprovalKind(models.TextChoices):
    STANDARD = "STANDARD", "Approval"
    HUMAN_RIGHTS = "HUMAN_RIGHTS", "Human-rights officer's approval"


class Approval(models.Model):
    """One of the approvals a disclosing decision needs.

    ``slot`` numbers approvals of a kind (1 and 2 for STANDARD, 1 for HUMAN_RIGHTS): with the
    uniqueness constraints, two approvers acting at the same instant produce two distinct
    approvals or one refusal, never a third or a double.
    """

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="approvals")
    kind = models.CharField(max_length=12, choices=ApprovalKind.choices)
    slot = models.PositiveSmallIntegerField()
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    approved_at = models.DateTimeField()

    class Meta:
        ordering = ["approved_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "approver"], name="approval_one_per_person"
            ),
            models.UniqueConstraint(
                fields=["decision", "kind", "slot"], name="approval_slot_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(kind=ApprovalKind.STANDARD, slot__in=[1, 2])
                | models.Q(kind=ApprovalKind.HUMAN_RIGHTS, slot=1),
                name="approval_slot_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.slot} on decision {self.decision_id}"


class AssessmentConclusion(models.TextChoices):
    NO_SIGNIFICANT_RISK = "NO_SIGNIFICANT_RISK", "No significant human-rights risk"
    RISK_MITIGATED = "RISK_MITIGATED", "Risk acceptable under the conditions stated"


class HumanRightsAssessment(models.Model):
    """The human-rights officer's reasoning behind their approval, kept with it and shown to
    later reviewers: the risk found, the standards applied, the conclusion and any conditions.
    Every human-rights approval has one (review.services.approval_record refuses one without)."""

    approval = models.OneToOneField(Approval, on_delete=models.CASCADE, related_name="assessment")
    risk_found = models.TextField()
    standards_applied = models.TextField()
    conclusion = models.CharField(max_length=24, choices=AssessmentConclusion.choices)
    conditions = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(conclusion="RISK_MITIGATED", conditions=""),
                name="assessment_mitigation_has_conditions",
            ),
        ]

    def __str__(self) -> str:
        return f"assessment of approval {self.approval_id}"


class AlertKind(models.TextChoices):
    DUE_SOON = "DUE_SOON", "Answer due soon (or overdue)"
    EMERGENCY_UNTAKEN = "EMERGENCY_UNTAKEN", "Emergency nobody has taken"


class DeadlineAlert(models.Model):
    """Staff were reminded that a request's answer is due: once per request and kind (the row
    is the claim, so two workers never both send it)."""

    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.CASCADE, related_name="deadline_alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    recipients = models.JSONField(default=list, help_text="The staff e-mail addresses told.")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "kind"], name="deadline_alert_once"),
            models.CheckConstraint(
                condition=models.Q(kind__in=AlertKind.values), name="deadline_alert_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.request_id}"


class CallBackOutcome(models.TextChoices):
    CONFIRMED = "CONFIRMED", "Confirmed: the agency sent this request"
    NOT_CONFIRMED = "NOT_CONFIRMED", "Not confirmed: the agency knows nothing of it"
    NO_ANSWER = "NO_ANSWER", "No answer"


class CallBack(models.Model):
    """The second-level check of an emergency: a staff member called the agency on a number
    from its verified contacts (never one from the request) and asked whether it sent this."""

    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.CASCADE, related_name="call_backs"
    )
    contact = models.ForeignKey(
        "agencies.AgencyContact", on_delete=models.PROTECT, related_name="call_backs"
    )
    phone = models.CharField(max_length=40, help_text="The number dialled, as verified then.")
    called_at = models.DateTimeField()
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    person_reached = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=14, choices=CallBackOutcome.choices)
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-called_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=CallBackOutcome.values),
                name="call_back_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"call-back {self.outcome} for {self.request_id}"


class FollowUpObligation(models.Model):
    """An emergency disclosure obliges the agency to send formal legal process in time."""

    emergency = models.OneToOneField(
        "intake.LegalRequest", on_delete=models.CASCADE, related_name="follow_up_obligation"
    )
    due_at = models.DateTimeField()
    fulfilled_by = models.ForeignKey(
        "intake.LegalRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fulfils_obligations",
    )
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    missed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["fulfilled_at", "missed_at", "due_at"])]

    def __str__(self) -> str:
        return f"follow-up of {self.emergency_id} due {self.due_at:%Y-%m-%d}"


class AgencyConfidence(models.Model):
    """The agency's confidence score as last computed (``review.confidence``), kept so the queue
    can sort by it; the case page and the API compute it afresh with its reasons."""

    agency = models.OneToOneField(
        "agencies.Agency", on_delete=models.CASCADE, related_name="confidence"
    )
    score = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=6)
    reasons = models.JSONField(default=list)
    reverify_due = models.DateTimeField(null=True, blank=True)
    reverify_overdue = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["score"])]

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.score} ({self.level})"
