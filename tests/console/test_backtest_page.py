"""The console's back-test page: the same replay as `govreq backtest`, for policy admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.console.test_console import signed_in, staff  # noqa: F401 - the fixture
from tests.review_helpers import approve, deliver, submit_received

pytestmark = pytest.mark.django_db


def _query(start, **extra):
    zone_wall = timezone.localtime(start).strftime("%Y-%m-%dT%H:%M")
    return {
        "jurisdiction": "HK",
        "effective_from": zone_wall,
        "time_zone": str(timezone.get_current_timezone()),
        "window_start": str((start - timedelta(days=5)).date()),
        "window_end": str(start.date()),
        **extra,
    }


def test_a_policy_admin_sees_the_delivery_the_hold_would_have_stopped(platform, staff, chan):  # noqa: F811
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    late = submit_received(chan, 2)
    deliver(approve(late, staff), staff, chan)
    pat = signed_in(staff, "pat")
    page = pat.get("/console/holds/backtest", _query(start))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="backtest-totals"' in html
    assert "1 delivery would not have happened (4 accounts)." in html
    assert f'href="/console/requests/{late.public_id}">{late.reference}</a>' in html
    assert "USERNAME:scammer_hk" in html
    assert 'data-testid="backtest-headline"' in html
    csv = pat.get("/console/holds/backtest", {**_query(start), "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert late.reference in csv.content.decode()


def test_bad_window_is_named_and_reviewers_may_not_back_test(staff):  # noqa: F811
    pat = signed_in(staff, "pat")
    start = timezone.now()
    page = pat.get(
        "/console/holds/backtest",
        _query(start, window_start=str(start.date()), window_end="2020-01-01"),
    )
    assert "must end after it starts" in page.content.decode()
    assert 'data-testid="backtest-totals"' not in page.content.decode()
    rita = signed_in(staff, "rita")
    assert rita.get("/console/holds/backtest").status_code == 403
