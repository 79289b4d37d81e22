"""The readers on the real published files (copies in tests/transparency/data/), quirks and all."""

from __future__ import annotations

from datetime import date

import pytest

from govreq.transparency.exports import GOOGLE_HEADER, META_HEADER
from govreq.transparency.readers import (
    ReaderError,
    country_code,
    parse_count,
    parse_percent,
    read_google,
    read_meta,
)
from tests.transparency.conftest import DATA

META = DATA / "meta"
GOOGLE = DATA / "google" / "google-global-user-data-requests.csv"


def meta_file(half: str):
    return read_meta(META / f"PRPL-Facebook-Government-Report-{half}.csv")


def test_the_quirky_files_really_are_quirky():
    raw = (META / "PRPL-Facebook-Government-Report-2019_H2.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\n" not in raw and raw.count(b"\r") > 200
    first = (META / "PRPL-Facebook-Government-Report-2019_H1.csv").read_text("utf-8-sig")
    assert first.startswith("Country,Content Restrictions,")  # a header of its own


@pytest.mark.parametrize(
    ("half", "requests", "accounts", "percent", "produced"),
    [
        # The table in data/README.md: Meta, Hong Kong.
        ("2019_H2", 241, 257, 46, 110),
        ("2020_H1", 262, 285, 24, 62),
        ("2020_H2", 202, 223, 0, 0),
        ("2021_H1", 152, 177, 0, 0),
    ],
)
def test_meta_hong_kong(half, requests, accounts, percent, produced):
    parsed = meta_file(half)
    assert parsed.period == half.replace("_", "-")
    hk = parsed.row("HK")
    assert hk.country == "Hong Kong"
    assert (hk.total.requests, hk.total.accounts, hk.total.percent, hk.total.produced) == (
        requests,
        accounts,
        percent,
        produced,
    )
    assert hk.total.requests == hk.legal_process.requests + hk.emergency.requests


def test_every_meta_file_parses_and_knows_its_countries():
    for path in sorted(META.glob("*.csv")):
        parsed = read_meta(path)
        assert len(parsed.rows) == 251, path.name
        assert {row.code for row in parsed.rows if not row.code} == set(), path.name
        us = parsed.row("US")
        assert us.process["Search Warrant"].requests and us.process["Search Warrant"].requests > 0


def test_meta_thousands_separators_and_blank_process_columns():
    us = meta_file("2020_H2").row("US")
    assert us.preservation_requests == 84284 and us.preservation_accounts == 144792
    assert us.legal_process.requests == 57905 and us.legal_process.percent == 89
    hk = meta_file("2020_H2").row("HK")
    assert hk.process["Search Warrant"].requests is None  # blank, not zero


def test_meta_contradictions_are_reported_not_fixed():
    parsed = meta_file("2021_H1")
    hk = parsed.row("HK")
    assert (hk.emergency.requests, hk.emergency.produced, hk.emergency.percent) == (2, 0, 100)
    assert (
        "Hong Kong 2021-H1: emergency: the percentage says 100% but 0 of 2 requests produced "
        "data" in parsed.problems
    )
    assert meta_file("2020_H2").problems == []


def test_google_hong_kong_and_quirks():
    rows = read_google(GOOGLE)
    assert len(rows) == 3456
    hk = {(r.period_ending, r.legal_process): r for r in rows if r.code == "HK"}
    emergency = hk[(date(2020, 12, 31), "Emergency Disclosure Requests")]
    legal = hk[(date(2020, 12, 31), "Other Legal Requests")]
    assert (emergency.requests, emergency.percent, emergency.accounts) == (1, 100, 1)
    assert (legal.requests, legal.percent, legal.accounts) == (42, 5, 46)
    preservation = hk[(date(2019, 12, 31), "Preservation Requests")]
    assert (preservation.requests, preservation.percent, preservation.accounts) == (1, None, 6)
    assert {"Türkiye", "Côte d\u2019Ivoire"} <= {r.country for r in rows}
    cloud = {r.legal_process for r in rows if r.process_key.startswith("cloud act")}
    assert {"CLOUD ACT - OPOs", "CLOUD Act - IPA CDRs"} == cloud
    assert any(r.requests is None for r in rows)  # a blank count is None, not 0
    assert {r.legal_process for r in rows if r.period_ending.year == 2010} == {"All"}


def test_headers_are_the_real_ones():
    assert GOOGLE.read_text("utf-8").splitlines()[0] == ",".join(GOOGLE_HEADER)
    real = (META / "PRPL-Facebook-Government-Report-2020_H2.csv").read_text("utf-8")
    assert real.splitlines()[0] == ",".join(
        f'"{name}"' if "," in name else name for name in META_HEADER
    )


def test_readers_name_what_is_wrong():
    with pytest.raises(ReaderError, match="not a Meta government-requests file: no column"):
        read_meta(GOOGLE)
    with pytest.raises(ReaderError, match="not a Google user-data-requests file"):
        read_google(META / "PRPL-Facebook-Government-Report-2020_H2.csv")
    with pytest.raises(ReaderError, match="line 2"):
        read_google(",".join(GOOGLE_HEADER) + "\n2020-12-31,X,XX,All,many,1,1\n")
    with pytest.raises(ReaderError, match="not UTF-8"):
        read_google(b"\xff\xfe\x00")


@pytest.mark.parametrize(
    ("text", "value"), [("24%", 24), (" 24 % ", 24), ("", None), ("23.5", 24), ("100%", 100)]
)
def test_parse_percent(text, value):
    assert parse_percent(text) == value


def test_parse_count_and_country_names():
    assert parse_count("65,839") == 65839
    assert parse_count(" ") is None
    assert country_code("Hong Kong") == "HK"
    assert country_code("Turkey") == country_code("Türkiye") == "TR"
    assert country_code("Côte d\u2019Ivoire") == country_code("Ivory Coast") == "CI"
    assert country_code("Atlantis") == ""
