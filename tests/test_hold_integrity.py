"""Holds that follow the law's own clock, re-review that means something, holds with four eyes,
voids, and reports that know about holds recorded later (issue 12, items 1-4)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.core.errors import Conflict
from govreq.core.moments import MomentError, parse_moment
from govreq.holds.models import HoldChange, HoldReReview, JurisdictionHold
from govreq.intake.models import Channel, LegalRequest
from govreq.intake.schemas import RequestSubmission
from govreq.lifecycle import disclosing, holding, reviewing
from govreq.lifecycle.receiving import request_submit
from govreq.transparency.counting import report_compute
from govreq.transparency.periods import parse_period
from govreq.transparency.services import report_publish, reports_correct_for_hold
from tests.conftest import valid_submission
from tests.hold_helpers import hold_lift, hold_place, second_admin
from tests.review_helpers import approve, collect, deliver, make_staff, submit

# 30 June 2020 in Hong Kong (UTC+8): the law took effect at 23:00, 15:00 UTC.
HK_22_00 = datetime(2020, 6, 30, 14, 0, tzinfo=UTC)
HK_23_00 = datetime(2020, 6, 30, 15, 0, tzinfo=UTC)
HK_23_30 = datetime(2020, 6, 30, 15, 30, tzinfo=UTC)


@pytest.fixture
def staff(db):
    return make_staff()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def received(officer, at: datetime) -> LegalRequest:
    """A request the platform received at ``at`` (keyed in later), still open now."""
    return request_submit(
        actor=Actor.for_officer(officer),
        officer=officer,
        submission=RequestSubmission.model_validate(valid_submission()),
        channel=Channel.API,
        now=timezone.now(),
        received_at=at,
    ).request


# --- moments ------------------------------------------------------------------------------------


def test_one_parser_reads_zone_names_and_offsets_and_refuses_bare_dates():
    assert parse_moment("2020-06-30 23:00 Asia/Hong_Kong") == HK_23_00
    assert parse_moment("2020-06-30T23:00+08:00") == HK_23_00
    assert parse_moment("2020-06-30T15:00Z") == HK_23_00
    with pytest.raises(MomentError) as bare:
        parse_moment("2020-06-30", zone_hint="Asia/Hong_Kong")
    # Both readings, so the person can say which they meant.
    assert "2020-06-30 00:00 UTC" in str(bare.value)
    assert "2020-06-29 16:00 UTC" in str(bare.value)
    with pytest.raises(MomentError, match="no time zone"):
        parse_moment("2020-06-30T23:00")
    with pytest.raises(MomentError, match="not a time zone"):
        parse_moment("2020-06-30 23:00 Asia/Atlantis")
    with pytest.raises(MomentError, match="does not exist"):
        parse_moment("2021-03-14 02:30 America/New_York")
    with pytest.raises(MomentError, match="twice"):
        parse_moment("2021-11-07 01:30 America/New_York")


def test_cli_refuses_a_bare_date_showing_both_readings(staff):
    with pytest.raises(CommandError) as refused:
        run("hold", "add", "--jurisdiction", "HK", "--from", "2020-06-30", "--reason", "NSL")
    assert "2020-06-29 16:00 UTC" in str(refused.value)  # midnight in Hong Kong, the hint
    assert not HoldChange.objects.exists()


# --- received from the law's moment --------------------------------------------------------------


def test_cli_hold_from_the_laws_moment_holds_only_requests_received_since(chan, staff):
    before = received(chan, HK_22_00)
    after = received(chan, HK_23_30)
    proposed = run(
        "hold",
        "add",
        "--jurisdiction",
        "HK",
        "--from",
        "2020-06-30 23:00 Asia/Hong_Kong",
        "--received-from-start",
        "--reason",
        "National Security Law in force",
        "--as",
        "pat@platform.example",
    )
    # The preview names both readings: the one chosen, and who the other would also hold.
    assert after.reference in proposed and before.reference in proposed
    assert "leave alone (received before its start)" in proposed
    change = HoldChange.objects.get()
    run("hold", "confirm", str(change.pk), "--as", second_admin().user.email)
    hold = JurisdictionHold.objects.get()
    assert hold.effective_from == HK_23_00 and hold.received_from_start
    after.refresh_from_db()
    before.refresh_from_db()
    assert after.status == "ON_HOLD"
    assert before.status == "RECEIVED"
    # Received before the law's moment, it is outside the hold: it can be decided as usual.
    reviewing.request_start_review(actor=staff.actor("rita"), request=before, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=before,
        outcome="REJECTED",
        rejection_reasons=["OVERBROAD"],
        rationale="Too broad",
        now=timezone.now(),
    )


def test_staff_api_hold_from_the_laws_moment(api_as, chan, staff):
    before = received(chan, HK_22_00)
    after = received(chan, HK_23_30)
    pat = api_as(staff.tokens["pat"])
    proposed = pat.post(
        "/staff/holds",
        {
            "jurisdiction": "HK",
            "effective_from": "2020-06-30 23:00 Asia/Hong_Kong",
            "received_from_start": True,
            "reason": "National Security Law in force",
        },
    )
    assert proposed.status_code == 202, proposed.content
    preview = proposed.json()["preview"]
    assert preview["would_hold"] == [after.reference]
    assert preview["received_before_start"] == [before.reference]
    bare = pat.post(
        "/staff/holds", {"jurisdiction": "HK", "effective_from": "2020-06-30", "reason": "x"}
    )
    assert bare.status_code == 422
    assert bare.json()["errors"][0]["field"] == "effective_from"
    done = api_as(staff.tokens["root"]).post(
        f"/staff/holds/changes/{proposed.json()['id']}/confirm", {}
    )
    assert done.status_code == 200, done.content
    assert done.json()["put_on_hold"] == [after.reference]
    assert LegalRequest.objects.get(pk=before.pk).status == "RECEIVED"


# --- four eyes -----------------------------------------------------------------------------------


def test_a_hold_needs_a_second_policy_admin_and_nothing_happens_before(chan, staff):
    request = submit(chan)
    change = holding.hold_propose(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now() - timedelta(minutes=1),
        reason="NSL",
        now=timezone.now(),
    )
    request.refresh_from_db()
    assert request.status == "RECEIVED" and not JurisdictionHold.objects.exists()
    with pytest.raises(Conflict) as same:
        holding.hold_change_confirm(actor=staff.actor("pat"), change=change, now=timezone.now())
    assert same.value.code == "four_eyes"
    with pytest.raises(Exception, match="role"):
        holding.hold_change_confirm(actor=staff.actor("rita"), change=change, now=timezone.now())
    placed = holding.hold_change_confirm(actor=second_admin(), change=change, now=timezone.now())
    assert placed.put_on_hold == [request.reference]
    with pytest.raises(Conflict) as twice:
        holding.hold_change_confirm(actor=staff.actor("root"), change=change, now=timezone.now())
    assert twice.value.code == "hold_change_decided"
    change.refresh_from_db()
    assert change.hold_id == placed.hold.pk and change.state == "CONFIRMED"
    assert placed.hold.created_by == staff.users["pat"]
    assert placed.hold.confirmed_by == second_admin().user


def test_lifting_shows_what_it_releases_and_waits_for_confirmation(chan, staff):
    request = submit(chan)
    placed = hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now() - timedelta(minutes=1),
        reason="NSL",
        now=timezone.now(),
    )
    change = holding.hold_lift_propose(
        actor=staff.actor("pat"), hold=placed.hold, reason="Assessed", now=timezone.now()
    )
    assert change.preview["would_release"] == [request.reference]
    request.refresh_from_db()
    assert request.status == "ON_HOLD"
    with pytest.raises(Conflict) as again:
        holding.hold_lift_propose(
            actor=staff.actor("pat"), hold=placed.hold, reason="Again", now=timezone.now()
        )
    assert again.value.code == "hold_change_pending"
    holding.hold_change_cancel(actor=staff.actor("pat"), change=change, now=timezone.now())
    request.refresh_from_db()
    assert request.status == "ON_HOLD"


def test_a_voided_hold_releases_counts_nowhere_and_corrects_published_reports(chan, staff):
    past = datetime(2025, 3, 1, tzinfo=UTC)
    early = received(chan, past)
    period = parse_period("2025-H1")
    first = report_publish(actor=staff.actor("pat"), period="2025-H1", now=timezone.now())
    placed = hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=past - timedelta(days=1),
        reason="Placed on the wrong jurisdiction",
        now=timezone.now(),
    )
    early.refresh_from_db()
    assert early.status == "ON_HOLD"
    hk = next(
        j
        for j in report_compute(period=period, now=timezone.now())["jurisdictions"]
        if j["code"] == "HK"
    )
    (entry,) = hk["holds"]
    assert entry["id"] == placed.hold.pk and entry["recorded_after_period"] is True
    change = holding.hold_void_propose(
        actor=staff.actor("pat"), hold=placed.hold, reason="Mistake", now=timezone.now()
    )
    assert change.preview["would_release"] == [early.reference]
    result = holding.hold_change_confirm(actor=second_admin(), change=change, now=timezone.now())
    assert isinstance(result, holding.HoldVoided) and result.released == [early.reference]
    early.refresh_from_db()
    assert early.status == "RECEIVED"
    hk = next(
        j
        for j in report_compute(period=period, now=timezone.now())["jurisdictions"]
        if j["code"] == "HK"
    )
    assert hk["holds"] == []
    # Version 1 was published before the hold existed, so voiding it changes nothing there.
    corrected = reports_correct_for_hold(
        actor=staff.actor("pat"), hold=result.hold, now=timezone.now()
    )
    assert corrected == []  # version 1 was published before the hold existed: nothing changed
    assert first.version == 1


def test_a_hold_recorded_after_a_published_period_corrects_it(chan, staff):
    received(chan, datetime(2025, 5, 1, tzinfo=UTC))
    report_publish(actor=staff.actor("pat"), period="2025-H1", now=timezone.now())
    placed = hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=datetime(2025, 4, 1, tzinfo=UTC),
        reason="Law in force from 1 April",
        now=timezone.now(),
    )
    (second,) = reports_correct_for_hold(
        actor=staff.actor("pat"), hold=placed.hold, now=timezone.now()
    )
    assert second.version == 2 and f"hold #{placed.hold.pk}" in second.note
    assert any("holds" in change["field"] for change in second.changes)


# --- re-review -----------------------------------------------------------------------------------


def _flagged(chan, staff) -> tuple[LegalRequest, HoldReReview]:
    request = approve(submit(chan), staff)
    placed = hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now() - timedelta(days=1),
        reason="Retroactive",
        now=timezone.now(),
    )
    assert placed.flagged == [request.reference]
    return request, HoldReReview.objects.get(request=request)


def test_a_flagged_request_cannot_be_delivered_or_closed_even_after_the_lift(
    chan, staff, tmp_path, platform
):
    request, flag = _flagged(chan, staff)
    hold_lift(actor=staff.actor("pat"), hold=flag.hold, reason="Lifted", now=timezone.now())
    request.refresh_from_db()
    assert request.status == "APPROVED"  # lifting returns it where it was...
    production = collect(request)
    assert production.status == "READY", (production.status, production.error)
    with pytest.raises(Conflict) as refused:  # ...but nothing leaves before the re-review
        disclosing.production_release(
            actor=staff.actor("rita"), production=production, now=timezone.now()
        )
    assert refused.value.code == "re_review_required"
    with pytest.raises(Conflict) as closing:
        reviewing.request_close(
            actor=staff.actor("rita"), request=request, reason="done", now=timezone.now()
        )
    assert closing.value.code in ("re_review_required", "delivery_required")
    evidence = tmp_path / "receipt.txt"
    evidence.write_text("Registered mail RR123")
    with pytest.raises(CommandError, match="reviewed again"):
        run(
            "production",
            "deliver-other",
            request.reference,
            "--reason",
            "Sent by registered mail",
            "--evidence",
            str(evidence),
            "--as",
            "rita@platform.example",
        )
    holding.re_review_resolve(
        actor=staff.actor("rita"),
        flag=flag,
        resolution="CONFIRMED",
        reason="The order predates the law and concerns fraud only",
        now=timezone.now(),
    )
    released = disclosing.production_release(
        actor=staff.actor("rita"), production=production, now=timezone.now()
    )
    download = disclosing.package_download(
        actor=Actor.for_officer(chan),
        production=released,
        channel="API",
        client_address="192.0.2.10",
        user_agent="test",
        now=timezone.now(),
    )
    b"".join(download.chunks)
    request.refresh_from_db()
    assert request.status == "DELIVERED"


def test_returning_a_flagged_request_lapses_its_decision(chan, staff, api_as):
    request, flag = _flagged(chan, staff)
    hold_lift(actor=staff.actor("pat"), hold=flag.hold, reason="Lifted", now=timezone.now())
    rita = api_as(staff.tokens["rita"])
    bad = rita.post(f"/staff/holds/re-reviews/{flag.pk}/resolve", {"resolution": "MAYBE"})
    assert bad.status_code == 422
    done = rita.post(
        f"/staff/holds/re-reviews/{flag.pk}/resolve",
        {"resolution": "RETURNED", "reason": "Needs a fresh look under the new law"},
    )
    assert done.status_code == 200, done.content
    request.refresh_from_db()
    assert request.status == "IN_REVIEW"
    assert not request.decisions.filter(superseded_at__isnull=True).exists()
    again = rita.post(
        f"/staff/holds/re-reviews/{flag.pk}/resolve", {"resolution": "CONFIRMED", "reason": "x"}
    )
    assert again.status_code == 409


def test_a_held_request_may_be_rejected_for_the_hold_but_not_decided_otherwise(chan, staff):
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now() - timedelta(minutes=1),
        reason="NSL",
        now=timezone.now(),
    )
    with pytest.raises(Conflict) as held:
        reviewing.decision_make(
            actor=staff.actor("rita"),
            request=request,
            outcome="REJECTED",
            rejection_reasons=["OVERBROAD"],
            rationale="x",
            now=timezone.now(),
        )
    assert held.value.code == "on_hold"
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="REJECTED",
        rejection_reasons=["JURISDICTION_HOLD"],
        rationale="Requests from Hong Kong are paused pending human-rights due diligence",
        now=timezone.now(),
    )
    request.refresh_from_db()
    assert request.status == "REJECTED"


def test_a_delivered_request_flagged_by_a_retroactive_hold_cannot_be_closed(chan, staff, platform):
    request = approve(submit(chan), staff)
    deliver(request, staff, chan)
    assert request.status == "DELIVERED"
    placed = hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now() - timedelta(days=1),
        reason="Retroactive",
        now=timezone.now(),
    )
    assert placed.flagged == [request.reference]
    hold_lift(actor=staff.actor("pat"), hold=placed.hold, reason="Lifted", now=timezone.now())
    request.refresh_from_db()
    assert request.status == "DELIVERED"
    with pytest.raises(Conflict) as refused:
        reviewing.request_close(
            actor=staff.actor("rita"), request=request, reason="done", now=timezone.now()
        )
    assert refused.value.code == "re_review_required"
    holding.re_review_resolve(
        actor=staff.actor("rita"),
        flag=HoldReReview.objects.get(request=request),
        resolution="CONFIRMED",
        reason="Delivered before the hold was known; nothing to undo",
        now=timezone.now(),
    )
    reviewing.request_close(
        actor=staff.actor("rita"), request=request, reason="done", now=timezone.now()
    )


def test_four_eyes_needs_two_named_admins_even_on_the_cli(chan, staff):
    # Without --as the CLI acts as the system: it may not propose a hold change at all.
    with pytest.raises(CommandError, match="named policy admin"):
        run(
            "hold",
            "add",
            "--jurisdiction",
            "HK",
            "--from",
            "2020-06-30T23:00+08:00",
            "--reason",
            "NSL",
        )
    assert not HoldChange.objects.exists()
    # A change nobody named proposed (a deleted proposer, an old row) is never confirmable.
    change = holding.hold_propose(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now(),
        reason="NSL",
        now=timezone.now(),
    )
    HoldChange.objects.filter(pk=change.pk).update(proposed_by=None)
    change.refresh_from_db()
    with pytest.raises(Conflict) as alone:
        holding.hold_change_confirm(actor=staff.actor("pat"), change=change, now=timezone.now())
    assert alone.value.code == "four_eyes"


def test_an_impossible_date_is_a_clear_error():
    with pytest.raises(MomentError, match="is not a date"):
        parse_moment("2020-13-45")


def test_a_hold_lifted_before_it_started_counts_nowhere_and_is_never_applied(chan, staff):
    start = timezone.now() + timedelta(days=2)
    placed = hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=start,
        reason="Planned",
        now=timezone.now(),
    )
    hold_lift(actor=staff.actor("pat"), hold=placed.hold, reason="Not needed", now=timezone.now())
    period = parse_period(f"{start.year}-H{1 if start.month <= 6 else 2}")
    hk = [
        j
        for j in report_compute(period=period, now=start + timedelta(days=200))["jurisdictions"]
        if j["code"] == "HK"
    ]
    assert all(j["holds"] == [] for j in hk)
    request = submit(chan)
    holding.holds_sync(actor=Actor.system("worker"), now=start + timedelta(hours=1))
    request.refresh_from_db()
    assert request.status == "RECEIVED"
