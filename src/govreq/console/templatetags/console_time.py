"""Times in the console: in the viewer's zone (activated for every staff page), named by its
IANA key, which is unambiguous where abbreviations are not (CST is Taipei and Chicago)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def when(value: datetime | None, precision: str = "minutes") -> str:
    """``2020-06-30 23:00 Asia/Hong_Kong``; empty for no time (so ``|default`` applies)."""
    if not isinstance(value, datetime):
        return ""
    zone = timezone.get_current_timezone()
    local = timezone.localtime(value, zone)
    shown = f"{local:%Y-%m-%d %H:%M:%S}" if precision == "seconds" else f"{local:%Y-%m-%d %H:%M}"
    return f"{shown} {getattr(zone, 'key', str(zone))}"
