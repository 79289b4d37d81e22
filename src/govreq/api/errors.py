"""One JSON error shape for every 4xx: ``{"code", "message", "errors": [{"field", "message"}]}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from govreq.core.errors import DomainError, field_path


def _error(
    api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str, errors: list[Any]
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "errors": errors}, status=status
    )


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        body = exc.as_dict()
        body.setdefault("errors", [])
        return api.create_response(request, body, status=exc.http_status)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"field": field_path(error.get("loc", ())), "message": error.get("msg", "invalid")}
            for error in exc.errors
        ]
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return _error(api, request, 422, "validation_error", message, errors)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = "a valid, unrevoked API token is required (Authorization: Bearer grq_...)"
        return _error(
            api,
            request,
            401,
            "unauthorized",
            message,
            [{"field": "Authorization", "message": message}],
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        field = "body" if exc.status_code == 400 else ""
        errors = [{"field": field, "message": str(exc)}] if field else []
        return _error(api, request, exc.status_code, "bad_request", str(exc), errors)

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        message = "the request body is larger than the limit"
        return _error(
            api, request, 413, "body_too_large", message, [{"field": "body", "message": message}]
        )

    @api.exception_handler(MultiPartParserError)
    def unreadable_form(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        # A multipart body Django cannot parse (bad boundaries, oversized part headers):
        # the same JSON 400 as any other body that cannot be read, not Django's HTML page.
        message = f"the multipart body cannot be read: {exc}"
        return _error(
            api, request, 400, "bad_request", message, [{"field": "body", "message": message}]
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _error(api, request, 404, "not_found", "not found", [])
