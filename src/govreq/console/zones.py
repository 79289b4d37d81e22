"""Which zone a staff member sees times in before choosing one: the browser's (a small script
posts it once), else a guess from the region in Accept-Language, else UTC.

"Never chosen" is read from the audit trail (no ``staff.time_zone_set`` for the user): the
stored default is UTC, which a person may also choose on purpose."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.http import HttpRequest

from govreq.accounts.models import User
from govreq.audit.models import AuditEvent

CHOSEN = "govreq.zone_chosen"

# Regions with one time zone (or one that nearly everyone uses); others fall back to UTC.
REGION_ZONES = {
    "HK": "Asia/Hong_Kong",
    "MO": "Asia/Macau",
    "TW": "Asia/Taipei",
    "CN": "Asia/Shanghai",
    "SG": "Asia/Singapore",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "IN": "Asia/Kolkata",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "NL": "Europe/Amsterdam",
    "CH": "Europe/Zurich",
    "NZ": "Pacific/Auckland",
}


def zone_chosen(request: HttpRequest, user: User) -> bool:
    if request.session.get(CHOSEN):
        return True
    chosen = AuditEvent.objects.filter(
        action="staff.time_zone_set", object_type="user", object_id=str(user.pk)
    ).exists()
    if chosen:
        request.session[CHOSEN] = True
    return chosen


def region_zone(accept_language: str) -> ZoneInfo:
    """The zone of the first language tag with a single-zone region (zh-HK: Hong Kong)."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().replace("_", "-")
        for subtag in tag.split("-")[1:]:
            if len(subtag) == 2 and subtag.upper() in REGION_ZONES:
                return ZoneInfo(REGION_ZONES[subtag.upper()])
    return ZoneInfo("UTC")


def viewer_zone(request: HttpRequest, user: User | None) -> ZoneInfo:
    """The zone a staff page shows times in. Sets ``request.zone_guessed`` when it is a guess
    (the page then asks the browser once)."""
    if user is None:
        return ZoneInfo("UTC")
    if zone_chosen(request, user) or user.time_zone != "UTC":
        return user.zone
    request.zone_guessed = True  # type: ignore[attr-defined]
    return region_zone(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
