"""User notices in the transparency report (counting rules 3, RDR P12): given during the period,
not possible during the period, delayed at its end by the reason in force then, and the share of
the delivered accounts told; in the body, the public page and govreq's own CSV and JSON; and
versions published before notices were counted still verify and still show.

The history (tests/transparency/history.py) leaves, when it is built: Hong Kong's H1 court order
told at once (3 accounts, 2020-H1); in H2 the trafficking warrant told at once (1), the
emergency's 2 notices delayed 90 days (to 14 December), the US gagged court order's 2 notices
delayed until the gag ends (1 April 2021), and the partial warrant's 1 notice told at once. No
worker ran in the history, so nothing else was sent: the tests run the sweep on the historical
clock.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.lifecycle import notifying
from govreq.notices.models import UserNotice
from govreq.transparency import services
from govreq.transparency.counting import NOTICE_DELAY_REASONS, report_compute
from govreq.transparency.exports import google_csv, meta_csv, own_csv, own_json
from govreq.transparency.models import PublishedReport
from govreq.transparency.periods import parse_period
from govreq.transparency.readers import read_google, read_meta, read_own_csv, read_own_json
from govreq.transparency.services import report_publish, report_verify
from tests.transparency.history import at

H1_2020 = parse_period("2020-H1")
H2_2020 = parse_period("2020-H2")
H1_2021 = parse_period("2021-H1")
H2_END = H2_2020.end  # 2021-01-01T00:00Z: the cut-off of 2020-H2, the start of 2021-H1
GAG_ENDS = datetime(2021, 4, 1, tzinfo=UTC)  # the US order's gag expires on 31 March 2021
WORKER = Actor.system("worker")
NO_REASON = {"GAG_ORDER": 0, "EMERGENCY": 0, "CHILD_SAFETY": 0, "AGENCY_REQUEST": 0}


def sweep(now: datetime) -> notifying.NoticesSwept:
    """The worker's notices job, run for ``now``."""
    return notifying.notices_sweep(actor=WORKER, now=now)


def notices(period, code: str) -> dict[str, Any]:
    body = report_compute(period=period, now=timezone.now())
    entries = {entry["code"]: entry for entry in [body["total"], *body["jurisdictions"]]}
    return entries[code]["user_notices"]


def delayed(**reasons: int) -> dict[str, int]:
    return NO_REASON | reasons


def test_the_history_as_built(history):
    h1 = notices(H1_2020, "HK")
    assert (
        h1["given"],
        h1["delayed"],
        h1["delivered_accounts"],
        h1["delivered_accounts_told"],
    ) == (
        3,
        0,
        3,
        3,
    )
    hk, us = notices(H2_2020, "HK"), notices(H2_2020, "US")
    assert (hk["given"], hk["delayed_by_reason"]) == (1, delayed(EMERGENCY=2))
    assert (us["given"], us["delayed_by_reason"]) == (1, delayed(GAG_ORDER=2))
    assert (us["delivered_accounts"], us["delivered_accounts_told"]) == (3, 1)
    total = notices(H2_2020, "ALL")
    assert total == {
        "given": 2,
        "not_possible": 0,
        "delayed": 4,
        "delayed_by_reason": delayed(GAG_ORDER=2, EMERGENCY=2),
        "delivered_accounts": 6,
        "delivered_accounts_told": 2,
        "delivered_accounts_told_percent": 33,
    }


def test_a_gagged_notice_is_delayed_while_the_gag_is_in_force_and_given_when_it_is_sent(history):
    sweep(at(12, 15))  # the emergency's 90 days ended on 14 December: told in 2020-H2
    assert sweep(GAG_ENDS - timedelta(microseconds=1)).sent == []  # the gag's last instant
    sent = sweep(GAG_ENDS).sent  # the first instant after it: told in 2021-H1
    gagged = UserNotice.objects.filter(request=history.refs["us_produced"])
    assert sorted(sent) == sorted(gagged.values_list("pk", flat=True)) and len(sent) == 2

    us_h2 = notices(H2_2020, "US")
    assert us_h2["given"] == 1  # the partial warrant's, at collection
    assert us_h2["delayed"] == 2 and us_h2["delayed_by_reason"] == delayed(GAG_ORDER=2)
    # Of the 3 accounts delivered for requests received in H2, 1 was told by its end.
    assert (us_h2["delivered_accounts"], us_h2["delivered_accounts_told"]) == (3, 1)
    assert us_h2["delivered_accounts_told_percent"] == 33

    us_h1 = notices(H1_2021, "US")
    assert us_h1["given"] == 2 and us_h1["delayed"] == 0  # given in the period it was sent
    assert us_h1["delivered_accounts"] == 0  # no request received in 2021-H1 delivered data

    hk_h2 = notices(H2_2020, "HK")
    assert hk_h2["given"] == 3 and hk_h2["delayed"] == 0  # the emergency's two, in December
    assert hk_h2["delivered_accounts_told_percent"] == 100
    assert notices(H1_2021, "HK")["given"] == 0  # each notice is given in one period only
    total = notices(H2_2020, "ALL")
    assert (total["given"], total["delayed"], total["delivered_accounts_told_percent"]) == (
        4,
        2,
        67,
    )


