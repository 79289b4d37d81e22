"""Small display filters for the transparency pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(value: int | None) -> str:
    """A whole percentage, or an en dash when there is nothing to divide."""
    return "\u2013" if value is None else f"{value}%"


@register.filter
def day(value: str | None) -> str:
    """The date part of an ISO datetime from a report body ("2020-06-30T15:00:00+00:00")."""
    return (value or "")[:10]
