"""Published transparency reports: frozen, signed versions of a period's report."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Length


class PublishedReport(models.Model):
    """One published version of the report for one period. Never changed after it is written.

    ``body`` is the report exactly as computed (``counting.report_compute``); every page and
    export of a published period is drawn from it, never recomputed. The signature covers the
    SHA-256 of the body's canonical JSON and every other field below (``signing.statement``), so
    a changed number, date or author breaks ``govreq report verify``.
    """

    period = models.CharField(max_length=7, help_text='"2020-H2" or "2020".')
    version = models.PositiveIntegerField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField(help_text="Exclusive.")
    body = models.JSONField()
    body_sha256 = models.CharField(max_length=64)
    previous_sha256 = models.CharField(
        max_length=64, blank=True, help_text="The body hash of the version this one corrects."
    )
    changes = models.JSONField(
        default=list, blank=True, help_text="What changed since the previous version."
    )
    note = models.TextField(blank=True, help_text="Why this version was published.")
    audit_head_seq = models.PositiveBigIntegerField(
        help_text="The last audit event the report was computed from."
    )
    audit_head_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    public_key = models.CharField(max_length=44, help_text="Ed25519, base64 of the raw 32 bytes.")
    signature = models.CharField(max_length=88, help_text="Ed25519, base64.")
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["period_start", "period", "version"]
        indexes = [models.Index(fields=["period", "-version"])]
        constraints = [
            models.UniqueConstraint(fields=["period", "version"], name="report_version_unique"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="report_version_gte_1"),
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="report_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.lookups.Exact(Length("body_sha256"), 64),
                name="report_body_sha256_length",
            ),
            models.CheckConstraint(
                condition=models.Q(version=1, previous_sha256="")
                | (models.Q(version__gt=1) & ~models.Q(previous_sha256="")),
                name="report_correction_names_previous",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("a published report is immutable; publish a new version instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a published report is immutable; publish a new version instead")
