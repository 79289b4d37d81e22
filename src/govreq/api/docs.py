"""Interactive API documentation (Swagger UI, served locally); ``govreq.urls`` lets only
signed-in staff reach it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from ninja.openapi.docs import Swagger

from govreq.api.main import api


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    return Swagger().render_page(request, api)
