from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.http import HttpRequest

register = template.Library()

OUTCOME_CLASS = {"PASS": "ok", "INFO": "info", "WARN": "warn", "BLOCK": "block"}


@register.filter
def outcome_class(outcome: str) -> str:
    return OUTCOME_CLASS.get(outcome, "info")


@register.filter
def status_class(status: str) -> str:
    return "status-" + status.lower().replace("_", "-")


@register.simple_tag(takes_context=True)
def page_url(context: dict[str, Any], page: int) -> str:
    """The current URL with ``page`` replaced, keeping every filter."""
    request: HttpRequest = context["request"]
    params = request.GET.copy()
    params["page"] = str(page)
    return "?" + urlencode(sorted(params.lists()), doseq=True)


@register.simple_tag(takes_context=True)
def cursor_url(context: dict[str, Any], cursor: str) -> str:
    """The current URL at the page ``cursor`` points to, keeping every filter."""
    request: HttpRequest = context["request"]
    params = request.GET.copy()
    params.pop("page", None)
    params["cursor"] = cursor
    return "?" + urlencode(sorted(params.lists()), doseq=True)
