"""TOTP (RFC 6238) second factor and recovery codes for staff sign-in.

The codes themselves are ``core.totp``'s (shared with the officers' second factor in the
portal); this module keeps the staff devices and recovery codes.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from govreq.accounts.models import User
from govreq.audit.services import audit_record
from govreq.console.models import RecoveryCode, TotpDevice
from govreq.core import totp
from govreq.core.actors import Actor
from govreq.core.errors import Conflict
from govreq.core.totp import DIGITS, ISSUER, RECOVERY_CODES, STEP_SECONDS, Enrolment, code_at

__all__ = [
    "DIGITS",
    "ISSUER",
    "RECOVERY_CODES",
    "STEP_SECONDS",
    "Enrolment",
    "code_at",
    "device_secret",
    "has_second_factor",
    "recovery_codes_regenerate",
    "second_factor_verify",
    "totp_confirm",
    "totp_enrol_start",
]


def device_secret(device: TotpDevice) -> bytes:
    return totp.secret_decrypt(bytes(device.secret_encrypted))


@transaction.atomic
def totp_enrol_start(*, user: User, now: datetime) -> Enrolment:
    """A new, unconfirmed authenticator secret (replaces an unconfirmed one)."""
    existing = TotpDevice.objects.filter(user=user).first()
    if existing is not None and existing.confirmed_at is not None:
        raise Conflict("an authenticator is already set up", code="totp_exists")
    secret = totp.secret_new(account=user.email)
    TotpDevice.objects.update_or_create(
        user=user,
        defaults={
            "secret_encrypted": secret.encrypted,
            "created_at": now,
            "confirmed_at": None,
            "last_counter": 0,
        },
    )
    return secret.enrolment


def _accept(device: TotpDevice, code: str, now: datetime) -> bool:
    """Whether ``code`` is valid now and newer than the last one used (then it is used up)."""
    counter = totp.accepted_counter(
        secret=device_secret(device), code=code, last_counter=device.last_counter, now=now
    )
    if counter is None:
        return False
    device.last_counter = counter
    device.save(update_fields=["last_counter"])
    return True


@transaction.atomic
def totp_confirm(*, user: User, code: str, now: datetime) -> list[str]:
    """Confirm enrolment with a first code; returns new recovery codes (shown once)."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None or device.confirmed_at is not None:
        raise Conflict("there is no authenticator waiting for confirmation", code="totp_state")
    if not _accept(device, code, now):
        return []
    device.confirmed_at = now
    device.save(update_fields=["confirmed_at"])
    codes = recovery_codes_regenerate(user=user, now=now)
    audit_record(
        actor=Actor.for_user(user),
        action="auth.second_factor_enrolled",
        object_type="user",
        object_id=user.pk,
        now=now,
    )
    return codes


def has_second_factor(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


@transaction.atomic
def second_factor_verify(*, user: User, code: str, now: datetime) -> bool:
    """A TOTP code, or else a single-use recovery code."""
    device = (
        TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    )
    if device is None:
        return False
    if _accept(device, code, now):
        return True
    candidate = totp.recovery_code_hash(code)
    used = RecoveryCode.objects.filter(user=user, code_hash=candidate, used_at__isnull=True).update(
        used_at=now
    )
    return used == 1


def recovery_codes_regenerate(*, user: User, now: datetime) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = totp.recovery_codes_new()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=totp.recovery_code_hash(code), created_at=now)
        for code in codes
    )
    return codes
