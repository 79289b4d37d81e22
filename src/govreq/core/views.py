from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from ninja.openapi.docs import Swagger

import govreq


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"version": govreq.__version__})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and `govreq serve` tests."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # the database is down: say so, don't crash
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "version": govreq.__version__})


def admin_sign_in(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    return redirect("console:sign-in")


def admin_has_permission(request: HttpRequest) -> bool:
    """Admin pages need an active staff user who signed in with the second factor."""
    from govreq.console.auth import SECOND_FACTOR

    user = request.user
    return bool(
        user.is_active and user.is_staff and request.session.get(SECOND_FACTOR)  # type: ignore[union-attr]
    )


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    """Interactive API documentation (Swagger UI, served locally), for signed-in staff."""
    from govreq.api.main import api

    return Swagger().render_page(request, api)
