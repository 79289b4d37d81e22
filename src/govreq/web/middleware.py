"""Staff sessions end after a period of inactivity."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LAST_SEEN = "govreq_last_seen"


class StaffIdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN)
            if last_seen is not None and now - last_seen > settings.STAFF_IDLE_MINUTES * 60:
                logout(request)
                request.session["govreq_idle_logout"] = True
            else:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class TrustedProxyMiddleware:
    """Behind a reverse proxy, take the client's address from X-Forwarded-For.

    Only when the direct peer is one of GOVREQ_TRUSTED_PROXIES; the rightmost address that is
    not itself a trusted proxy is the client (the left part of the header is client-controlled).
    Rate limits and audit records then see real clients, not the proxy.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = frozenset(settings.TRUSTED_PROXIES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if self.trusted and forwarded and request.META.get("REMOTE_ADDR") in self.trusted:
            hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
            client = next((hop for hop in reversed(hops) if hop not in self.trusted), None)
            if client:
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)
