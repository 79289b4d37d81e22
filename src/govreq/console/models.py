"""Second factors for staff: TOTP authenticators and single-use recovery codes."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TotpDevice(models.Model):
    """A staff member's authenticator. The secret is stored encrypted (see console.otp)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    secret_encrypted = models.BinaryField()
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted: a code can be used once (no replay within its window).
    last_counter = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"authenticator of {self.user_id}"


class RecoveryCode(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"


class SignInFailure(models.Model):
    """A failed password or second-factor attempt, counted to slow down guessing.

    ``key`` is a keyed hash of the e-mail address or the client address: nothing readable.
    """

    key = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "occurred_at"])]

    def __str__(self) -> str:
        return f"failure at {self.occurred_at:%Y-%m-%d %H:%M}"
