"""Bearer-token authentication for the REST API, and who the caller is."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from govreq.accounts.models import ApiToken
from govreq.accounts.permissions import require_staff
from govreq.agencies.models import Officer
from govreq.api.tokens import api_token_authenticate
from govreq.core.actors import Actor
from govreq.core.errors import PermissionDenied


class TokenAuth(HttpBearer):
    """``Authorization: Bearer grq_...``: a personal token of an officer or a staff user."""

    openapi_description = "A personal API token (grq_...), shown once when it is issued."

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return api_token_authenticate(token, now=timezone.now())


def caller_officer(request: HttpRequest) -> Officer:
    """The officer behind the token; staff tokens may not use the agency endpoints."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    if token.officer is None:
        raise PermissionDenied(
            "this endpoint is for agency officers; staff use /api/v1/staff/",
            code="officer_token_required",
        )
    return token.officer


def caller_staff(request: HttpRequest) -> Actor:
    """The staff user behind the token, who must hold at least one role to use the staff API."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    if token.user is None:
        raise PermissionDenied("this endpoint is for platform staff", code="staff_token_required")
    actor = Actor.for_user(token.user)
    require_staff(actor)
    return actor


def caller_actor(request: HttpRequest) -> Actor:
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    if token.officer is not None:
        return Actor.for_officer(token.officer)
    assert token.user is not None
    return Actor.for_user(token.user)
