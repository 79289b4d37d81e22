"""TOTP (RFC 6238) second factor and recovery codes for staff sign-in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.twofactor import InvalidToken as InvalidTotp
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from django.conf import settings
from django.db import transaction

from govreq.accounts.models import User
from govreq.audit.services import audit_record
from govreq.console.models import RecoveryCode, TotpDevice
from govreq.core.actors import Actor
from govreq.core.errors import Conflict

STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODES = 10
ISSUER = "govreq"


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"govreq-totp", info=b"totp-secret"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _totp(secret: bytes) -> TOTP:
    # SHA-1 and 6 digits every 30 s: what every authenticator app implements (RFC 6238's
    # HMAC-SHA-1 is not affected by SHA-1's collision weakness).
    return TOTP(secret, DIGITS, SHA1(), STEP_SECONDS, enforce_key_length=False)  # noqa: S303


def device_secret(device: TotpDevice) -> bytes:
    try:
        return _fernet().decrypt(bytes(device.secret_encrypted))
    except InvalidToken:
        raise Conflict(
            "the authenticator cannot be read (the secret key changed); enrol again",
            code="totp_unreadable",
        ) from None


def code_at(secret: bytes, at: datetime) -> str:
    return _totp(secret).generate(int(at.timestamp())).decode()


@dataclass(frozen=True, kw_only=True)
class Enrolment:
    secret_base32: str
    uri: str


@transaction.atomic
def totp_enrol_start(*, user: User, now: datetime) -> Enrolment:
    """A new, unconfirmed authenticator secret (replaces an unconfirmed one)."""
    existing = TotpDevice.objects.filter(user=user).first()
    if existing is not None and existing.confirmed_at is not None:
        raise Conflict("an authenticator is already set up", code="totp_exists")
    secret = secrets.token_bytes(20)
    TotpDevice.objects.update_or_create(
        user=user,
        defaults={
            "secret_encrypted": _fernet().encrypt(secret),
            "created_at": now,
            "confirmed_at": None,
            "last_counter": 0,
        },
    )
    encoded = base64.b32encode(secret).decode().rstrip("=")
    label = quote(f"{ISSUER}:{user.email}")
    uri = f"otpauth://totp/{label}?secret={encoded}&issuer={ISSUER}&digits={DIGITS}&period={STEP_SECONDS}"
    return Enrolment(secret_base32=encoded, uri=uri)


def _accept(device: TotpDevice, code: str, now: datetime) -> bool:
    """Whether ``code`` is valid now (±1 step for clock drift) and newer than the last one used."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != DIGITS:
        return False
    totp = _totp(device_secret(device))
    current = int(now.timestamp()) // STEP_SECONDS
    for counter in (current - 1, current, current + 1):
        if counter <= device.last_counter:
            continue
        try:
            totp.verify(code.encode(), counter * STEP_SECONDS)
        except InvalidTotp:
            continue
        device.last_counter = counter
        device.save(update_fields=["last_counter"])
        return True
    return False


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
    candidate = _recovery_hash(code)
    used = RecoveryCode.objects.filter(user=user, code_hash=candidate, used_at__isnull=True).update(
        used_at=now
    )
    return used == 1


def _recovery_hash(code: str) -> str:
    normalised = code.strip().replace("-", "").replace(" ", "").lower()
    return hmac.new(settings.SECRET_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def recovery_codes_regenerate(*, user: User, now: datetime) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_recovery_hash(code), created_at=now) for code in codes
    )
    return codes
