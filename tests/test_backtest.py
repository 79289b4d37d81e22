"""The back-test (govreq backtest) and the hold preview: one replay engine, read-only."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from govreq.audit.models import AuditEvent
from govreq.backtest.engine import Backtest
from govreq.backtest.inputs import backtest_prepare, window_parse
from govreq.backtest.policy import PolicyBacktest, policy_alternative
from govreq.core.errors import ValidationFailed
from govreq.holds import replay as engine
from govreq.holds.rules import HoldSpec, RequestScope
from govreq.holds.selectors import hold_preview
from govreq.intake.models import LegalRequest
from govreq.lifecycle import reviewing
from govreq.policy.selectors import policy_current, policy_document_of
from govreq.transparency.counting import report_compute
from govreq.transparency.periods import half_year_containing
from govreq.transparency.selectors import jurisdiction_entry
from tests.conftest import SYSTEM
from tests.hold_helpers import hold_place
from tests.review_helpers import (
    EMERGENCY,
    Staff,
    approve,
    deliver,
    make_staff,
    submit_received,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2020, 6, 30, 15, 0, tzinfo=UTC)


# --- The pure engine -----------------------------------------------------------------------------


def _history(received: datetime, steps: list[tuple[int, str]], **scope: Any) -> engine.History:
    """A request received at ``received`` whose steps come ``hours`` after its receipt."""
    return engine.History(
        id=1,
        reference="GR-1",
        scope=RequestScope(
            jurisdiction=scope.get("jurisdiction", "HK"),
            kind=scope.get("kind", "COURT_ORDER"),
            offence_category=scope.get("offence", "FRAUD"),
            agency_id=1,
            legal_basis="",
            received_at=received,
        ),
        steps=tuple(
            engine.Step(at=received + timedelta(hours=h), to_status=s)
            for h, s in [(0, "RECEIVED"), *steps]
        ),
    )


HOLD = HoldSpec(id=0, jurisdiction="HK", effective_from=T0)
DELIVERED_LIFE = [(1, "IN_REVIEW"), (2, "DECIDED"), (3, "APPROVED"), (4, "PRODUCED")]
DELIVERED_LIFE += [(5, "DELIVERED"), (6, "CLOSED")]


def test_a_delivery_after_the_hold_reached_the_request_is_stopped() -> None:
    history = _history(T0 - timedelta(minutes=90), DELIVERED_LIFE)  # in review at T0
    result = engine.replay(HOLD, history, placed_at=T0, until=T0 + timedelta(days=30))
    assert result.held and result.reached_at == T0 and result.status_when_reached == "IN_REVIEW"
    assert [s.to_status for s in result.stopped] == [
        "DECIDED",
        "APPROVED",
        "PRODUCED",
        "DELIVERED",
        "CLOSED",
    ]
    assert result.stopped_deliveries[0].at == T0 + timedelta(minutes=210)
    assert result.flagged_at is None


def test_a_request_closed_before_the_hold_is_untouched_and_received_later_is_held_at_once() -> None:
    closed = _history(T0 - timedelta(hours=10), DELIVERED_LIFE)
    result = engine.replay(HOLD, closed, placed_at=T0, until=T0 + timedelta(days=1))
    assert not result.affected and result.reached_at is None
    later = _history(T0 + timedelta(days=2), DELIVERED_LIFE)
    result = engine.replay(HOLD, later, placed_at=T0, until=T0 + timedelta(days=30))
    assert result.held and result.reached_at == later.scope.received_at


def test_placed_late_it_flags_the_approvals_it_can_no_longer_stop() -> None:
    history = _history(T0 + timedelta(hours=1), DELIVERED_LIFE)  # approved at T0 + 4 h
    placed = T0 + timedelta(days=3)
    result = engine.replay(HOLD, history, placed_at=placed, until=placed)
    assert result.flagged_at == T0 + timedelta(hours=4)
    assert not result.held and not result.stopped  # closed before the hold was placed


def test_exceptions_and_scope() -> None:
    emergency = _history(T0 + timedelta(hours=1), DELIVERED_LIFE, kind="EMERGENCY")
    allowing = HoldSpec(id=0, jurisdiction="HK", effective_from=T0, allow_emergency=True)
    result = engine.replay(allowing, emergency, placed_at=T0, until=T0 + timedelta(days=9))
    assert result.excepted and not result.held and not result.stopped
    elsewhere = _history(T0 + timedelta(hours=1), DELIVERED_LIFE, jurisdiction="US")
    assert not engine.replay(HOLD, elsewhere, placed_at=T0, until=T0).covered
    before = _history(T0 - timedelta(hours=1), [(1, "IN_REVIEW")])
    from_start = HoldSpec(id=0, jurisdiction="HK", effective_from=T0, received_from_start=True)
    result = engine.replay(from_start, before, placed_at=T0, until=T0 + timedelta(days=1))
    assert not result.covered and result.received_before_start


STATUSES = ["IN_REVIEW", "DECIDED", "APPROVED", "PRODUCED", "DELIVERED", "ON_HOLD", "WITHDRAWN"]


@settings(max_examples=300, deadline=None)
@given(
    received=st.integers(-200, 200),
    gaps=st.lists(st.tuples(st.integers(1, 50), st.sampled_from(STATUSES)), max_size=8),
    placed=st.integers(0, 300),
    end=st.one_of(st.none(), st.integers(1, 400)),
)
def test_engine_invariants(
    received: int, gaps: list[tuple[int, str]], placed: int, end: int | None
) -> None:
    """Whatever the history: nothing is stopped before the hold reached the request or after it
    ended; a held request was open when reached; a flagged approval lies inside the hold's
    period and before the hold reached it."""
    hours, steps = 0, []
    for gap, status in gaps:
        hours += gap
        steps.append((hours, status))
    history = _history(T0 + timedelta(hours=received), steps)
    hold = HoldSpec(
        id=0,
        jurisdiction="HK",
        effective_from=T0,
        effective_to=T0 + timedelta(hours=end) if end else None,
    )
    until = T0 + timedelta(hours=600)
    result = engine.replay(hold, history, placed_at=T0 + timedelta(hours=placed), until=until)
    if result.reached_at is not None:
        assert result.reached_at >= max(T0 + timedelta(hours=placed), T0)
        assert engine.status_at(history.steps, result.reached_at) not in engine.FINAL
        for step in result.stopped:
            assert result.reached_at < step.at
            assert hold.effective_to is None or step.at < hold.effective_to
            assert step.to_status not in engine.NOT_STOPPED
    else:
        assert not result.stopped and not result.held
    if result.flagged_at is not None:
        assert result.flagged_at >= T0
        assert result.reached_at is None or result.flagged_at < result.reached_at


# --- Preview and placement agree (the same engine) ----------------------------------------------


def _mixed_requests(chan: Any, rivera: Any, staff: Staff) -> dict[str, LegalRequest]:
    made = {
        "delivered": submit_received(chan, 2),
        "approved": submit_received(chan, 2),
        "open": submit_received(chan, 2),
        "emergency": submit_received(chan, 2, document=False, **EMERGENCY),
        "elsewhere": submit_received(rivera, 2),
        "rejected": submit_received(chan, 2),
    }
    deliver(approve(made["delivered"], staff), staff, chan)
    approve(made["approved"], staff)
    reviewing.request_start_review(
        actor=staff.actor("rita"), request=made["rejected"], now=timezone.now()
    )
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=made["rejected"],
        outcome="REJECTED",
        rejection_reasons=["OVERBROAD"],
        rationale="Asks for far more than the offence needs.",
        now=timezone.now(),
    )
    for request in made.values():
        request.refresh_from_db()
    return made


def test_the_preview_names_exactly_what_placing_the_hold_does(
    platform: Any, chan: Any, rivera: Any
) -> None:
    staff = make_staff()
    made = _mixed_requests(chan, rivera, staff)
    terms: dict[str, Any] = {
        "jurisdiction_code": "HK",
        "effective_from": timezone.now() - timedelta(days=1),  # retroactive: flags approvals
        "reason": "National Security Law",
        "allow_emergency": True,
    }
    now = timezone.now()
    preview = hold_preview(now=now, **terms)
    placed = hold_place(actor=staff.actor("pat"), now=now, **terms)
    assert sorted(preview.would_hold) == sorted(placed.put_on_hold)
    assert sorted(preview.excepted) == sorted(placed.excepted)
    assert sorted(preview.would_flag) == sorted(placed.flagged)
    # And what it is: the delivered and approved ones flagged, the open ones held, the emergency
    # let through, the rejected one and the American one untouched.
    assert set(placed.flagged) == {made["delivered"].reference, made["approved"].reference}
    assert made["open"].reference in placed.put_on_hold
    assert made["approved"].reference in placed.put_on_hold
    assert placed.excepted == [made["emergency"].reference]
    assert made["rejected"].reference not in placed.put_on_hold + placed.flagged
    assert made["elsewhere"].reference not in placed.put_on_hold + placed.flagged


# --- The back-test over recorded history ---------------------------------------------------------


def _database_state() -> tuple[dict[str, int], tuple[int, str] | None]:
    counts = {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
    }
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return counts, head


def test_backtest_stops_the_delivery_made_after_the_hold_would_have_started(
    platform: Any, chan: Any, rivera: Any
) -> None:
    staff = make_staff()
    # Delivered before the hypothetical start: untouched (its data had left).
    early = submit_received(chan, 3)
    deliver(approve(early, staff), staff, chan)
    start = timezone.now()
    # Received before the start, delivered after it: the hold would have stopped that delivery.
    late = submit_received(chan, 2)
    deliver(approve(late, staff), staff, chan)
    still_open = submit_received(chan, 2)
    us = submit_received(rivera, 2)
    deliver(approve(us, staff), staff, rivera)
    now = timezone.now()
    period = half_year_containing(now)
    backtest = backtest_prepare(
        actor=SYSTEM,
        window=window_parse(f"{(now - timedelta(days=5)).date()}..{now.date()}"),
        now=now,
        jurisdiction_code="hk",
        effective_from=start,
        reason="back-test",
    )
    before = _database_state()
    rows = {row.reference: row for row in backtest.run()}
    assert _database_state() == before  # read-only
    assert set(rows) == {early.reference, late.reference, still_open.reference}
    # Delivered before the start but not closed: held like every open request (as placing the
    # hold would), with nothing to stop: its data had left.
    assert rows[early.reference].held_at == start
    assert rows[early.reference].stopped_delivery_at is None
    stopped = rows[late.reference]
    assert stopped.held_at == start
    assert stopped.stopped_delivery_at is not None and stopped.stopped_delivery_at > start
    assert set(stopped.accounts) == {f"{t.type}:{t.value}" for t in late.targets.all()}
    assert stopped.check_change == "PASS -> BLOCK"
    assert rows[still_open.reference].stopped_delivery_at is None
    totals = backtest.totals
    assert (totals.requests_replayed, totals.covered, totals.would_hold) == (3, 3, 3)
    assert totals.stopped_deliveries == 1 and totals.stopped_accounts == 4
    # The headline numbers: as recorded they are the report's own; under the hold, the stopped
    # delivery is no longer "data produced" and both requests count as held.
    [headline] = [h for h in backtest.headlines if h.period == period.label]
    entry = jurisdiction_entry(report_compute(period=period, now=now), "HK")
    assert headline.recorded == {key: entry[key] for key in headline.recorded}
    assert headline.recorded["data_produced"] == 2
    assert headline.alternative["requests"] == 3
    assert headline.alternative["data_produced"] == 1
    assert headline.alternative["held_requests"] == 3
    # The early one still counts as data produced (delivered before the hold).
    assert headline.alternative["pending_on_hold"] == 2
    assert headline.published is None  # this period was never published


def test_backtest_cli_json_csv_and_the_database_unchanged(platform: Any, chan: Any) -> None:
    staff = make_staff()
    start = timezone.now()
    late = submit_received(chan, 1)
    deliver(approve(late, staff), staff, chan)
    window = f"{(start - timedelta(days=3)).date()}..{start.date()}"
    args = ["--hold", "HK", "--from", start.isoformat(), "--window", window]
    before = _database_state()
    out = io.StringIO()
    call_command("backtest", *args, "--format", "json", stdout=out)
    body = json.loads(out.getvalue())
    assert [r["reference"] for r in body["requests"]] == [late.reference]
    assert body["totals"]["stopped_deliveries"] == 1
    assert body["headlines"][0]["alternative"]["data_produced"] == 0
    out = io.StringIO()
    call_command("backtest", *args, "--format", "csv", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("reference,received_at") and late.reference in lines[1]
    out = io.StringIO()
    call_command("backtest", *args, stdout=out)
    assert "deliveries stopped:            1" in out.getvalue()
    assert _database_state() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "2020-01-01"], "window: write it as START..END"),
        (["--window", "2021-01-01..2020-01-01"], "must end after it starts"),
        (["--window", "2020-02-30..2020-03-01"], "not a date"),
        (["--from", "2020-06-30"], "from: 2020-06-30 is a date, not a moment"),
    ],
)
def test_backtest_cli_refuses_bad_input_naming_the_field(
    db: None, args: list[str], message: str
) -> None:
    base = {"--hold": "HK", "--from": "2020-06-30 23:00 Asia/Hong_Kong"}
    base["--window"] = "2020-01-01..2020-12-31"
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    with pytest.raises(CommandError) as refused:
        call_command("backtest", *[item for pair in base.items() for item in pair])
    assert message in str(refused.value)


def test_unknown_jurisdiction_is_refused(db: None) -> None:
    with pytest.raises(ValidationFailed) as refused:
        backtest_prepare(
            actor=SYSTEM,
            window=window_parse("2020-01-01..2020-12-31"),
            now=timezone.now(),
            jurisdiction_code="ZZ",
            effective_from=T0,
            reason="x",
        )
    assert refused.value.errors[0].field == "jurisdiction"


def test_backtest_is_a_plain_object_until_run() -> None:
    # Constructing one reads nothing: a console page can validate before running it.
    assert Backtest.__dataclass_fields__["totals"]


# --- A policy version replayed over history ------------------------------------------------------


def _policy_json(**thresholds: int) -> str:
    document = policy_document_of(policy_current()[0])
    document["thresholds"].update(thresholds)
    return json.dumps(document)


def test_policy_backtest_names_the_checks_a_stricter_policy_would_change(chan: Any) -> None:
    request = submit_received(chan, 1)  # four accounts
    window = window_parse(f"{(timezone.now() - timedelta(days=3)).date()}..{timezone.now().date()}")
    label, same = policy_alternative(actor=SYSTEM)
    unchanged = PolicyBacktest(label=label, alternative=same, window=window)
    assert list(unchanged.run()) == [] and unchanged.totals.requests_replayed == 1
    label, stricter = policy_alternative(actor=SYSTEM, document=_policy_json(max_accounts=2))
    before = _database_state()
    backtest = PolicyBacktest(label=label, alternative=stricter, window=window)
    [row] = list(backtest.run())
    assert _database_state() == before
    assert row.reference == request.reference
    [change] = row.changes
    assert (change.code, change.recorded, change.alternative) == ("OVERBROAD", "PASS", "WARN")
    assert backtest.totals.by_check == {"OVERBROAD: PASS -> WARN": 1}


def test_a_bad_policy_document_is_refused_naming_the_field(db: None) -> None:
    with pytest.raises(ValidationFailed) as refused:
        policy_alternative(actor=SYSTEM, document=_policy_json(max_accounts=0))
    assert refused.value.errors[0].field == "policy.thresholds.max_accounts"
    with pytest.raises(CommandError) as refused_cli:
        call_command("backtest", "--window", "2020-01-01..2020-12-31")
    assert "hold: give --hold, --policy-version or both" in str(refused_cli.value)


# --- The staff API -------------------------------------------------------------------------------


def test_staff_api_backtest(platform: Any, chan: Any, api_as: Any) -> None:
    staff = make_staff()
    start = timezone.now()
    late = submit_received(chan, 1)
    deliver(approve(late, staff), staff, chan)
    body = {
        "jurisdiction": "HK",
        "effective_from": start.isoformat(),
        "window_start": (start - timedelta(days=3)).isoformat(),
        "window_end": timezone.now().isoformat(),
    }
    before = _database_state()
    response = api_as(staff.tokens["pat"]).post("/staff/backtests", body)
    assert response.status_code == 200, response.content
    result = response.json()
    assert [r["reference"] for r in result["requests"]] == [late.reference]
    assert result["requests"][0]["accounts"] and result["truncated"] is False
    assert result["totals"]["stopped_deliveries"] == 1
    assert _database_state() == before
    # Only some roles: it names the accounts whose data left.
    refused = api_as(staff.tokens["rita"]).post("/staff/backtests", body)
    assert refused.status_code == 403 and refused.json()["code"] == "role_required"
    bad = api_as(staff.tokens["pat"]).post(
        "/staff/backtests", {**body, "window_end": (start - timedelta(days=9)).isoformat()}
    )
    assert bad.status_code == 422
    assert "window" in json.dumps(bad.json())
    naive = api_as(staff.tokens["pat"]).post(
        "/staff/backtests", {**body, "effective_from": "2020-06-30T23:00"}
    )
    assert naive.status_code == 422 and "effective_from" in json.dumps(naive.json())