@pytest.mark.parametrize(
    ("sent_at", "given_in_h2", "given_in_2021_h1", "still_delayed_in_h2"),
    [
        (H2_END - timedelta(microseconds=1), 2, 0, 0),  # the last instant of 2020-H2
        (H2_END, 0, 2, 2),  # the cut-off itself belongs to 2021-H1
    ],
)
def test_a_notice_sent_at_the_boundary_counts_in_one_period(
    history, sent_at, given_in_h2, given_in_2021_h1, still_delayed_in_h2
):
    assert len(sweep(sent_at).sent) == 2  # the emergency's notices
    hk_h2, hk_h1 = notices(H2_2020, "HK"), notices(H1_2021, "HK")
    assert hk_h2["given"] == 1 + given_in_h2
    assert hk_h2["delayed_by_reason"] == delayed(EMERGENCY=still_delayed_in_h2)
    assert hk_h2["delivered_accounts_told"] == 1 + given_in_h2
    assert hk_h1["given"] == given_in_2021_h1
    assert hk_h1["delayed"] == 0


def test_without_an_address_a_notice_is_not_possible_in_the_period_it_was_found_so(
    history, settings
):
    working = settings.DATA_SOURCE_CONFIG
    no_address = working.with_name("no-address.toml")
    no_address.write_text(
        working.read_text().replace(
            "SELECT email, language FROM accounts WHERE id = :account",
            "SELECT email, language FROM accounts "
            "WHERE id = :account AND username <> 'girl_on_bridge'",
        )
    )
    settings.DATA_SOURCE_CONFIG = no_address
    swept = sweep(H2_END)  # at the cut-off: found in 2021-H1
    assert (len(swept.sent), len(swept.not_possible)) == (1, 1)
    hk_h2, hk_h1 = notices(H2_2020, "HK"), notices(H1_2021, "HK")
    assert (hk_h2["not_possible"], hk_h2["delayed"]) == (0, 2)
    assert (hk_h1["given"], hk_h1["not_possible"], hk_h1["delayed"]) == (1, 1, 0)
    assert notices(parse_period("2021-H2"), "HK")["not_possible"] == 0  # counted once


def test_the_reason_is_the_one_in_force_at_the_cut_off(history):
    """Delayed again later for another reason, a notice still counts under the reason that
    applied at the end of an earlier period (each delaying event keeps its reason)."""
    rita = history.actor("rita")
    notice = UserNotice.objects.filter(request=history.refs["hk_emergency"]).first()
    assert notice is not None and notice.delay_reason == "EMERGENCY"
    later = H2_END + timedelta(days=10)
    notifying.notice_delay_end(
        actor=rita, notice=notice, reason="The kidnapper was arrested", now=later
    )
    notifying.notice_delay(
        actor=rita,
        notice=notice,
        until=None,
        reason="The agency asked us to wait for a second arrest",
        now=later + timedelta(hours=1),
    )
    notice.refresh_from_db()
    assert (notice.status, notice.delay_reason) == ("DELAYED", "AGENCY_REQUEST")
    assert notices(H2_2020, "HK")["delayed_by_reason"] == delayed(EMERGENCY=2)
    assert notices(H1_2021, "HK")["delayed_by_reason"] == delayed(EMERGENCY=1, AGENCY_REQUEST=1)


def test_banded_national_security_notices_are_left_out(history):
    before = notices(H2_2020, "ALL")
    history.produce(history.refs["us_national_security"], at(12, 1), escalate=True)
    opened = UserNotice.objects.filter(request=history.refs["us_national_security"])
    assert opened.count() == 2 and {n.status for n in opened} == {"SENT"}
    assert notices(H2_2020, "ALL") == before
    assert notices(H2_2020, "US")["given"] == 1


def test_the_report_stays_a_fixed_number_of_queries_however_many_notices(history):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            report_compute(period=H2_2020, now=timezone.now())
        return len(captured)

    before = queries()
    sweep(at(12, 15))
    sweep(GAG_ENDS)
    assert queries() == before


# --- Every format agrees -------------------------------------------------------------------------


def notice_rows(rows: list[dict[str, Any]], code: str) -> dict[str, dict[str, Any]]:
    return {
        row["category"]: row
        for row in rows
        if row["jurisdiction"] == code and row["category"].startswith("user_notices:")
    }


def expected_rows(entry: dict[str, Any]) -> dict[str, tuple[int | None, int | None]]:
    """category -> (accounts, share_percent), as the body says."""
    counted = entry["user_notices"]
    expected: dict[str, tuple[int | None, int | None]] = {
        "user_notices:given": (counted["given"], None),
        "user_notices:not_possible": (counted["not_possible"], None),
        "user_notices:delayed": (counted["delayed"], None),
        "user_notices:delivered_accounts": (counted["delivered_accounts"], None),
        "user_notices:delivered_accounts_told": (
            counted["delivered_accounts_told"],
            counted["delivered_accounts_told_percent"],
        ),
    }
    for reason, count in counted["delayed_by_reason"].items():
        expected[f"user_notices:delayed:{reason}"] = (count, None)
    return expected


