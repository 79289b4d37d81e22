"""Ed25519 signatures on published reports: what a signature vouches for.

The key itself is the platform's signing key (``core.signing``), which also signs production
manifests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govreq.core.canonical import canonical_json, sha256_hex
from govreq.core.signing import (
    DEV_KEY_FILE_NAME,
    SigningKeyInvalid,
    SigningKeyMissing,
    configured_setting,
    key_id,
    payload_signature_valid,
    public_key_b64,
    sign_payload,
    signing_key,
    trusted_public_keys,
)
from govreq.transparency.models import PublishedReport

__all__ = [
    "DEV_KEY_FILE_NAME",
    "SigningKeyInvalid",
    "SigningKeyMissing",
    "Statement",
    "body_sha256",
    "configured_setting",
    "key_id",
    "public_key_b64",
    "sign",
    "signature_valid",
    "signing_key",
    "statement_of",
    "trusted_public_keys",
]


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
    return sign_payload(key, statement.payload())


def signature_valid(*, public_key: str, signature: str, statement: Statement) -> bool:
    return payload_signature_valid(
        public_key=public_key, signature=signature, payload=statement.payload()
    )
