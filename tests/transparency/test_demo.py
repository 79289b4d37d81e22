"""The demo data set's Hong Kong story, as the 2020-H2 report tells it."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from django.core.management import call_command
from django.test import Client

from govreq.agencies.models import FraudFlag
from govreq.audit.models import AuditEvent
from govreq.demo.loader import HK_HOLD_AT, HK_HOLD_REASON, demo_load
from govreq.holds.models import JurisdictionHold
from govreq.intake.models import LegalRequest
from govreq.review.models import FollowUpObligation
from govreq.transparency.models import PublishedReport
from govreq.transparency.periods import parse_period
from govreq.transparency.readers import read_google, read_meta, read_own_csv
from govreq.transparency.selectors import jurisdiction_entry
from govreq.transparency.services import report_verify
from tests.transparency.test_exports import (
    download,
    from_google,
    from_meta,
    from_own_rows,
    headline,
)

H2 = parse_period("2020-H2")


def test_hong_kong_2020_h2_on_the_demo_data(db):
    assert demo_load() > 0
    _emergencies_were_called_back_and_followed_up()
    hong_kong = LegalRequest.objects.filter(
        jurisdiction_id="HK", received_at__gte=H2.start, received_at__lt=H2.end
    ).exclude(kind="PRESERVATION")
    # Through the exception path: decided FULL, with the human-rights officer's approval,
    # approved or closed by the end of the period.
    exceptions = {
        request.pk
        for request in hong_kong
        if request.decisions.filter(
            superseded_at__isnull=True,
            outcome="FULL",
            approvals__kind="HUMAN_RIGHTS",
            decided_at__lt=H2.end,
        ).exists()
        and request.status_changes.filter(to_status="APPROVED", occurred_at__lt=H2.end).exists()
    }
    assert exceptions, "the demo sends trafficking warrants and an emergency through the hold"
    assert all(r.received_at >= HK_HOLD_AT for r in hong_kong)

    # The demo publishes every ended half-year; 2020-H2 is the latest version of its period.
    report = PublishedReport.objects.filter(period="2020-H2").order_by("-version").first()
    assert report is not None
    hk = jurisdiction_entry(report.body, "HK")
    assert hk["requests"] == hong_kong.count()
    assert hk["data_produced"] == len(exceptions)
    assert hk["data_produced"] < hk["requests"]
    (hold,) = hk["holds"]
    assert hold["reason"] == HK_HOLD_REASON
    assert hold["data_produced"] == len(exceptions)
    assert hold["held_requests"] == hk["held_requests"] > 0

    # The same numbers in every format, and on the public page.
    client = Client()
    expected = headline(hk)
    text, _ = download(client, "csv")
    assert from_own_rows(read_own_csv(text), "HK") == expected
    text, filename = download(client, "meta.csv")
    assert read_meta(text, name=filename).row("HK").total.produced == len(exceptions)
    assert from_meta(text, filename, "HK") == expected
    text, _ = download(client, "google.csv")
    assert read_google(text)
    assert from_google(text, "HK") == expected
    html = client.get("/transparency/2020-H2/HK/").content.decode()
    assert HK_HOLD_REASON in html
    assert all(result.ok for result in report_verify(period="2020-H2"))

    _the_pause_tells_the_published_story(hk)
    _deliveries_in_early_july_a_back_test_would_stop()


README = Path(__file__).resolve().parents[2] / "README.md"


def _the_pause_tells_the_published_story(hk: dict) -> None:
    """What the platforms published for Hong Kong: a busy first half of 2020 answered as usual,
    then nearly everything held, data produced only through the narrow exceptions (Google: 3 of
    43, 7%); and the README tells the same numbers."""
    assert hk["requests"] >= 40
    share = hk["data_produced"] / hk["requests"]
    assert share < 0.15, share
    assert hk["held_requests"] >= 0.85 * hk["requests"]
    first_half = jurisdiction_entry(
        PublishedReport.objects.filter(period="2020-H1").order_by("-version").first().body, "HK"
    )
    assert first_half["data_produced"] / first_half["requests"] > 0.5
    percent = round(100 * share)
    readme = " ".join(README.read_text().split())
    claim = (
        f"{hk['requests']} Hong Kong requests in the second half of 2020, "
        f"{hk['held_requests']} still on hold at its end, data produced for "
        f"{hk['data_produced']} ({percent}%)"
    )
    assert claim in readme, claim
    produced, asked = first_half["data_produced"], first_half["requests"]
    percent = round(100 * produced / asked)
    before = f"{asked} in the first half, data produced for {produced} ({percent}%)"
    assert before in readme, before
    assert re.search(r"below 15%", readme)


def _deliveries_in_early_july_a_back_test_would_stop() -> None:
    """The hold covers requests received from its start: requests received under the old law a
    few days before were delivered on the first days of July, which a hold on every open
    request from 23:00 HKT would have stopped."""
    (hold,) = JurisdictionHold.objects.filter(jurisdiction_id="HK")
    assert hold.received_from_start and hold.effective_from == HK_HOLD_AT
    delivered = LegalRequest.objects.filter(
        jurisdiction_id="HK",
        received_at__lt=HK_HOLD_AT,
        status_changes__to_status="DELIVERED",
        status_changes__occurred_at__gte=HK_HOLD_AT,
        status_changes__occurred_at__lt=datetime(2020, 7, 6, tzinfo=UTC),
    ).distinct()
    assert delivered.count() >= 2
    # The back-test, as counsel would run it, lists exactly those deliveries among what it would
    # have stopped, with the numbers beside the published ones, and changes nothing.
    before = (LegalRequest.objects.count(), AuditEvent.objects.order_by("-seq").first().hash)
    out = io.StringIO()
    call_command(
        "backtest",
        "--hold",
        "HK",
        "--from",
        "2020-06-30 23:00 Asia/Hong_Kong",
        "--window",
        "2020-01-01..2021-06-30",
        "--format",
        "json",
        stdout=out,
    )
    result = json.loads(out.getvalue())
    stopped_in_july = {
        row["reference"]
        for row in result["requests"]
        if row["stopped_delivery_at"] and row["stopped_delivery_at"] < "2020-07-06"
    }
    assert stopped_in_july == {request.reference for request in delivered}
    second_half = next(h for h in result["headlines"] if h["period"] == "2020-H2")
    assert second_half["published"] == second_half["recorded"]
    assert second_half["alternative"]["data_produced"] < second_half["published"]["data_produced"]
    assert (LegalRequest.objects.count(), AuditEvent.objects.order_by("-seq").first().hash) == (
        before
    )


def _emergencies_were_called_back_and_followed_up() -> None:
    """Every approved emergency in the demo was confirmed on a call-back to a verified number;
    its legal process followed in time, late (flagged when due, linked when it came), or never
    (flagged)."""
    for obligation in FollowUpObligation.objects.select_related("emergency"):
        emergency = obligation.emergency
        call = emergency.call_backs.get()
        assert call.outcome == "CONFIRMED" and call.contact.agency_id == emergency.agency_id
        flagged = FraudFlag.objects.filter(
            kind="FOLLOW_UP_MISSED", request_reference=emergency.reference
        ).exists()
        assert flagged == (obligation.missed_at is not None)
        assert obligation.fulfilled_by is not None or obligation.missed_at is not None
    outcomes = {
        (o.fulfilled_by is not None, o.missed_at is not None)
        for o in FollowUpObligation.objects.all()
    }
    assert outcomes == {(True, False), (True, True)}  # in time, and late (flagged when due)
