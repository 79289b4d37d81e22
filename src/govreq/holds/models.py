"""Jurisdiction holds: a pause on disclosures to one jurisdiction (the Hong Kong pause)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
    allow_emergency = models.BooleanField(default=False)
    allow_offences = models.JSONField(default=list, blank=True)
    effective_from = models.DateTimeField()
    effective_to = models.DateTimeField(null=True, blank=True, help_text="Exclusive.")
    reason = models.TextField(help_text="The public reason, shown in transparency reports.")
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
        ]

    def __str__(self) -> str:
        return f"hold #{self.pk} on {self.jurisdiction_id} from {self.effective_from:%Y-%m-%d}"


class HoldReReview(models.Model):
    """A request approved after a retroactive hold's start: it must be reviewed again."""

    hold = models.ForeignKey(JurisdictionHold, on_delete=models.CASCADE, related_name="re_reviews")
    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.CASCADE, related_name="hold_re_reviews"
    )
    approved_at = models.DateTimeField()
    flagged_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hold", "request"], name="hold_re_review_unique"),
        ]

    def __str__(self) -> str:
        return f"re-review {self.request_id} under hold {self.hold_id}"
