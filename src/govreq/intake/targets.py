"""Normalising account identifiers, so that the same account is always stored the same way."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from govreq.core.domains import canonical_domain
from govreq.intake.models import TargetType

MAX_VALUE_LENGTH = 500
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ().\-/]{4,40}$")
_NO_SPACE = re.compile(r"^\S+$")


class TargetInvalid(ValueError):
    """The identifier is malformed; the message says how."""


def normalise_target(target_type: str, raw: str, *, region: str | None = None) -> str:
    """The canonical form of ``raw`` for its type, or raise TargetInvalid.

    Emails are lower-cased with an internationalised domain in its punycode form (so
    ``user@bücher.example`` and ``user@xn--bcher-kva.example`` are one account), phones become
    E.164 (national numbers read in ``region``, the requesting jurisdiction), IP addresses take
    their canonical (compressed) form, usernames lose a leading "@" and case, URLs keep their
    path but lose fragments and host case.
    """
    value = raw.strip()
    if not value:
        raise TargetInvalid("must not be empty")
    if len(value) > MAX_VALUE_LENGTH:
        raise TargetInvalid(f"is longer than {MAX_VALUE_LENGTH} characters")
    kind = TargetType(target_type)
    if kind == TargetType.EMAIL:
        return _email(value)
    if kind == TargetType.PHONE:
        return _phone(value, region)
    if kind == TargetType.IP_ADDRESS:
        return _ip(value)
    if kind == TargetType.URL:
        return _url(value)
    if kind == TargetType.USERNAME:
        name = value.removeprefix("@").lower()
        if not name or not _NO_SPACE.match(name):
            raise TargetInvalid(f"{raw!r} is not a username (no spaces allowed)")
        return name
    if not _NO_SPACE.match(value):
        raise TargetInvalid(f"{raw!r} is not a user id (no spaces allowed)")
    return value


def _email(value: str) -> str:
    lowered = value.lower()
    local, _, host = lowered.rpartition("@")
    # A domain that has no canonical form (an address literal, a single label) stays as typed.
    domain = canonical_domain(host) if local else None
    address = f"{local}@{domain}" if domain else lowered
    try:
        validate_email(address)
    except DjangoValidationError:
        raise TargetInvalid(f"{value!r} is not an e-mail address") from None
    return address


def _phone(value: str, region: str | None) -> str:
    if not _PHONE_CHARACTERS.match(value):
        raise TargetInvalid(f"{value!r} is not a phone number")
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise TargetInvalid(
            f"{value!r} is not a phone number (give it in international form, +CC...)"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise TargetInvalid(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _ip(value: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise TargetInvalid(f"{value!r} is not an IPv4 or IPv6 address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _url(value: str) -> str:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise TargetInvalid(f"{value!r} is not a URL") from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise TargetInvalid(f"{value!r} is not an http(s) URL")
    if any(character.isspace() for character in value):
        raise TargetInvalid(f"{value!r} is not a URL (it contains spaces)")
    host = parts.hostname.lower()
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
