"""Legal requests as received: what was asked, by whom, under which process, for which accounts."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class RequestKind(models.TextChoices):
    SUBPOENA = "SUBPOENA", "Subpoena"
    COURT_ORDER = "COURT_ORDER", "Court order"
    SEARCH_WARRANT = "SEARCH_WARRANT", "Search warrant"
    EMERGENCY = "EMERGENCY", "Emergency disclosure request"
    PRESERVATION = "PRESERVATION", "Preservation request"
    MLAT = "MLAT", "MLAT / letters rogatory"
    OTHER = "OTHER", "Other"


class OffenceCategory(models.TextChoices):
    CHILD_SAFETY = "CHILD_SAFETY", "Child safety"
    TERRORISM = "TERRORISM", "Terrorism"
    VIOLENT_CRIME = "VIOLENT_CRIME", "Violent crime"
    HUMAN_TRAFFICKING = "HUMAN_TRAFFICKING", "Human trafficking"
    FRAUD = "FRAUD", "Fraud"
    CYBERCRIME = "CYBERCRIME", "Cybercrime"
    NATIONAL_SECURITY = "NATIONAL_SECURITY", "National security"
    PUBLIC_ORDER = "PUBLIC_ORDER", "Public order"
    DEFAMATION = "DEFAMATION", "Defamation"
    OTHER = "OTHER", "Other"


class DataCategory(models.TextChoices):
    BASIC_SUBSCRIBER = "BASIC_SUBSCRIBER", "Basic subscriber information"
    IP_LOGS = "IP_LOGS", "IP address logs"
    TRANSACTIONAL = "TRANSACTIONAL", "Transactional (non-content) records"
    CONTENT = "CONTENT", "Stored content"
    LOCATION = "LOCATION", "Location history"


class RequestStatus(models.TextChoices):
    RECEIVED = "RECEIVED", "Received"
    IN_REVIEW = "IN_REVIEW", "In review"
    NEEDS_CLARIFICATION = "NEEDS_CLARIFICATION", "Needs clarification"
    ESCALATED = "ESCALATED", "Escalated to human-rights review"
    DECIDED = "DECIDED", "Decided, awaiting approval"
    APPROVED = "APPROVED", "Approved"
    PRODUCED = "PRODUCED", "Produced, awaiting download"
    DELIVERED = "DELIVERED", "Delivered"
    PRESERVED = "PRESERVED", "Preserved"
    CLOSED = "CLOSED", "Closed"
    ON_HOLD = "ON_HOLD", "On hold"
    WITHDRAWN = "WITHDRAWN", "Withdrawn"
    REJECTED = "REJECTED", "Rejected"


# CLOSED, WITHDRAWN and REJECTED end a request; the lifecycle's transition table says how.
FINAL_STATUSES = frozenset({RequestStatus.CLOSED, RequestStatus.WITHDRAWN, RequestStatus.REJECTED})
OPEN_STATUSES = frozenset(RequestStatus) - FINAL_STATUSES


class Channel(models.TextChoices):
    API = "API", "API"
    PORTAL = "PORTAL", "Agency portal"
    STAFF = "STAFF", "Keyed in by staff"


class TargetType(models.TextChoices):
    USERNAME = "USERNAME", "Username"
    USER_ID = "USER_ID", "User id"
    EMAIL = "EMAIL", "E-mail address"
    PHONE = "PHONE", "Phone number"
    IP_ADDRESS = "IP_ADDRESS", "IP address"
    URL = "URL", "URL"


class LegalRequest(models.Model):
    """One request for user data from one agency, under one legal process."""

    # Not a field: True on the instance ``selectors.request_detail_of_new`` returns to the
    # submission that created it (it has no decision, production or document yet).
    just_submitted = False

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True)
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="legal_requests"
    )
    officer = models.ForeignKey(
        "agencies.Officer", on_delete=models.PROTECT, related_name="legal_requests"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The staff member who keyed in a request that arrived by post or e-mail.",
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", on_delete=models.PROTECT, related_name="legal_requests"
    )
    received_at = models.DateTimeField()
    created_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    legal_basis = models.TextField(blank=True)
    issuing_authority = models.CharField(max_length=300, blank=True)
    agency_case_number = models.CharField(max_length=100, blank=True)
    offence_category = models.CharField(max_length=20, choices=OffenceCategory.choices)
    narrative = models.TextField()
    data_categories = models.JSONField(help_text="Sorted list of DataCategory values.")
    data_from = models.DateField(null=True, blank=True)
    data_to = models.DateField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    respond_by = models.DateTimeField(
        help_text="The platform's response target, set on receipt from the policy's deadlines "
        "(review.deadlines)."
    )
    gag_order = models.BooleanField(default=False)
    gag_legal_basis = models.TextField(blank=True)
    gag_expires_on = models.DateField(null=True, blank=True)
    emergency_danger = models.TextField(blank=True)
    emergency_why_now = models.TextField(blank=True)
    # A follow-up to a preservation request of the same agency: its production is collected from
    # that preservation's sealed snapshot.
    preservation = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    status_before_hold = models.CharField(
        max_length=20, choices=RequestStatus.choices, blank=True, default=""
    )
    updated_at = models.DateTimeField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_requests",
    )
    # Summary of the latest check run (review.CheckRun), kept here for the queue.
    check_outcome = models.CharField(max_length=5, blank=True)
    needs_human_rights_approval = models.BooleanField(default=False)
    # How many accounts it names, stored with the request at intake (targets never change
    # afterwards) so lists need not count them row by row.
    target_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        # Each list's order and filters (keyset pagination, core.keyset): the agency's list
        # newest first; the queue by status, emergencies first, then response target; the
        # transparency report's look-ups by received_at.
        indexes = [
            models.Index(fields=["agency", "-received_at", "-id"]),
            models.Index(fields=["jurisdiction", "received_at"]),
            models.Index(fields=["status", "deadline_at"]),
            models.Index(
                fields=["status", "respond_by", "received_at", "id"], name="request_queue_idx"
            ),
            models.Index(
                fields=["status", "kind", "respond_by", "received_at", "id"],
                name="request_queue_kind_idx",
            ),
            models.Index(fields=["received_at", "id"], name="request_received_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=RequestKind.values), name="request_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(offence_category__in=OffenceCategory.values),
                name="request_offence_category_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RequestStatus.values), name="request_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values), name="request_channel_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status=RequestStatus.ON_HOLD)
                    & models.Q(status_before_hold__in=RequestStatus.values)
                    & ~models.Q(status_before_hold=RequestStatus.ON_HOLD)
                )
                | (~models.Q(status=RequestStatus.ON_HOLD) & models.Q(status_before_hold="")),
                name="request_on_hold_remembers_previous_status",
            ),
            models.CheckConstraint(
                condition=models.Q(data_from__isnull=True, data_to__isnull=True)
                | models.Q(
                    data_from__isnull=False,
                    data_to__isnull=False,
                    data_from__lte=models.F("data_to"),
                ),
                name="request_data_range_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(gag_order=True, gag_expires_on__isnull=False)
                | models.Q(gag_order=False, gag_expires_on__isnull=True, gag_legal_basis=""),
                name="request_gag_order_consistent",
            ),
            models.CheckConstraint(
                condition=~models.Q(data_categories=[]), name="request_has_data_categories"
            ),
            models.CheckConstraint(condition=~models.Q(narrative=""), name="request_has_narrative"),
        ]

    def __str__(self) -> str:
        return self.reference


class TargetMatch(models.TextChoices):
    """What the platform's records say of a target, when a reviewer last looked it up."""

    ONE = "ONE", "Matches one account"
    NONE = "NONE", "No such account"
    SEVERAL = "SEVERAL", "Several accounts match"
    UNKNOWN = "UNKNOWN", "The data source cannot look this up"


