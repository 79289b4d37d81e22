"""Reporting periods: parsing and boundaries (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from govreq.core.errors import ValidationFailed
from govreq.transparency.periods import (
    half_year_containing,
    half_years_between,
    parse_period,
)


@pytest.mark.parametrize("text", ["2020-H2", "2020h2", " 2020-h2 ", "2020 H2"])
def test_half_year_spellings(text):
    period = parse_period(text)
    assert period.label == "2020-H2"
    assert period.start == datetime(2020, 7, 1, tzinfo=UTC)
    assert period.end == datetime(2021, 1, 1, tzinfo=UTC)
    assert period.is_half_year
    assert period.last_day == date(2020, 12, 31)


def test_first_half_and_year():
    first = parse_period("2020-H1")
    assert (first.start, first.end) == (
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2020, 7, 1, tzinfo=UTC),
    )
    assert first.last_day == date(2020, 6, 30)
    year = parse_period("2020")
    assert (year.label, year.start, year.end) == (
        "2020",
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2021, 1, 1, tzinfo=UTC),
    )
    assert not year.is_half_year
    assert [half.label for half in year.halves()] == ["2020-H1", "2020-H2"]
    assert year.halves()[0].start == year.start and year.halves()[1].end == year.end


@pytest.mark.parametrize("text", ["", "2020-H3", "H2-2020", "20-H2", "2020-Q1", "1999", "2020-H"])
def test_nonsense_is_refused_naming_the_format(text):
    with pytest.raises(ValidationFailed) as caught:
        parse_period(text)
    assert caught.value.errors[0].field == "period"
    assert "2020-H2" in caught.value.message or "outside" in caught.value.message


def test_half_year_containing_and_between():
    assert half_year_containing(datetime(2020, 6, 30, 23, 59, tzinfo=UTC)).label == "2020-H1"
    assert half_year_containing(datetime(2020, 7, 1, tzinfo=UTC)).label == "2020-H2"
    labels = [p.label for p in half_years_between(parse_period("2019-H2"), parse_period("2021"))]
    assert labels == ["2019-H2", "2020-H1", "2020-H2", "2021-H1", "2021-H2"]
