"""Staff sign-in with a password and a second factor, and the role check on every page."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import actor_roles
from govreq.console import zones
from govreq.core.actors import Actor

SECOND_FACTOR = "govreq_second_factor"
PENDING_USER = "govreq_pending_user"
REAUTH_AT = "govreq_reauth_at"

View = Callable[..., HttpResponseBase]


def staff_actor(request: HttpRequest) -> Actor | None:
    """The signed-in staff member, only once both factors were given in this session."""
    user = request.user
    if not user.is_authenticated or not request.session.get(SECOND_FACTOR):
        return None
    return Actor.for_user(user)  # type: ignore[arg-type]


def safe_next(request: HttpRequest, default: str) -> str:
    """A local console path from ?next=, never another host (no open redirects)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate.startswith("/console/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and not candidate.startswith("//")
    ):
        return candidate
    return default


def staff_page(*roles: StaffRole) -> Callable[[View], View]:
    """Deny by default: signed in with both factors, and holding one of ``roles`` (any role if
    none is given)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            actor = staff_actor(request)
            if actor is None:
                sign_in = reverse("console:sign-in")
                return redirect(f"{sign_in}?{REDIRECT_FIELD_NAME}={request.get_full_path()}")
            held = actor_roles(actor)
            needed: set[str] = {str(r) for r in roles} or set(StaffRole.values)
            if not held & needed:
                return render(
                    request,
                    "console/forbidden.html",
                    {"needed": sorted(needed)},
                    status=403,
                )
            request.actor = actor  # type: ignore[attr-defined]
            request.roles = held  # type: ignore[attr-defined]
            # Every time on the page in the viewer's own zone (the templates name it).
            # Until they choose: the browser's zone (posted once), else the region's, else UTC.
            with timezone.override(zones.viewer_zone(request, actor.user)):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate


def reauth_fresh(request: HttpRequest) -> bool:
    at = request.session.get(REAUTH_AT)
    return at is not None and time.time() - at < settings.REAUTH_MINUTES * 60


def mark_reauth(request: HttpRequest) -> None:
    request.session[REAUTH_AT] = time.time()


def admin_sign_in(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The Django admin has no sign-in of its own: staff sign in at the console."""
    return HttpResponseRedirect(reverse("console:sign-in"))


def admin_has_permission(request: HttpRequest) -> bool:
    """Admin pages need an active staff user who signed in with the second factor."""
    user = request.user
    return bool(
        user.is_active and user.is_staff and request.session.get(SECOND_FACTOR)  # type: ignore[union-attr]
    )