def notices_table(html: str) -> list[str]:
    """The cells of the page's first user-notice table (the total's), in order."""
    found = re.search(r'<table class="report notices">(.*?)</table>', html, re.S)
    assert found, "no user-notice table"
    return [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def test_every_export_and_the_page_agree_with_the_body(history):
    sweep(at(12, 15))
    report = report_publish(actor=history.actor("pat"), period="2020-H2", now=timezone.now())
    body = PublishedReport.objects.get(pk=report.pk).body  # as stored (jsonb sorts its keys)
    entries = [body["total"], *body["jurisdictions"]]
    client = Client()
    csv_rows = read_own_csv(client.get("/transparency/2020-H2/report.csv").getvalue())
    header, json_rows = read_own_json(client.get("/transparency/2020-H2/report.json").getvalue())
    assert header["counting_rules"] == 3
    assert csv_rows == json_rows
    assert csv_rows == read_own_csv("".join(own_csv(body, version=1)))
    assert read_own_json("".join(own_json(body)))[1] == read_own_csv("".join(own_csv(body)))
    for entry in entries:
        expected = expected_rows(entry)
        for rows in (csv_rows, json_rows):
            got = notice_rows(rows, entry["code"])
            assert {k: (r["accounts"], r["share_percent"]) for k, r in got.items()} == expected
            assert all(r["requests"] is None for r in got.values())
    assert notice_rows(csv_rows, "US")["user_notices:delayed:GAG_ORDER"]["accounts"] == 2

    total = body["total"]["user_notices"]
    cells = [
        total["given"],
        total["delayed"],
        *(total["delayed_by_reason"][reason] for reason in NOTICE_DELAY_REASONS),
        total["not_possible"],
        total["delivered_accounts"],
        total["delivered_accounts_told"],
    ]
    for lang, told, caption in (
        ("en", "Told during the period", "Telling account holders (user notice)"),
        ("zh-hant", "期內已通知", "通知帳戶持有人（用戶通知）"),
    ):
        html = client.get(f"/transparency/2020-H2/?lang={lang}").content.decode()
        assert told in html and caption in html
        shown = [cell for cell in notices_table(html) if cell]
        assert shown == [str(n) for n in cells] + [f"{total['delivered_accounts_told_percent']}%"]
    us_page = client.get("/transparency/2020-H2/US/").content.decode()
    us = body["jurisdictions"][1]["user_notices"]
    assert us_page.count('<table class="report notices">') == 1
    assert notices_table(us_page)[0] == str(us["given"])

    # Meta's and Google's layouts have no such columns: unchanged, and still read back.
    assert "notice" not in "".join(meta_csv(body)).lower()
    assert "notice" not in "".join(google_csv(body)).lower()
    assert len(read_meta("".join(meta_csv(body))).rows) == len(body["jurisdictions"])
    assert read_google("".join(google_csv(body)))


# --- Versions published before notices were counted -----------------------------------------------


def without_notices(body: dict[str, Any]) -> dict[str, Any]:
    """A body as counting rules 2 computed it: no user notices anywhere."""
    old = json.loads(json.dumps(body))
    old["counting_rules"] = 2
    for entry in [old["total"], *old["jurisdictions"]]:
        del entry["user_notices"]
    return old


def test_a_version_published_before_notices_were_counted_still_verifies_and_shows(
    history, monkeypatch
):
    with monkeypatch.context() as patched:
        patched.setattr(
            services, "report_compute", lambda **kwargs: without_notices(report_compute(**kwargs))
        )
        old = report_publish(actor=history.actor("pat"), period="2020-H2", now=timezone.now())
    assert "user_notices" not in old.body["total"]
    assert [v.problems for v in report_verify(period="2020-H2")] == [[]]

    client = Client()
    page = client.get("/transparency/2020-H2/").content.decode()
    assert "Telling account holders" not in page and "Some data produced" in page
    assert client.get("/transparency/2020-H2/US/").status_code == 200
    rows = read_own_csv(client.get("/transparency/2020-H2/report.csv").getvalue())
    assert rows and not any(r["category"].startswith("user_notices:") for r in rows)
    header, _ = read_own_json(client.get("/transparency/2020-H2/report.json").getvalue())
    assert header["counting_rules"] == 2

    # A correction under the new rules adds the notices, says so, and both versions verify.
    new = report_publish(
        actor=history.actor("pat"),
        period="2020-H2",
        now=timezone.now(),
        note="User notices are now counted (counting rules 3)",
    )
    assert new.version == 2 and new.body["total"]["user_notices"]["delayed"] == 4
    changed = {(c["jurisdiction"], c["field"]): (c["old"], c["new"]) for c in new.changes}
    assert changed[("", "counting_rules")] == (2, 3)
    assert changed[("US", "user_notices.delayed_by_reason.GAG_ORDER")] == (None, 2)
    assert [v.problems for v in report_verify(period="2020-H2")] == [[], []]
    assert "Telling account holders" in client.get("/transparency/2020-H2/").content.decode()
    assert "Telling account holders" not in (
        client.get("/transparency/2020-H2/?version=1").content.decode()
    )
