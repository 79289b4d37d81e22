"""What leaves the platform: productions (collected records in a sealed package), their
downloads, and deliveries made by other means.

A production implements one decision. For a disclosure it is collected from the platform's data
source, checked against the decision's scope, released by a reviewer and downloaded by the
agency (the first download is the delivery receipt). For a preservation request the same
machinery takes a sealed snapshot that is never released. The package bytes live outside the
database, encrypted; the signed manifest stays here after the bytes are purged.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ProductionPurpose(models.TextChoices):
    DISCLOSURE = "DISCLOSURE", "Disclosure to the agency"
    PRESERVATION = "PRESERVATION", "Preservation snapshot"


class ProductionStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting to be collected"
    COLLECTING = "COLLECTING", "Being collected"
    FAILED = "FAILED", "Collection failed (can be retried)"
    OUT_OF_SCOPE = "OUT_OF_SCOPE", "Refused: outside the approved scope"
    READY = "READY", "Collected and within scope"
    RELEASED = "RELEASED", "Released, awaiting download"
    DELIVERED = "DELIVERED", "Delivered"
    PURGED = "PURGED", "Package purged (manifest kept)"


# A decision has at most one production that is not purged: retries reuse it.
LIVE_STATUSES = [s for s in ProductionStatus.values if s != ProductionStatus.PURGED]


class Production(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.PROTECT, related_name="productions"
    )
    decision = models.ForeignKey(
        "review.Decision", on_delete=models.PROTECT, related_name="productions"
    )
    purpose = models.CharField(max_length=12, choices=ProductionPurpose.choices)
    status = models.CharField(max_length=12, choices=ProductionStatus.choices)
    source = models.CharField(max_length=100, blank=True, help_text="The data source used.")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the last collection failed.")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    # The signed manifest: every file with its SHA-256, size and record count, the decision it
    # implements and the audit-chain head at collection time.
    manifest = models.JSONField(null=True, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    manifest_signature = models.TextField(blank=True)
    signing_key_id = models.CharField(max_length=16, blank=True)
    scope_violations = models.JSONField(default=list, blank=True)
    accounts_found = models.PositiveIntegerField(default=0)
    accounts_missing = models.PositiveIntegerField(default=0)
    record_count = models.PositiveBigIntegerField(default=0)
    package_size = models.PositiveBigIntegerField(default=0)
    # The package key (AES-256-GCM), wrapped by a key derived from the configured secret.
    wrapped_key = models.TextField(blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    # A preservation snapshot is kept 90 days (expires_at), extended once by 90 more on the
    # agency's request; the officer is reminded 14 days before it expires.
    extended_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["decision"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="production_one_live_per_decision",
            ),
            models.CheckConstraint(
                condition=models.Q(purpose__in=ProductionPurpose.values),
                name="production_purpose_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ProductionStatus.values),
                name="production_status_valid",
            ),
            # Preservation snapshots are never released to anyone.
            models.CheckConstraint(
                condition=~models.Q(purpose=ProductionPurpose.PRESERVATION)
                | models.Q(released_at__isnull=True, delivered_at__isnull=True),
                name="production_snapshot_never_released",
            ),
            models.CheckConstraint(
                condition=models.Q(delivered_at__isnull=True) | models.Q(released_at__isnull=False),
                name="production_delivered_only_after_release",
            ),
            models.CheckConstraint(
                condition=models.Q(released_at__isnull=True)
                | (models.Q(expires_at__isnull=False) & ~models.Q(manifest_signature="")),
                name="production_released_signed_and_expiring",
            ),
        ]

    def __str__(self) -> str:
        return f"production {self.public_id} of {self.request_id}"


class PackageDownload(models.Model):
    """One download of a released package: who, when and from where."""

    production = models.ForeignKey(Production, on_delete=models.PROTECT, related_name="downloads")
    officer = models.ForeignKey("agencies.Officer", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8)  # API or PORTAL
    client_address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    downloaded_at = models.DateTimeField()

    class Meta:
        ordering = ["downloaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.production_id} by {self.officer_id} at {self.downloaded_at}"


class OtherDelivery(models.Model):
    """An approved disclosure delivered outside govreq (by hand, on a court's order...), with the
    evidence attached. The transparency report counts these apart from packages."""

    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.PROTECT, related_name="other_deliveries"
    )
    decision = models.OneToOneField(
        "review.Decision", on_delete=models.PROTECT, related_name="other_delivery"
    )
    reason = models.TextField()
    evidence = models.ForeignKey("intake.Document", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="other_delivery_reason"),
        ]

    def __str__(self) -> str:
        return f"delivered by other means: {self.request_id}"
