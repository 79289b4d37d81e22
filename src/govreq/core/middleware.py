"""Refuse oversized request bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

# multipart framing around a document: boundaries, headers, the other small form fields.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class BodySizeLimitMiddleware:
    """413 with a JSON error naming ``body`` for API bodies over their limit.

    JSON bodies may be at most ``JSON_BODY_MAX_BYTES``; multipart uploads at most the document
    limit plus framing. Django's own DATA_UPLOAD_MAX_MEMORY_SIZE still guards bodies sent without a
    Content-Length (chunked), which the API's error handler also turns into a 413.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            length = request.META.get("CONTENT_LENGTH") or "0"
            try:
                size = int(length)
            except ValueError:
                return body_too_large("Content-Length is not a number")
            content_type = request.META.get("CONTENT_TYPE", "")
            if content_type.startswith("multipart/"):
                limit = settings.DOCUMENT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES
            else:
                limit = settings.JSON_BODY_MAX_BYTES
            if size > limit:
                return body_too_large(f"the request body is {size} bytes; the limit is {limit}")
            if (
                "json" in content_type
                and size
                and (b"\\u0000" in request.body or b"\x00" in request.body)
            ):
                # PostgreSQL cannot store NUL in text; no legal text needs it.
                message = "the body contains a NUL character"
                return JsonResponse(
                    {
                        "code": "validation_error",
                        "message": message,
                        "errors": [{"field": "body", "message": message}],
                    },
                    status=422,
                )
        elif request.path.startswith("/portal/") and request.method == "POST":
            # The portal's form takes several documents at once; cap the whole upload.
            length = request.META.get("CONTENT_LENGTH") or "0"
            if not length.isdigit() or int(length) > settings.PORTAL_UPLOAD_MAX_BYTES:
                return HttpResponse(
                    "The upload is too large: send at most "
                    f"{settings.PORTAL_UPLOAD_MAX_BYTES // (1024 * 1024)} MB of documents at once.",
                    status=413,
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)


def body_too_large(message: str) -> JsonResponse:
    return JsonResponse(
        {
            "code": "body_too_large",
            "message": message,
            "errors": [{"field": "body", "message": message}],
        },
        status=413,
    )
