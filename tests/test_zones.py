"""Zones as people name them (``core.zones``): the region's zone and the zone's short name."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from govreq.core.zones import language_zone, region_zone, zone_label

WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "moment", "label"),
    [
        ("Asia/Hong_Kong", WINTER, "HKT"),
        ("Europe/London", WINTER, "GMT"),
        ("Europe/London", SUMMER, "BST"),
        ("Asia/Kolkata", SUMMER, "IST"),
        ("UTC", SUMMER, "UTC"),
        # The zone database has no letters for these: the offset says it.
        ("Asia/Dubai", SUMMER, "UTC+04:00"),
        ("America/Sao_Paulo", SUMMER, "UTC-03:00"),
        ("Asia/Kathmandu", SUMMER, "UTC+05:45"),
    ],
)
def test_a_zone_is_named_by_its_abbreviation_or_its_offset(zone, moment, label):
    assert zone_label(moment.astimezone(ZoneInfo(zone))) == label


def test_single_zone_regions_and_languages():
    assert region_zone("hk") == ZoneInfo("Asia/Hong_Kong")
    assert region_zone("US") is None  # several zones: no guess
    assert language_zone("zh-Hant-HK,zh;q=0.8") == ZoneInfo("Asia/Hong_Kong")
    assert language_zone("en-US,en") == ZoneInfo("UTC")
    assert language_zone("") == ZoneInfo("UTC")
