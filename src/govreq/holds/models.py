"""Jurisdiction holds: a pause on disclosures to one jurisdiction (the Hong Kong pause)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JurisdictionHold(models.Model):
    """While in force (``effective_from`` <= t < ``effective_to``, not lifted), requests in scope
    are ON_HOLD: no decision, approval or disclosure, for anyone. An empty scope list means
    "all"; ``allow_*`` lets listed requests proceed with a human-rights officer's approval."""

    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", on_delete=models.PROTECT, related_name="holds"
    )
    scope_kinds = models.JSONField(default=list, blank=True)
    scope_offences = models.JSONField(default=list, blank=True)
    scope_agencies = models.JSONField(default=list, blank=True, help_text="Agency ids.")
    scope_legal_basis = models.CharField(
        max_length=200, blank=True, help_text="Only requests whose cited legal basis contains this."
    )
    received_from_start = models.BooleanField(
        default=False,
        help_text="Only requests received at or after effective_from (the law's own moment).",
    )
    allow_emergency = models.BooleanField(default=False)
    allow_offences = models.JSONField(default=list, blank=True)
    effective_from = models.DateTimeField()
    effective_to = models.DateTimeField(null=True, blank=True, help_text="Exclusive.")
    reason = models.TextField(help_text="The public reason, shown in transparency reports.")
    reason_zh_hant = models.TextField(
        blank=True, help_text="The public reason in Traditional Chinese (optional)."
    )
    review_notes = models.TextField(blank=True, help_text="The human-rights due-diligence record.")
    created_at = models.DateTimeField()
    # When the hold's start was applied to the open requests it covers: at placement when it is
    # already in force, otherwise by the worker when its moment comes (lifecycle.holding).
    applied_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_reason = models.TextField(blank=True)
    # A second policy admin confirmed the placement (HoldChange); empty for holds recorded
    # before holds needed four eyes.
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Placed by mistake: voided holds stay on record (and in the audit trail) but count nowhere.
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-effective_from", "-id"]
        indexes = [models.Index(fields=["jurisdiction", "effective_from"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gt=models.F("effective_from")),
                name="hold_period_ordered",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="hold_has_reason"),
            models.CheckConstraint(
                condition=models.Q(lifted_at__isnull=True)
                | (models.Q(effective_to__isnull=False) & ~models.Q(lift_reason="")),
                name="hold_lift_is_recorded",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True) | ~models.Q(void_reason=""),
                name="hold_void_is_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"hold #{self.pk} on {self.jurisdiction_id} from {self.effective_from:%Y-%m-%d}"


class ReReviewResolution(models.TextChoices):
    CONFIRMED = "CONFIRMED", _("Approval confirmed")
    RETURNED = "RETURNED", _("Returned to review")
    VOIDED = "VOIDED", _("Hold voided")


class HoldReReview(models.Model):
    """A request approved after a retroactive hold's start: it must be reviewed again. Until a
    reviewer resolves the flag nothing is delivered or closed (``lifecycle.guards``)."""

    hold = models.ForeignKey(JurisdictionHold, on_delete=models.CASCADE, related_name="re_reviews")
    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.CASCADE, related_name="hold_re_reviews"
    )
    approved_at = models.DateTimeField()
    flagged_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=10, choices=ReReviewResolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hold", "request"], name="hold_re_review_unique"),
            models.CheckConstraint(
                condition=(models.Q(resolved_at__isnull=True) & models.Q(resolution=""))
                | (models.Q(resolved_at__isnull=False) & ~models.Q(resolution="")),
                name="hold_re_review_resolution_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"re-review {self.request_id} under hold {self.hold_id}"


class HoldChangeKind(models.TextChoices):
    PLACE = "PLACE", _("Place a hold")
    LIFT = "LIFT", _("Lift a hold")
    VOID = "VOID", _("Void a hold")


class HoldChangeState(models.TextChoices):
    PENDING = "PENDING", _("Waiting for a second policy admin")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    CANCELLED = "CANCELLED", _("Cancelled")


class HoldChange(models.Model):
    """A hold placed, lifted or voided with four eyes: one policy admin proposes (with a preview
    of what it would do), a different one confirms, and only then does it happen."""

    kind = models.CharField(max_length=5, choices=HoldChangeKind.choices)
    state = models.CharField(
        max_length=9, choices=HoldChangeState.choices, default=HoldChangeState.PENDING
    )
    hold = models.ForeignKey(
        JurisdictionHold, null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    terms = models.JSONField(default=dict, blank=True, help_text="PLACE: the hold's terms.")
    reason = models.TextField(blank=True, help_text="LIFT and VOID: why.")
    preview = models.JSONField(default=dict, blank=True, help_text="What it would do, proposed.")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="PLACE") | models.Q(hold__isnull=False),
                name="hold_change_names_its_hold",
            ),
            models.UniqueConstraint(
                fields=["hold"],
                condition=models.Q(state="PENDING") & ~models.Q(kind="PLACE"),
                name="hold_change_one_pending_per_hold",
            ),
        ]

    def __str__(self) -> str:
        return f"hold change #{self.pk} {self.kind} {self.state}"
