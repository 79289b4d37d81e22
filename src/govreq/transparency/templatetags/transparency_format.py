"""Small display filters for the transparency pages."""

from __future__ import annotations

from django import template

from govreq.jurisdictions.names import country_name
from govreq.transparency import labels, selectors

register = template.Library()


@register.filter
def pct(value: int | None) -> str:
    """A whole percentage, or an en dash when there is nothing to divide."""
    return "\u2013" if value is None else f"{value}%"


@register.filter
def day(value: str | None) -> str:
    """The date part of an ISO datetime from a report body ("2020-06-30T15:00:00+00:00")."""
    return (value or "")[:10]


@register.filter
def country(code: str, fallback: str = "") -> str:
    """The jurisdiction's name in the reader's language."""
    return country_name(code, fallback=fallback)


@register.filter
def public_reason(hold: object) -> str:
    """A hold's public reason in the reader's language (``selectors.public_reason``)."""
    return selectors.public_reason(hold)


@register.filter
def period_name(label: object) -> str:
    """A period ("2020-H2", or a Period) in the reader's words."""
    return labels.period_name(str(getattr(label, "label", label)))
