"""User notice: for every account whose data is disclosed, a record of telling its holder, and
why and until when it waits (a gag order, an emergency, a child-safety case). Gag orders can be
extended by the agency with a new order, reviewed by staff."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NoticeStatus(models.TextChoices):
    DUE = "DUE", "Due"
    DELAYED = "DELAYED", "Delayed"
    SENT = "SENT", "Sent"
    NOT_POSSIBLE = "NOT_POSSIBLE", "Not possible (no contact address)"


class DelayReason(models.TextChoices):
    GAG_ORDER = "GAG_ORDER", "Non-disclosure order in force"
    EMERGENCY = "EMERGENCY", "Emergency disclosure"
    CHILD_SAFETY = "CHILD_SAFETY", "Child-safety case"
    AGENCY_REQUEST = "AGENCY_REQUEST", "Asked by the agency, accepted by a reviewer"


class UserNotice(models.Model):
    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.PROTECT, related_name="user_notices"
    )
    production = models.ForeignKey(
        "disclosure.Production", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    account = models.CharField(max_length=200, help_text="The platform's account id.")
    status = models.CharField(max_length=12, choices=NoticeStatus.choices)
    delay_reason = models.CharField(max_length=16, choices=DelayReason.choices, blank=True)
    delayed_until = models.DateTimeField(
        null=True, blank=True, help_text="The notice is due from then (None: until lifted)."
    )
    language = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "delayed_until"])]
        constraints = [
            # Each account holder is told once per request: the notice's unique key.
            models.UniqueConstraint(fields=["request", "account"], name="notice_once_per_account"),
            models.CheckConstraint(
                condition=models.Q(status__in=NoticeStatus.values), name="notice_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=NoticeStatus.DELAYED) | ~models.Q(delay_reason=""),
                name="notice_delay_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status=NoticeStatus.SENT, sent_at__isnull=False)
                | (~models.Q(status=NoticeStatus.SENT) & models.Q(sent_at__isnull=True)),
                name="notice_sent_when_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"notice {self.request_id}:{self.account} {self.status}"


class NoticeEvent(models.Model):
    """The history of a notice: every change of status, when and why."""

    notice = models.ForeignKey(UserNotice, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    reason = models.TextField(blank=True)
    # The notice's own delay_reason changes when it is delayed again; the transparency report
    # counts delays by their reason as of a past date, so each delaying event keeps its own.
    delay_reason = models.CharField(
        max_length=16,
        choices=DelayReason.choices,
        blank=True,
        help_text="Why it waits, on an event that delays the notice (blank otherwise).",
    )
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(to_status=NoticeStatus.DELAYED) & ~models.Q(delay_reason=""))
                | (~models.Q(to_status=NoticeStatus.DELAYED) & models.Q(delay_reason="")),
                name="notice_event_delay_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}: {self.from_status or '-'} -> {self.to_status}"


class ExtensionStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting for review"
    ACCEPTED = "ACCEPTED", "Accepted"
    REFUSED = "REFUSED", "Refused"


class GagExtension(models.Model):
    """A new non-disclosure order the agency filed to extend the gag, with its document."""

    request = models.ForeignKey(
        "intake.LegalRequest", on_delete=models.PROTECT, related_name="gag_extensions"
    )
    document = models.ForeignKey("intake.Document", on_delete=models.PROTECT, related_name="+")
    new_expires_on = models.DateField()
    legal_basis = models.TextField(blank=True)
    filed_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=ExtensionStatus.choices)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ExtensionStatus.values),
                name="gag_extension_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"gag extension of {self.request_id} to {self.new_expires_on}"
