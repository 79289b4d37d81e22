"""The time zone a jurisdiction's law speaks in, from the IANA zone table (``zone.tab``)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def _zones() -> dict[str, str]:
    first: dict[str, str] = {}
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            first.setdefault(fields[0].upper(), fields[2])
    return first


def jurisdiction_zone(code: str) -> str | None:
    """The first zone the table lists for a country (Hong Kong: Asia/Hong_Kong; the United
    States: America/New_York), or None."""
    return _zones().get(code.strip().upper())
