"""Exports: govreq's own CSV and JSON, Meta's and Google's layouts, read back by the same readers
that read the real published files."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.utils import timezone

from govreq.transparency.counting import report_compute
from govreq.transparency.exports import OWN_COLUMNS, google_csv, meta_csv, own_csv, own_json
from govreq.transparency.periods import parse_period
from govreq.transparency.readers import read_google, read_meta, read_own_csv, read_own_json
from govreq.transparency.selectors import jurisdiction_entry
from govreq.transparency.services import report_publish
from tests.transparency.history import HOLD_REASON

H2 = parse_period("2020-H2")


def headline(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "requests": entry["requests"],
        "accounts": entry["accounts"],
        "data_produced": entry["data_produced"],
        "percent": entry["data_produced_percent"],
        "legal_process": entry["legal_process"]["requests"],
        "legal_percent": entry["legal_process"]["data_produced_percent"],
        "emergency": entry["emergency"]["requests"],
        "emergency_percent": entry["emergency"]["data_produced_percent"],
        "preservation": entry["preservation"]["requests"],
    }


def from_own_rows(rows: list[dict[str, Any]], code: str) -> dict[str, Any]:
    mine = {row["category"]: row for row in rows if row["jurisdiction"] == code}
    return {
        "requests": mine["requests"]["requests"],
        "accounts": mine["requests"]["accounts"],
        "data_produced": mine["requests"]["data_produced"],
        "percent": mine["requests"]["data_produced_percent"],
        "legal_process": mine["legal_process"]["requests"],
        "legal_percent": mine["legal_process"]["data_produced_percent"],
        "emergency": mine["emergency"]["requests"],
        "emergency_percent": mine["emergency"]["data_produced_percent"],
        "preservation": mine["preservation"]["requests"],
    }


def from_meta(text: str, filename: str, code: str) -> dict[str, Any]:
    parsed = read_meta(text, name=filename)
    assert parsed.period == "2020-H2" and parsed.problems == []
    row = parsed.row(code)
    return {
        "requests": row.total.requests,
        "accounts": row.total.accounts,
        "data_produced": row.total.produced,
        "percent": row.total.percent,
        "legal_process": row.legal_process.requests,
        "legal_percent": row.legal_process.percent,
        "emergency": row.emergency.requests,
        "emergency_percent": row.emergency.percent,
        "preservation": row.preservation_requests,
    }


def from_google(text: str, code: str) -> dict[str, Any]:
    rows = {r.legal_process: r for r in read_google(text) if r.code == code}
    assert {r.period_ending.isoformat() for r in rows.values()} == {"2020-12-31"}
    legal, emergency = rows["Other Legal Requests"], rows["Emergency Disclosure Requests"]
    preservation = rows.get("Preservation Requests")
    assert legal.requests is not None and emergency.requests is not None
    assert legal.accounts is not None and emergency.accounts is not None
    requests = legal.requests + emergency.requests
    # Google publishes percentages, not counts: the count is what the percentage says.
    produced = round((legal.percent or 0) * legal.requests / 100) + round(
        (emergency.percent or 0) * emergency.requests / 100
    )
    return {
        "requests": requests,
        "accounts": legal.accounts + emergency.accounts,
        "data_produced": produced,
        "percent": round(100 * produced / requests),
        "legal_process": legal.requests,
        "legal_percent": legal.percent,
        "emergency": emergency.requests,
        "emergency_percent": emergency.percent,
        "preservation": preservation.requests if preservation else 0,
    }


def download(client: Client, suffix: str) -> tuple[str, str]:
    response = client.get(f"/transparency/2020-H2/report.{suffix}")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    filename = disposition.split('filename="')[1].rstrip('"')
    return b"".join(response.streaming_content).decode("utf-8"), filename


def test_the_same_numbers_in_every_format(history):
    """Hong Kong, 2020-H2, under the hold with its exception path: the report body, govreq's
    CSV and JSON, Meta's layout (Meta reader) and Google's layout (Google reader) agree."""
    report = report_publish(actor=history.actor("pat"), period="2020-H2", now=timezone.now())
    hk = jurisdiction_entry(report.body, "HK")
    expected = headline(hk)
    assert expected == {
        "requests": 5,
        "accounts": 10,
        "data_produced": 2,
        "percent": 40,
        "legal_process": 4,
        "legal_percent": 25,
        "emergency": 1,
        "emergency_percent": 100,
        "preservation": 0,
    }
    client = Client()
    text, _ = download(client, "csv")
    assert from_own_rows(read_own_csv(text), "HK") == expected
    text, _ = download(client, "json")
    header, rows = read_own_json(text)
    assert header["version"] == 1 and header["body_sha256"] == report.body_sha256
    assert from_own_rows(rows, "HK") == expected
    text, filename = download(client, "meta.csv")
    assert from_meta(text, filename, "HK") == expected
    text, _ = download(client, "google.csv")
    assert from_google(text, "HK") == expected
    # And the hold's public reason travels with the numbers.
    hold_rows = [r for r in rows if r["jurisdiction"] == "HK" and r["category"].startswith("hold:")]
    assert hold_rows[0]["note"] == HOLD_REASON and hold_rows[0]["data_produced"] == 2


def test_every_jurisdiction_round_trips_through_the_platform_readers(history):
    body = report_compute(period=H2, now=timezone.now())
    meta = read_meta("".join(meta_csv(body)), name="x-2020_H2.csv")
    google = read_google("".join(google_csv(body)))
    for entry in body["jurisdictions"]:
        row = meta.row(entry["code"])
        assert row.country == entry["name"]
        assert (row.total.requests, row.total.produced, row.total.accounts) == (
            entry["requests"],
            entry["data_produced"],
            entry["accounts"],
        )
        assert row.preservation_requests == entry["preservation"]["requests"]
        assert (
            row.process["Search Warrant"].requests == entry["by_kind"]["SEARCH_WARRANT"]["requests"]
        )
        mine = [r for r in google if r.code == entry["code"]]
        assert (
            sum(r.requests or 0 for r in mine if r.legal_process != "Preservation Requests")
            == (entry["requests"])
        )
    us_preservation = [r for r in google if r.code == "US" and r.process_key.startswith("pres")]
    assert [(r.requests, r.percent, r.accounts) for r in us_preservation] == [(1, None, 1)]


def test_own_csv_has_one_row_per_jurisdiction_per_category(history):
    body = report_compute(period=H2, now=timezone.now())
    rows = read_own_csv("".join(own_csv(body, version=None)))
    assert list(rows[0]) == list(OWN_COLUMNS)
    keys = [(r["jurisdiction"], r["category"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["period"] for r in rows} == {"2020-H2"}
    categories = {r["category"] for r in rows if r["jurisdiction"] == "US"}
    assert {
        "requests",
        "legal_process",
        "emergency",
        "preservation",
        "kind:SUBPOENA",
        "outcome:REJECTED",
        "rejection_reason:OVERBROAD",
        "content:disclosed_content",
        "gag_order",
        "held",
        "national_security:requests",
    } <= categories
    us = {r["category"]: r for r in rows if r["jurisdiction"] == "US"}
    assert us["national_security:requests"]["band"] == "0-249"
    assert us["gag_order"]["share_percent"] == 17
    assert us["outcome:PENDING"]["requests"] == 1
    all_rows = [r for r in rows if r["jurisdiction"] == "ALL"]
    assert all_rows[0]["category"] == "requests" and all_rows[0]["requests"] == 11


def test_json_streams_valid_json_for_a_draft(history):
    body = report_compute(period=H2, now=timezone.now())
    chunks = list(own_json(body))
    assert len(chunks) > 10  # written row by row
    header, rows = read_own_json("".join(chunks))
    assert header["draft"] is True and header["version"] is None
    assert header["format"] == "govreq-transparency-export/1"
    assert len(rows) == len(list(read_own_csv("".join(own_csv(body)))))


def test_non_ascii_names_survive(history, db):
    from govreq.jurisdictions.models import Jurisdiction

    Jurisdiction.objects.filter(code="HK").update(name="Hong Kong (香港), Côte")
    body = report_compute(period=H2, now=timezone.now())
    meta = read_meta("".join(meta_csv(body)).encode("utf-8"), name="2020_H2")
    assert meta.row("US").country == "United States"
    assert any(row.country == "Hong Kong (香港), Côte" for row in meta.rows)
    google = read_google("".join(google_csv(body)).encode("utf-8"))
    assert {r.country for r in google if r.code == "HK"} == {"Hong Kong (香港), Côte"}
