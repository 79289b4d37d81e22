"""Which zone a staff member sees times in before choosing one: the browser's (a small script
posts it once), else a guess from the region in Accept-Language, else UTC.

"Never chosen" is read from the audit trail (no ``staff.time_zone_set`` for the user): the
stored default is UTC, which a person may also choose on purpose."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.http import HttpRequest

from govreq.accounts.models import User
from govreq.audit.models import AuditEvent
from govreq.core.zones import language_zone

CHOSEN = "govreq.zone_chosen"


def zone_chosen(request: HttpRequest, user: User) -> bool:
    if request.session.get(CHOSEN):
        return True
    chosen = AuditEvent.objects.filter(
        action="staff.time_zone_set", object_type="user", object_id=str(user.pk)
    ).exists()
    if chosen:
        request.session[CHOSEN] = True
    return chosen


def viewer_zone(request: HttpRequest, user: User | None) -> ZoneInfo:
    """The zone a staff page shows times in. Sets ``request.zone_guessed`` when it is a guess
    (the page then asks the browser once)."""
    if user is None:
        return ZoneInfo("UTC")
    if zone_chosen(request, user) or user.time_zone != "UTC":
        return user.zone
    request.zone_guessed = True  # type: ignore[attr-defined]
    return language_zone(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
