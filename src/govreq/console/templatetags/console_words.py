"""Plain words in console templates: ``{{ legal.status|label:"status" }}``,
``{{ result.code|check_name }}``, ``{{ categories|labels:"category" }}``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from govreq.console import labels as words
from govreq.jurisdictions.names import country_name
from govreq.transparency import selectors as transparency

register = template.Library()


@register.filter
def label(value: Any, group: str) -> str:
    return words.label(value, group)


@register.filter
def labels(values: Iterable[Any] | None, group: str) -> str:
    """Several codes as their labels, comma-separated."""
    return ", ".join(words.label(v, group) for v in values or [])


@register.filter
def check_name(code: str) -> str:
    return words.check_name(code)


@register.filter
def check_answer(outcome: str) -> str:
    return words.check_answer(outcome)


@register.filter
def place(code: Any) -> str:
    """A jurisdiction by its name in the viewer's language, with its code: "香港 (HK)"."""
    code = str(getattr(code, "pk", code) or "")
    return f"{country_name(code)} ({code})" if code else ""


@register.filter
def public_reason(hold: Any) -> str:
    """A hold's public reason in the viewer's language (its Chinese one where it has one)."""
    return transparency.public_reason(hold)


@register.filter
def finding_message(result: Any) -> str:
    return words.finding_message(result)


@register.filter
def check_advice(code: str) -> str:
    return words.check_advice(code)


@register.filter
def audit_verb(action: str) -> str:
    return words.audit_verb(action)


@register.filter
def history_reason(text: str) -> str:
    return words.history_reason(text)


@register.filter
def confidence_reason(text: str) -> str:
    return words.confidence_reason(text)
