"""Reporting periods: half-years ("2020-H2") and years ("2020"), as [start, end) in UTC. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from govreq.core.errors import ValidationFailed

_PERIOD = re.compile(r"^\s*(\d{4})(?:\s*-?\s*[Hh]([12]))?\s*$")
FIRST_YEAR = 2000
LAST_YEAR = 2100


@dataclass(frozen=True, kw_only=True, order=True)
class Period:
    """A reporting period. ``end`` is exclusive; both are midnight UTC."""

    start: datetime
    end: datetime
    label: str

    @property
    def is_half_year(self) -> bool:
        return "-H" in self.label

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def last_day(self) -> date:
        """The last day in the period: Google's "Period Ending" (2020-12-31 for 2020-H2)."""
        return (self.end - timedelta(days=1)).date()

    def halves(self) -> tuple[Period, ...]:
        """The half-years a period is made of (itself, for a half-year)."""
        if self.is_half_year:
            return (self,)
        return (half_year(self.year, 1), half_year(self.year, 2))

    def __str__(self) -> str:
        return self.label


def half_year(year: int, half: int) -> Period:
    start = datetime(year, 1 if half == 1 else 7, 1, tzinfo=UTC)
    end = datetime(year, 7, 1, tzinfo=UTC) if half == 1 else datetime(year + 1, 1, 1, tzinfo=UTC)
    return Period(start=start, end=end, label=f"{year}-H{half}")


def whole_year(year: int) -> Period:
    return Period(
        start=datetime(year, 1, 1, tzinfo=UTC),
        end=datetime(year + 1, 1, 1, tzinfo=UTC),
        label=str(year),
    )


def parse_period(text: str) -> Period:
    """``"2020-H2"`` (also ``2020H2``, ``2020-h2``) or ``"2020"``; anything else is refused."""
    match = _PERIOD.match(text or "")
    if match is None:
        raise ValidationFailed.single(
            "period",
            f"{text!r} is not a period: write a half-year like 2020-H2 or a year like 2020",
        )
    year = int(match.group(1))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed.single("period", f"{year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    half = match.group(2)
    return half_year(year, int(half)) if half else whole_year(year)


def half_year_containing(moment: datetime) -> Period:
    utc = moment.astimezone(UTC)
    return half_year(utc.year, 1 if utc.month <= 6 else 2)


def half_years_between(first: Period, last: Period) -> list[Period]:
    """Every half-year from the one ``first`` starts in to the one ``last`` ends in."""
    current = half_year_containing(first.start)
    final = half_year_containing(last.end - timedelta(microseconds=1))
    periods = [current]
    while current.label != final.label:
        current = half_year_containing(current.end)
        periods.append(current)
    return periods
