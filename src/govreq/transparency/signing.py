"""Ed25519 signatures on published reports, and where the operator's key comes from.

The key is read from ``GOVREQ_REPORT_SIGNING_KEY`` (a PEM private key, or base64 of the raw 32
bytes) or from the file named by ``GOVREQ_REPORT_SIGNING_KEY_FILE``. In development, when neither
is set, a key is generated once into ``GOVREQ_DATA_DIR/report-signing-key.pem`` (mode 0600);
production refuses to publish without a configured key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from govreq.core.canonical import canonical_json, sha256_hex
from govreq.core.errors import DomainError
from govreq.transparency.models import PublishedReport

DEV_KEY_FILE_NAME = "report-signing-key.pem"


class SigningKeyMissing(DomainError):
    code = "signing_key_missing"
    http_status = 409


class SigningKeyInvalid(DomainError):
    code = "signing_key_invalid"
    http_status = 409


def configured_setting(name: str) -> str:
    """A setting by its settings.py name, else the environment variable it comes from."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(f"GOVREQ_{name}", "")
    return str(value).strip()


def _parse_private_key(material: bytes, source: str) -> Ed25519PrivateKey:
    text = material.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(text, password=None)
        else:
            raw = base64.b64decode(text, validate=True)
            if len(raw) != 32:
                raise ValueError("not 32 bytes")
            key = Ed25519PrivateKey.from_private_bytes(raw)
    except (ValueError, TypeError, binascii.Error) as error:
        raise SigningKeyInvalid(
            f"{source} is not an Ed25519 private key (PEM, or base64 of 32 bytes): {error}"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyInvalid(f"{source} is not an Ed25519 key")
    return key


def _development_key() -> Ed25519PrivateKey:
    path = Path(settings.DATA_DIR) / DEV_KEY_FILE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process generated it first: use theirs
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    return _parse_private_key(path.read_bytes(), str(path))


def signing_key() -> Ed25519PrivateKey:
    """The operator's report-signing key; refused in production when none is configured."""
    inline = configured_setting("REPORT_SIGNING_KEY")
    if inline:
        return _parse_private_key(inline.encode("ascii", "replace"), "GOVREQ_REPORT_SIGNING_KEY")
    key_file = configured_setting("REPORT_SIGNING_KEY_FILE")
    if key_file:
        try:
            material = Path(key_file).read_bytes()
        except OSError as error:
            raise SigningKeyMissing(
                f"GOVREQ_REPORT_SIGNING_KEY_FILE {key_file}: {error.strerror}"
            ) from None
        return _parse_private_key(material, key_file)
    if settings.PRODUCTION:
        raise SigningKeyMissing(
            "no report-signing key is configured: set GOVREQ_REPORT_SIGNING_KEY or "
            "GOVREQ_REPORT_SIGNING_KEY_FILE (production never generates one)"
        )
    return _development_key()


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def key_id(public_key: str) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


def body_sha256(body: Any) -> str:
    return sha256_hex(canonical_json(body))


@dataclass(frozen=True, kw_only=True)
class Statement:
    """Everything a signature vouches for, besides the body (which it covers by hash)."""

    period: str
    version: int
    period_start: str
    period_end: str
    body_sha256: str
    previous_sha256: str
    changes: Any
    note: str
    audit_head_seq: int
    audit_head_hash: str
    key_id: str
    published_at: str
    published_by: str

    def payload(self) -> bytes:
        return canonical_json({"govreq-report-statement": 1, **self.__dict__})


def statement_of(report: PublishedReport) -> Statement:
    """The statement of a stored report (its body hash as stored, not recomputed). The author
    is named by user id, which never changes (an e-mail address may)."""
    return Statement(
        period=report.period,
        version=report.version,
        period_start=report.period_start.astimezone(UTC).isoformat(),
        period_end=report.period_end.astimezone(UTC).isoformat(),
        body_sha256=report.body_sha256,
        previous_sha256=report.previous_sha256,
        changes=report.changes,
        note=report.note,
        audit_head_seq=report.audit_head_seq,
        audit_head_hash=report.audit_head_hash,
        key_id=report.key_id,
        published_at=report.published_at.astimezone(UTC).isoformat(timespec="microseconds"),
        published_by=str(report.published_by_id),
    )


def sign(key: Ed25519PrivateKey, statement: Statement) -> str:
    return base64.b64encode(key.sign(statement.payload())).decode("ascii")


def signature_valid(*, public_key: str, signature: str, statement: Statement) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(
            base64.b64decode(signature), statement.payload()
        )
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
