"""Personal API tokens for officers and staff: issued once, stored as a hash, revocable.

The token rows live with the staff accounts (``accounts.models.ApiToken``); issuing and checking
them is the REST API's business, so the services live here with the API.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from govreq.accounts.models import ApiToken, StaffRole, User
from govreq.accounts.permissions import require_role
from govreq.agencies.models import AgencyStatus, Officer, OfficerStatus
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.canonical import sha256_hex
from govreq.core.errors import Conflict, DomainError, ValidationFailed

TOKEN_SCHEME = "grq"  # noqa: S105 - a prefix, not a secret
# Writing last_used_at on every call would turn reads into writes; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, kw_only=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the full bearer token; shown once, never stored


class TokenExpired(DomainError):
    """A real token past its end: the API answers 401 saying so, not a bare "unauthorized"."""

    code = "token_expired"
    http_status = 401


def officer_token_expiry(now: datetime) -> datetime:
    """When an officer's token issued ``now`` expires by default (settings.OFFICER_TOKEN_DAYS)."""
    return now + timedelta(days=settings.OFFICER_TOKEN_DAYS)


def _hash(raw: str) -> str:
    return sha256_hex(raw.encode("utf-8"))


@transaction.atomic
def api_token_issue(
    *,
    actor: Actor,
    officer: Officer | None = None,
    user: User | None = None,
    label: str = "",
    expires_at: datetime | None = None,
    now: datetime,
) -> IssuedToken:
    """Create a personal token for an officer or a staff user. The secret is returned once.

    An officer's token always expires: at ``expires_at``, or by default after
    settings.OFFICER_TOKEN_DAYS; a staff token only if ``expires_at`` is given."""
    if (officer is None) == (user is None):
        raise ValueError("a token belongs to exactly one officer or one user")
    # Officers' tokens are issued by intake or policy admins; staff tokens by policy admins.
    if officer is not None:
        require_role(actor, StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
    else:
        require_role(actor, StaffRole.POLICY_ADMIN)
    if officer is not None and officer.status != OfficerStatus.ACTIVE:
        raise Conflict("the officer is suspended", code="officer_suspended")
    if user is not None and not user.is_active:
        raise Conflict("the user is deactivated", code="user_inactive")
    if expires_at is None and officer is not None:
        expires_at = officer_token_expiry(now)
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed.single("expires_at", "must be in the future")
    prefix = secrets.token_hex(6)
    raw = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        prefix=prefix,
        token_hash=_hash(raw),
        officer=officer,
        user=user,
        label=label,
        created_at=now,
        expires_at=expires_at,
    )
    owner = ("officer", officer.pk) if officer is not None else ("user", user.pk)  # type: ignore[union-attr]
    audit_record(
        actor=actor,
        action="token.issued",
        object_type="api_token",
        object_id=token.pk,
        data={
            "owner_type": owner[0],
            "owner_id": owner[1],
            "prefix": prefix,
            "label": label,
            "expires_at": expires_at.isoformat() if expires_at is not None else None,
        },
        now=now,
    )
    return IssuedToken(token=token, secret=raw)


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken, now: datetime) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise Conflict("the token is already revoked", code="token_already_revoked")
    token.revoked_at = now
    token.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="token.revoked",
        object_type="api_token",
        object_id=token.pk,
        data={"prefix": token.prefix},
        now=now,
    )
    return token


def api_token_authenticate(raw: str, *, now: datetime) -> ApiToken | None:
    """The live token for a presented bearer string, or None (unknown, revoked, owner disabled).

    Raises TokenExpired for a genuine, unrevoked token past its ``expires_at``."""
    parts = raw.split("_")
    if len(parts) < 3 or parts[0] != TOKEN_SCHEME:
        return None
    token = (
        ApiToken.objects.select_related("officer__agency__jurisdiction", "user")
        .filter(prefix=parts[1])
        .first()
    )
    if token is None or not hmac.compare_digest(token.token_hash, _hash(raw)):
        return None
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenExpired(
            f"this API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; "
            "ask the platform for a new one"
        )
    if token.officer is not None and (
        token.officer.status != OfficerStatus.ACTIVE
        or token.officer.agency.status == AgencyStatus.SUSPENDED
    ):
        return None
    if token.user is not None and not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
