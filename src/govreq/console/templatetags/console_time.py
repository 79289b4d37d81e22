"""Times in the console: in the viewer's zone (activated for every staff page), named as people
name it ("HKT"), with the IANA key, which is unambiguous where abbreviations are not (CST is
Taipei and Chicago), as the abbreviation's title."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

from govreq.core.zones import zone_label

register = template.Library()


@register.filter
def when(value: datetime | None, precision: str = "minutes") -> str:
    """``2020-06-30 23:00 HKT`` (``core.zones.zone_label``, the IANA key as its title); empty
    for no time (so ``|default`` applies)."""
    if not isinstance(value, datetime):
        return ""
    zone = timezone.get_current_timezone()
    local = timezone.localtime(value, zone)
    shown = f"{local:%Y-%m-%d %H:%M:%S}" if precision == "seconds" else f"{local:%Y-%m-%d %H:%M}"
    key = getattr(zone, "key", str(zone))
    label = zone_label(local)
    if label == key:
        return shown + " " + label
    return format_html('{} <abbr title="{}">{}</abbr>', shown, key, label)
