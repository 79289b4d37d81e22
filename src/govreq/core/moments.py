"""Moments typed by people: one parser for the CLI, the API, the console and the portal.

A moment is written either as ISO 8601 with an offset (``2020-06-30T23:00+08:00``,
``2020-06-30T15:00Z``) or as a local time and a zone name (``2020-06-30 23:00 Asia/Hong_Kong``).
It is stored in UTC. A bare date, or a time without a zone, is refused: "30 June 2020" is
midnight in some zone, and the Hong Kong law took effect at 23:00 Hong Kong time, eight hours
before midnight UTC. The refusal shows both readings so the person can say which they meant.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, WithJsonSchema

MOMENT_FORMATS = (
    'ISO 8601 with an offset ("2020-06-30T23:00+08:00", "2020-06-30T15:00Z") or a local time '
    'and a zone name ("2020-06-30 23:00 Asia/Hong_Kong")'
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZONED = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{1,2}:\d{2}(?::\d{2})?)"
    r"\s+(?P<zone>[A-Za-z][\w+\-/]*)$"
)


class MomentError(ValueError):
    """The text is not a moment; the message says why and how to write it."""


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MomentError(
            f"{name!r} is not a time zone name; use an IANA name such as Asia/Hong_Kong or UTC"
        ) from None


def _local(day: str, clock: str, zone: ZoneInfo, text: str) -> datetime:
    try:
        naive = datetime.fromisoformat(f"{day}T{clock.zfill(5) if len(clock) < 5 else clock}")
    except ValueError:
        raise MomentError(f"{text!r} is not a date and time ({MOMENT_FORMATS})") from None
    moment = naive.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise MomentError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks skip it)"
        )
    if moment.replace(fold=1).utcoffset() != moment.utcoffset():
        raise MomentError(
            f"{naive:%Y-%m-%d %H:%M} happens twice in {zone.key} (the clocks go back): "
            "give it with its offset instead"
        )
    return moment.astimezone(UTC)


def _both_readings(day: str, zone_hint: str | None) -> str:
    at_utc = datetime.combine(datetime.fromisoformat(day).date(), time(), tzinfo=UTC)
    zone = _zone(zone_hint) if zone_hint and zone_hint != "UTC" else ZoneInfo("Asia/Hong_Kong")
    local_there = at_utc.astimezone(zone)
    at_zone = datetime.combine(at_utc.date(), time(), tzinfo=zone)
    return (
        f"{day} is a date, not a moment. Read as midnight UTC it is {day} 00:00 UTC "
        f"({local_there:%Y-%m-%d %H:%M} in {zone.key}); read as midnight in {zone.key} it is "
        f"{at_zone.astimezone(UTC):%Y-%m-%d %H:%M} UTC. Write which you mean, e.g. "
        f'"{day} 00:00 {zone.key}" or "{day}T00:00Z"'
    )


def parse_moment(text: str, *, zone_hint: str | None = None) -> datetime:
    """The UTC moment ``text`` names, or MomentError saying why not (``zone_hint`` names the
    zone a bare date was probably meant in, for the second reading shown)."""
    try:
        return _parse(text, zone_hint)
    except OverflowError:
        raise MomentError(f"{text!r} lies outside the years 0001-9999 in UTC") from None


def _parse(text: str, zone_hint: str | None) -> datetime:
    value = text.strip()
    if _DATE.match(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise MomentError(f"{text!r} is not a date") from None
        raise MomentError(_both_readings(value, zone_hint))
    zoned = _ZONED.match(value)
    if zoned:
        return _local(zoned["date"], zoned["time"], _zone(zoned["zone"]), value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MomentError(f"{text!r} is not a moment: write {MOMENT_FORMATS}") from None
    if parsed.tzinfo is None:
        example = zone_hint or "Asia/Hong_Kong"
        raise MomentError(
            f"{text!r} has no time zone: add an offset (+08:00, Z) or a zone name, e.g. "
            f'"{parsed:%Y-%m-%d %H:%M} {example}"'
        )
    return parsed.astimezone(UTC)


def _validate(value: Any) -> Any:
    if isinstance(value, str):
        return parse_moment(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        raise MomentError(f"has no time zone: write {MOMENT_FORMATS}")
    return value


# A moment in an API schema: the same parser as everywhere else (errors become a 422 that names
# the field).
Moment = Annotated[
    datetime,
    BeforeValidator(_validate),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": f"A moment: {MOMENT_FORMATS}. Stored and answered in UTC.",
        }
    ),
]