class Target(models.Model):
    """One account identifier named in a request, normalised.

    "Accounts specified" in transparency reports are counted from these rows.
    """

    request = models.ForeignKey(LegalRequest, on_delete=models.CASCADE, related_name="targets")
    type = models.CharField(max_length=12, choices=TargetType.choices)
    value = models.CharField(max_length=500)
    raw_value = models.CharField(max_length=500)
    # The last look-up in the data source (lifecycle.matching): blank until one is made. Only
    # whether an account matches is kept, never the account itself.
    # (db_default: bulk writers such as ``govreq synthetic`` name only the columns they fill)
    match = models.CharField(
        max_length=8, choices=TargetMatch.choices, blank=True, default="", db_default=""
    )
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["type", "value"])]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "type", "value"], name="target_unique_in_request"
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=TargetType.values), name="target_type_valid"
            ),
            models.CheckConstraint(condition=~models.Q(value=""), name="target_value_not_empty"),
            models.CheckConstraint(
                condition=models.Q(match="") | models.Q(match__in=TargetMatch.values),
                name="target_match_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class Document(models.Model):
    """A legal document (warrant, subpoena...) stored on disk, content-addressed by SHA-256."""

    request = models.ForeignKey(LegalRequest, on_delete=models.PROTECT, related_name="documents")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=40)
    original_name = models.CharField(max_length=255)
    uploaded_at = models.DateTimeField()
    uploaded_by_officer = models.ForeignKey(
        "agencies.Officer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "sha256"], name="document_unique_in_request"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    media_type__in=[
                        "application/pdf",
                        "image/png",
                        "image/jpeg",
                        "image/tiff",
                        "text/plain",
                    ]
                ),
                name="document_media_type_allowed",
            ),
            models.CheckConstraint(
                condition=models.Q(size_bytes__gt=0, size_bytes__lte=25 * 1024 * 1024),
                name="document_size_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.media_type})"


class ReadingMethod(models.TextChoices):
    PDF = "PDF", "PDF text layer"
    OCR = "OCR", "Optical character recognition"
    PLAIN = "PLAIN", "Plain text"
    NONE = "NONE", "No readable text"


class DocumentText(models.Model):
    """The text read from a legal document (``intake.reading``), kept beside it for reviewers
    and for the DOCUMENT_MISMATCH check. One per document; reading it again replaces it."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="text")
    method = models.CharField(max_length=8, choices=ReadingMethod.choices)
    text = models.TextField(blank=True)
    pages = models.PositiveIntegerField(default=0)
    truncated = models.BooleanField(default=False)
    failed = models.BooleanField(
        default=False, help_text="The document could not be read (broken, too large, too slow)."
    )
    note = models.TextField(blank=True, help_text="Why there is no text, or what was left out.")
    extracted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(method__in=ReadingMethod.values),
                name="document_text_method_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(method="NONE") | models.Q(text=""),
                name="document_text_none_has_no_text",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}: {self.method}, {len(self.text)} characters"


class StatusChange(models.Model):
    """The history of a request's status: every change, by whom, when and why."""

    request = models.ForeignKey(
        LegalRequest, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor_kind = models.CharField(max_length=10)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    reason = models.TextField(blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_at", "id"]
        # The request's history in order, and the report's "status as of" look-ups: the status
        # is in the index, so they never read the table (a report at 1,000,000 requests took a
        # tenth less time on SQLite; scripts/bench_report.py).
        indexes = [
            models.Index(
                fields=["request", "occurred_at", "id", "to_status"],
                name="status_change_as_of_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(to_status__in=RequestStatus.values),
                name="status_change_to_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_status=models.F("to_status")),
                name="status_change_changes_something",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status or '-'} -> {self.to_status}"


class IdempotencyKey(models.Model):
    """Remembers a submission by its Idempotency-Key so a retried POST creates nothing new."""

    officer = models.ForeignKey("agencies.Officer", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    body_sha256 = models.CharField(max_length=64)
    request = models.ForeignKey(LegalRequest, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["officer", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.officer_id}:{self.key}"


class ReferenceCounter(models.Model):
    """The last reference number handed out per year (GR-2020-000123)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"
