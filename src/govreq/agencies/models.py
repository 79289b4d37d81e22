"""Requesting agencies, their official e-mail domains and their officers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class AgencyKind(models.TextChoices):
    POLICE = "POLICE", "Police"
    PROSECUTOR = "PROSECUTOR", "Prosecutor"
    COURT = "COURT", "Court"
    REGULATOR = "REGULATOR", "Regulator"
    INTELLIGENCE = "INTELLIGENCE", "Intelligence service"
    OTHER = "OTHER", "Other"


class AgencyStatus(models.TextChoices):
    PENDING = "PENDING", "Pending verification"
    VERIFIED = "VERIFIED", "Verified"
    SUSPENDED = "SUSPENDED", "Suspended"


class Agency(models.Model):
    name = models.CharField(max_length=200)
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", on_delete=models.PROTECT, related_name="agencies"
    )
    kind = models.CharField(max_length=16, choices=AgencyKind.choices)
    status = models.CharField(
        max_length=12, choices=AgencyStatus.choices, default=AgencyStatus.PENDING
    )
    allow_subdomains = models.BooleanField(
        default=False, help_text="Officers may use addresses at subdomains of the official domains."
    )
    created_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verification_method = models.TextField(
        blank=True, help_text="How the agency was verified, e.g. a call-back to a listed number."
    )
    require_officer_totp = models.BooleanField(
        default=False,
        help_text="Officers also confirm each sign-in with an authenticator app (TOTP).",
    )

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["jurisdiction_id", "name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "jurisdiction", name="agency_name_unique_in_jurisdiction"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=AgencyKind.values), name="agency_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AgencyStatus.values), name="agency_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=AgencyStatus.VERIFIED)
                | models.Q(verified_at__isnull=False),
                name="agency_verified_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.jurisdiction_id})"


class AgencyDomain(models.Model):
    """An official e-mail domain of an agency. A domain belongs to one agency only."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)
    # Set when the domain looks like another verified agency's (agencies.lookalike) and staff
    # added it anyway: why they know it is genuine. Officers at it need no further override.
    lookalike_override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(domain=Lower("domain")), name="agency_domain_is_lower_case"
            ),
        ]

    def __str__(self) -> str:
        return self.domain


class OfficerStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    SUSPENDED = "SUSPENDED", "Suspended"


class Officer(models.Model):
    """A person at an agency who may submit requests and follow them."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="officers")
    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    badge_number = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=12, choices=OfficerStatus.choices, default=OfficerStatus.ACTIVE
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="officer_email_is_lower_case"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=OfficerStatus.values), name="officer_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class AccessRequestStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    APPROVED = "APPROVED", "Approved"
    REFUSED = "REFUSED", "Refused"


class AccessRequest(models.Model):
    """An officer of an agency govreq does not know yet asks for portal access.

    Staff verify the agency independently (never through contact details given here) before the
    officer can submit anything.
    """

    name = models.CharField(max_length=200)
    email = models.EmailField()
    badge_number = models.CharField(max_length=64, blank=True)
    agency_name = models.CharField(max_length=200)
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", on_delete=models.PROTECT, related_name="+"
    )
    agency_kind = models.CharField(max_length=16, choices=AgencyKind.choices)
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING
    )
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    officer = models.ForeignKey(
        Officer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Verified agencies whose domains this request's address imitates (agencies.lookalike),
    # found when it arrived: [{"agency": id, "name": ..., "domain": ..., "why": ...}].
    lookalikes = models.JSONField(default=list, blank=True)
    lookalike_override_reason = models.TextField(
        blank=True, help_text="Why access was granted although the domain looks like another's."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="access_request_email_lower"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AccessRequestStatus.values),
                name="access_request_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} for {self.agency_name}"


class ContactKind(models.TextChoices):
    SWITCHBOARD = "SWITCHBOARD", "Switchboard"
    DUTY_OFFICE = "DUTY_OFFICE", "Duty office (24 hours)"
    LIAISON = "LIAISON", "Liaison unit"


class AgencyContact(models.Model):
    """A number staff may call to check that a request really comes from the agency.

    It comes from an official directory found independently (a government's published
    directory, a treaty partner's list), never from a request or its e-mail; who verified it
    and when is recorded. A call-back is made only to one of these (``review.CallBack``)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="contacts")
    kind = models.CharField(max_length=12, choices=ContactKind.choices)
    label = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, help_text="E.164, e.g. +85228600000.")
    directory = models.CharField(
        max_length=300, help_text="The official directory the number was taken from."
    )
    directory_url = models.URLField(blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agency_id", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ContactKind.values), name="agency_contact_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(directory=""), name="agency_contact_has_directory"
            ),
            models.UniqueConstraint(
                fields=["agency", "phone"],
                condition=models.Q(retired_at__isnull=True),
                name="agency_contact_phone_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.phone} of {self.agency_id}"


class FraudFlagKind(models.TextChoices):
    CALLBACK_NOT_CONFIRMED = "CALLBACK_NOT_CONFIRMED", "The agency did not confirm the request"
    FOLLOW_UP_MISSED = "FOLLOW_UP_MISSED", "No legal process followed an emergency disclosure"
    LOOKALIKE = "LOOKALIKE", "Look-alike of a verified agency"
    OTHER = "OTHER", "Other"


class FraudFlag(models.Model):
    """Something that lowers trust in an agency or one of its officers (each explains itself
    on the confidence record, ``agencies.confidence``)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="fraud_flags")
    officer = models.ForeignKey(
        Officer, null=True, blank=True, on_delete=models.PROTECT, related_name="fraud_flags"
    )
    kind = models.CharField(max_length=24, choices=FraudFlagKind.choices)
    request_reference = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    raised_at = models.DateTimeField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["agency", "raised_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=FraudFlagKind.values), name="fraud_flag_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on agency {self.agency_id}"
