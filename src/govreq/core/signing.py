"""The platform's Ed25519 signing key: it signs published transparency reports and the manifests
of production packages.

The key is read from ``GOVREQ_REPORT_SIGNING_KEY`` (a PEM private key, or base64 of the raw 32
bytes) or from the file named by ``GOVREQ_REPORT_SIGNING_KEY_FILE``. In development, when neither
is set, a key is generated once into ``GOVREQ_DATA_DIR/report-signing-key.pem`` (mode 0600);
production refuses to sign without a configured key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from govreq.core.errors import DomainError

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


def sign_payload(key: Ed25519PrivateKey, payload: bytes) -> str:
    """A base64 Ed25519 signature of ``payload``."""
    return base64.b64encode(key.sign(payload)).decode("ascii")


def payload_signature_valid(*, public_key: str, signature: str, payload: bytes) -> bool:
    """Whether ``signature`` (base64) is ``public_key``'s (base64 raw) signature of ``payload``."""
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(
            base64.b64decode(signature), payload
        )
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def trusted_public_keys() -> set[str]:
    """The operator's current public key, and any earlier keys listed in
    GOVREQ_REPORT_TRUSTED_PUBLIC_KEYS (base64, comma-separated) after a rotation: what a
    signature by this platform may be checked against."""
    trusted = {
        item.strip()
        for item in configured_setting("REPORT_TRUSTED_PUBLIC_KEYS").split(",")
        if item.strip()
    }
    with contextlib.suppress(SigningKeyMissing):
        trusted.add(public_key_b64(signing_key()))
    return trusted
