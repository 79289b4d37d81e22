"""Sign-in codes and authenticators of agency officers, and the events the portal's rate limits
count."""

from __future__ import annotations

from django.db import models

# A code dies after this many wrong guesses (also enforced by a constraint below).
MAX_CODE_ATTEMPTS = 5


class LoginCode(models.Model):
    """A one-time sign-in code e-mailed to an officer. Only a keyed hash of it is stored.

    Only the newest code sent to an address can be used; it is single-use, expires, and dies
    after ``MAX_CODE_ATTEMPTS`` wrong guesses.
    """

    officer = models.ForeignKey("agencies.Officer", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(help_text="The address the code was sent to (lower case).")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["email", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="login_code_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=models.Q(attempts__lte=MAX_CODE_ATTEMPTS),
                name="login_code_attempts_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"sign-in code for {self.email} at {self.created_at:%Y-%m-%d %H:%M}"


class RateLimitScope(models.TextChoices):
    CODE_FOR_ADDRESS = "CODE_ADDRESS", "Sign-in code requested for an address"
    CODE_FROM_CLIENT = "CODE_CLIENT", "Sign-in code requested from a client address"
    VERIFY_FROM_CLIENT = "VERIFY_CLIENT", "Sign-in code tried from a client address"
    ACCESS_FROM_CLIENT = "ACCESS_CLIENT", "Access requested from a client address"
    SECOND_FACTOR_FOR_OFFICER = "TOTP_OFFICER", "Authenticator code tried for an officer"


class RateLimitEvent(models.Model):
    """One counted attempt. ``key`` is a keyed hash, so no e-mail or IP address is kept here."""

    scope = models.CharField(max_length=16, choices=RateLimitScope.choices)
    key = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["scope", "key", "occurred_at"]),
            models.Index(fields=["occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=RateLimitScope.values),
                name="rate_limit_scope_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} at {self.occurred_at:%Y-%m-%d %H:%M}"


class OfficerTotpDevice(models.Model):
    """An officer's authenticator app (TOTP), asked for after the e-mailed code when their
    agency requires it (``Agency.require_officer_totp``). The secret is stored encrypted
    (``core.totp``); unconfirmed until the officer enters a first code from it."""

    officer = models.OneToOneField(
        "agencies.Officer", on_delete=models.CASCADE, related_name="totp_device"
    )
    secret_encrypted = models.BinaryField()
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted: a code can be used once (no replay within its window).
    last_counter = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"authenticator of officer {self.officer_id}"


class OfficerRecoveryCode(models.Model):
    """A single-use code that stands in for the authenticator once (only a keyed hash)."""

    officer = models.ForeignKey(
        "agencies.Officer", on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["officer", "code_hash"], name="officer_recovery_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"recovery code of officer {self.officer_id}"
