"""TOTP (RFC 6238) and recovery codes, the parts staff and officers share: no models.

The console (staff) and the portal (officers) each keep their own devices and recovery codes and
call these to make, store and check secrets and codes.
"""

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


@dataclass(frozen=True, kw_only=True)
class Enrolment:
    secret_base32: str
    uri: str


@dataclass(frozen=True, kw_only=True)
class NewSecret:
    """A fresh secret: ``encrypted`` to store, ``enrolment`` to show the person once."""

    encrypted: bytes
    enrolment: Enrolment


def enrolment_of(secret: bytes, *, account: str) -> Enrolment:
    """The key and the otpauth:// URI an authenticator app scans, for ``account``."""
    encoded = base64.b32encode(secret).decode().rstrip("=")
    label = quote(f"{ISSUER}:{account}")
    uri = (
        f"otpauth://totp/{label}?secret={encoded}&issuer={ISSUER}"
        f"&digits={DIGITS}&period={STEP_SECONDS}"
    )
    return Enrolment(secret_base32=encoded, uri=uri)


def secret_new(*, account: str) -> NewSecret:
    """A random 160-bit secret, encrypted for storage, and its enrolment."""
    secret = secrets.token_bytes(20)
    return NewSecret(
        encrypted=_fernet().encrypt(secret), enrolment=enrolment_of(secret, account=account)
    )


def secret_decrypt(encrypted: bytes) -> bytes:
    try:
        return _fernet().decrypt(encrypted)
    except InvalidToken:
        raise Conflict(
            "the authenticator cannot be read (the secret key changed); enrol again",
            code="totp_unreadable",
        ) from None


def code_at(secret: bytes, at: datetime) -> str:
    return _totp(secret).generate(int(at.timestamp())).decode()


def accepted_counter(*, secret: bytes, code: str, last_counter: int, now: datetime) -> int | None:
    """The time step ``code`` is valid for now (±1 step for clock drift), if it is later than
    ``last_counter``, the last step accepted: so a code is accepted once. None otherwise.

    The caller stores the returned step as the new ``last_counter``, under a row lock."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != DIGITS:
        return None
    totp = _totp(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for counter in (current - 1, current, current + 1):
        if counter <= last_counter:
            continue
        try:
            totp.verify(code.encode(), counter * STEP_SECONDS)
        except InvalidTotp:
            continue
        return counter
    return None


def recovery_code_hash(code: str) -> str:
    normalised = code.strip().replace("-", "").replace(" ", "").lower()
    return hmac.new(settings.SECRET_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def recovery_codes_new() -> list[str]:
    """Fresh single-use recovery codes (``xxxx-xxxx-xxxx``); store only their hashes."""
    return ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODES)]
