"""Time zones as people name them: which zone a region lives in, and a zone's short name."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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

UTC_ZONE = ZoneInfo("UTC")


def region_zone(region: str) -> ZoneInfo | None:
    """The zone of a single-zone region (``HK``: Hong Kong); None for others."""
    name = REGION_ZONES.get(region.upper())
    return ZoneInfo(name) if name else None


def language_zone(accept_language: str) -> ZoneInfo:
    """The zone of the first language tag with a single-zone region (zh-HK: Hong Kong), else
    UTC."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().replace("_", "-")
        for subtag in tag.split("-")[1:]:
            zone = region_zone(subtag) if len(subtag) == 2 else None
            if zone is not None:
                return zone
    return UTC_ZONE


def zone_label(local: datetime) -> str:
    """How a reader names the zone of ``local`` (an aware time already in that zone): its
    common abbreviation at that moment ("HKT", "BST", "GMT", "UTC"), or the offset
    ("UTC+05:30") for zones whose database has none (it gives "+0530")."""
    abbreviation = local.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    offset = local.strftime("%z")
    if not offset or offset in ("+0000", "-0000"):
        return "UTC"
    return f"UTC{offset[:3]}:{offset[3:5]}"
