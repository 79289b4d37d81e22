"""Officer sessions in the portal. Officers are not Django users: the session holds their id.

Every request re-reads the officer, so one suspended (or whose agency is suspended, or whose
address is no longer at an official domain) after signing in is treated as signed out; so is one
signed in without an authenticator code once their agency requires one.

An officer whose agency requires an authenticator is, between the e-mailed code and the
authenticator's, only *pending* (``second_factor_pending``): no portal page lets them in.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Concatenate
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_htmx.http import HttpResponseClientRedirect

from govreq.agencies.models import Officer
from govreq.core.zones import language_zone, region_zone
from govreq.portal import staging
from govreq.portal.services import officer_may_sign_in, sign_out_record

SESSION_OFFICER = "govreq_portal_officer"
SESSION_LAST_SEEN = "govreq_portal_last_seen"
SESSION_SECOND_FACTOR = "govreq_portal_second_factor"
SESSION_PENDING_SECOND_FACTOR = "govreq_portal_pending_second_factor"
# The e-mailed code's own lifetime: the authenticator's code must follow within it.
PENDING_SECOND_FACTOR_SECONDS = 10 * 60
# An officer's session ends after this much inactivity (the session cookie lasts 8 hours).
IDLE_MINUTES = int(getattr(settings, "PORTAL_IDLE_MINUTES", 60))
PORTAL_PREFIX = "/portal/"


def sign_in(request: HttpRequest, officer: Officer, *, second_factor: bool = False) -> None:
    """Start the officer's session under a new session key (no session fixation).

    Nothing prepared in the browser before (a draft, a sent-request marker) carries over.
    ``second_factor``: the officer also gave an authenticator code.
    """
    staging.draft_discard(request.session)
    request.session.pop(staging.SESSION_SENT, None)
    request.session.pop(SESSION_PENDING_SECOND_FACTOR, None)
    request.session.cycle_key()
    request.session[SESSION_OFFICER] = officer.pk
    request.session[SESSION_LAST_SEEN] = time.time()
    request.session[SESSION_SECOND_FACTOR] = second_factor


def second_factor_pending(request: HttpRequest, officer: Officer, next_path: str | None) -> None:
    """The officer gave the e-mailed code; their agency wants an authenticator code too.

    Under a new session key, as for signing in; nobody is signed in yet."""
    staging.draft_discard(request.session)
    request.session.pop(SESSION_OFFICER, None)
    request.session.cycle_key()
    request.session[SESSION_PENDING_SECOND_FACTOR] = {
        "officer": officer.pk,
        "next": next_path or "",
        "at": time.time(),
    }


def pending_officer(request: HttpRequest) -> tuple[Officer, str] | None:
    """The officer waiting to give an authenticator code, and where they were going; None if
    nobody is, or the wait outlived the e-mailed code, or they may no longer sign in."""
    pending = request.session.get(SESSION_PENDING_SECOND_FACTOR)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECOND_FACTOR_SECONDS:
        request.session.pop(SESSION_PENDING_SECOND_FACTOR, None)
        return None
    officer = (
        Officer.objects.select_related("agency", "agency__jurisdiction")
        .filter(pk=pending.get("officer"))
        .first()
    )
    if officer is None or not officer_may_sign_in(officer):
        request.session.pop(SESSION_PENDING_SECOND_FACTOR, None)
        return None
    return officer, pending.get("next", "")


def sign_out(request: HttpRequest) -> None:
    """End the session and drop anything staged for a request not yet sent."""
    officer = current_officer(request)
    staging.draft_discard(request.session)
    request.session.flush()
    if officer is not None:
        sign_out_record(officer=officer, now=timezone.now())


def current_officer(request: HttpRequest) -> Officer | None:
    """The signed-in officer, if they still may use the portal; otherwise forget them."""
    officer_id = request.session.get(SESSION_OFFICER)
    if officer_id is None:
        return None
    last_seen = request.session.get(SESSION_LAST_SEEN, 0)
    officer = (
        Officer.objects.select_related("agency", "agency__jurisdiction")
        .filter(pk=officer_id)
        .first()
    )
    if (
        officer is None
        or time.time() - last_seen > IDLE_MINUTES * 60
        or not officer_may_sign_in(officer)
        or (officer.agency.require_officer_totp and not request.session.get(SESSION_SECOND_FACTOR))
    ):
        staging.draft_discard(request.session)
        request.session.pop(SESSION_OFFICER, None)
        request.session.pop(SESSION_LAST_SEEN, None)
        request.session.pop(SESSION_SECOND_FACTOR, None)
        return None
    request.session[SESSION_LAST_SEEN] = time.time()
    return officer


def safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    """``candidate`` if it is a path inside the portal on this site, else None.

    Refuses other hosts, schemes, protocol-relative URLs and paths outside /portal/ (including
    ones that reach outside through dot segments), so ``next`` cannot be an open redirect.
    """
    if not candidate or "\\" in candidate or any(ord(ch) < 32 for ch in candidate):
        return None
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return None
    # Browsers resolve dot segments, percent-encoded ones too: /portal/%2e%2e/console is /console.
    path = unquote(parts.path)
    if not path.startswith(PORTAL_PREFIX) or {".", ".."} & set(path.split("/")):
        return None
    return candidate


def sign_in_url(next_path: str | None = None) -> str:
    url = reverse("portal:sign-in")
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


def officer_required[**P, R: HttpResponseBase](
    view: Callable[Concatenate[HttpRequest, Officer, P], R],
) -> Callable[Concatenate[HttpRequest, P], R | HttpResponse]:
    """Call ``view(request, officer, ...)`` for a signed-in officer; send others to sign in."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> R | HttpResponse:
        officer = current_officer(request)
        if officer is None:
            next_path = request.get_full_path() if request.method == "GET" else None
            if request.headers.get("HX-Request") == "true":
                return HttpResponseClientRedirect(sign_in_url())
            return HttpResponseRedirect(sign_in_url(next_path))
        with timezone.override(officer_zone(request, officer)):
            return view(request, officer, *args, **kwargs)

    return wrapped


def officer_zone(request: HttpRequest, officer: Officer) -> ZoneInfo:
    """The zone an officer's pages show times in: their agency's, where its country has one
    (a Hong Kong officer sees HKT), else the region of their browser's language, else UTC."""
    return region_zone(officer.agency.jurisdiction_id) or language_zone(
        request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    )
