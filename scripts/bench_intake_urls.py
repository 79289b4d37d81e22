"""URLs for scripts/bench_intake.py only: govreq's URLs, plus ``POST /bench/insert``, a bare
endpoint that inserts one row per request in the same database through the same middleware,
server and connection settings (bench_intake_site)."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def insert(request: HttpRequest) -> JsonResponse:
    """The least a Django endpoint that stores a submission does: parse, insert, answer."""
    body = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {settings.BENCH_TABLE} (request_key, body, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s) RETURNING id",
            [request.headers["Idempotency-Key"], json.dumps(body), timezone.now().isoformat()],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [
    path("bench/insert", insert),
    path("", include("govreq.urls")),
]
