"""Answers owed on time: response targets from the policy, reminders and emergency alerts sent
once by the worker, per-role inboxes, and every console time in the viewer's own zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from govreq.accounts.services import staff_add, staff_time_zone_set
from govreq.audit.models import AuditEvent
from govreq.core.actors import Actor
from govreq.core.errors import ValidationFailed
from govreq.holds.models import HoldChange, JurisdictionHold
from govreq.intake.models import LegalRequest, RequestKind
from govreq.lifecycle import reviewing
from govreq.lifecycle.holding import hold_change_confirm
from govreq.lifecycle.rechecking import policy_update
from govreq.lifecycle.reminding import deadlines_sweep
from govreq.policy.document import Deadlines
from govreq.policy.selectors import policy_current, policy_document_of
from govreq.review.deadlines import clock_at, respond_by
from govreq.review.models import DeadlineAlert
from govreq.review.selectors import Inbox, inbox_filter
from govreq.review.services import request_assign
from tests.conftest import Api
from tests.console.test_console import PASSWORD, signed_in
from tests.hold_helpers import hold_lift, hold_place, second_admin
from tests.review_helpers import EMERGENCY, HR_ASSESSMENT, make_staff, submit

WORKER = Actor.system("worker")
POLICY = Deadlines()
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


# --- the pure rule ------------------------------------------------------------------------------


def test_an_emergency_is_due_in_four_hours_anything_else_by_the_agency_or_in_30_days():
    received = datetime(2020, 7, 1, 9, 0, tzinfo=UTC)
    asked = datetime(2020, 7, 3, 17, 0, tzinfo=UTC)
    assert respond_by(
        kind="EMERGENCY", received_at=received, agency_deadline=None, policy=POLICY
    ) == received + timedelta(hours=4)
    # The agency's own deadline replaces the policy's 30 days, later or sooner.
    assert respond_by(
        kind="SUBPOENA", received_at=received, agency_deadline=asked, policy=POLICY
    ) == (asked)
    assert respond_by(
        kind="COURT_ORDER", received_at=received, agency_deadline=None, policy=POLICY
    ) == received + timedelta(days=30)
    # An emergency keeps its 4 hours even if the agency allows a week; a sooner one wins.
    assert respond_by(
        kind="EMERGENCY", received_at=received, agency_deadline=asked, policy=POLICY
    ) == received + timedelta(hours=4)
    sooner = received + timedelta(hours=1)
    assert (
        respond_by(kind="EMERGENCY", received_at=received, agency_deadline=sooner, policy=POLICY)
        == sooner
    )


@given(
    kind=st.sampled_from(RequestKind.values),
    received=moments,
    deadline=st.none() | moments,
)
def test_a_fixed_kind_is_never_later_than_the_policy_allows(kind, received, deadline):
    due = respond_by(kind=kind, received_at=received, agency_deadline=deadline, policy=POLICY)
    if kind == "EMERGENCY":
        assert due <= received + timedelta(hours=4)
    elif deadline is not None:
        assert due == deadline
    else:
        assert due == received + timedelta(days=30)


def test_the_clock_runs_only_while_the_answer_is_the_platforms():
    due = datetime(2020, 7, 1, tzinfo=UTC)
    later = due + timedelta(hours=1)
    assert clock_at(status="IN_REVIEW", respond_by=due, now=later).overdue
    for waiting in ("NEEDS_CLARIFICATION", "ON_HOLD", "PRODUCED", "CLOSED", "REJECTED"):
        clock = clock_at(status=waiting, respond_by=due, now=later)
        assert not clock.running and not clock.overdue, waiting


def test_the_policy_refuses_targets_for_unknown_kinds_or_without_a_default():
    with pytest.raises(ValueError, match="WIRETAP"):
        Deadlines(respond_within_hours={"WIRETAP": 2, "default": 24})
    with pytest.raises(ValueError, match="default"):
        Deadlines(remind_before_hours={"EMERGENCY": 1})


# --- on receipt ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_target_is_set_on_receipt_by_the_policy_then_in_force(chan):
    staff = make_staff()
    emergency = submit(chan, document=False, **EMERGENCY)
    assert emergency.respond_by == emergency.received_at + timedelta(hours=4)
    court_order = submit(chan)
    assert court_order.respond_by == court_order.deadline_at
    document = policy_document_of(policy_current()[0])
    document["deadlines"]["respond_within_hours"]["EMERGENCY"] = 2
    policy_update(actor=staff.actor("pat"), document=document, note="Two hours", now=timezone.now())
    second = submit(chan, document=False, **EMERGENCY)
    assert second.respond_by == second.received_at + timedelta(hours=2)
    emergency.refresh_from_db()
    assert emergency.respond_by == emergency.received_at + timedelta(hours=4)  # unchanged


# --- reminders and alerts -----------------------------------------------------------------------


def worker_once(at: datetime, capture) -> str:
    out = StringIO()
    with capture(execute=True):
        call_command("worker", "--once", "--at", at.isoformat(), stdout=out)
    return out.getvalue()


def staff_mail() -> list:
    return [
        m
        for m in mail.outbox
        if any(
            words in m.subject
            for words in ("answer due", "answer overdue", "has no reviewer", "答覆期限", "逾期")
        )
    ]


@pytest.mark.django_db
def test_the_assignee_and_the_reviewers_are_reminded_once_in_their_own_zone(
    chan, django_capture_on_commit_callbacks
):
    staff = make_staff()
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    request_assign(
        actor=staff.actor("ivy"),
        request=request,
        assignee=staff.users["raj"],
        now=timezone.now(),
    )
    staff.users["rita"].time_zone = "Asia/Hong_Kong"
    staff.users["rita"].save()
    staff.users["raj"].language = "zh-hant"
    staff.users["raj"].save()
    # Raj is told as the assignee, not as a reviewer: he no longer holds the role.
    staff.users["raj"].role_assignments.all().delete()
    request.refresh_from_db()
    due = request.respond_by
    mail.outbox.clear()

    worker_once(due - timedelta(hours=49), django_capture_on_commit_callbacks)
    assert staff_mail() == []  # 48 hours before: not yet
    outcome = worker_once(due - timedelta(hours=47), django_capture_on_commit_callbacks)
    assert "1 reminder(s)" in outcome
    sent = staff_mail()
    assert sorted(m.to[0] for m in sent) == ["raj@platform.example", "rita@platform.example"]
    rita = next(m for m in sent if m.to == ["rita@platform.example"])
    local = due.astimezone(ZoneInfo("Asia/Hong_Kong"))
    assert f"{local:%Y-%m-%d %H:%M} Asia/Hong_Kong" in rita.body
    assert request.reference in rita.subject and "in 1 d 23 h" in rita.subject
    assert f"/console/requests/{request.public_id}" in rita.body
    assert chan.email not in rita.body and "@Scammer_HK".lower() not in rita.body.lower()
    assert AuditEvent.objects.filter(action="request.deadline_alert").count() == 1
    # Raj chose Chinese e-mails: the same reminder, in his language.
    raj = next(m for m in sent if m.to == ["raj@platform.example"])
    assert raj.subject == f"{request.reference}：答覆期限尚餘 1 日 23 小時"
    assert "尚未答覆" in raj.body and "開啟個案" in raj.body
    assert "is unanswered" in rita.body and "Open the case" in rita.body

    mail.outbox.clear()
    worker_once(due + timedelta(hours=3), django_capture_on_commit_callbacks)
    assert staff_mail() == []  # once per request
    assert DeadlineAlert.objects.filter(request=request).count() == 1


@pytest.mark.django_db
def test_no_reminder_while_the_agency_owes_an_answer_or_a_hold_keeps_the_request(
    chan, django_capture_on_commit_callbacks
):
    staff = make_staff()
    asked = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=asked, now=timezone.now())
    reviewing.clarification_ask(
        actor=staff.actor("rita"), request=asked, question="Which account?", now=timezone.now()
    )
    mail.outbox.clear()
    worker_once(timezone.now() + timedelta(days=60), django_capture_on_commit_callbacks)
    assert staff_mail() == []
    held = submit(chan)
    hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now(),
        reason="Pause",
        now=timezone.now(),
    )
    worker_once(timezone.now() + timedelta(days=61), django_capture_on_commit_callbacks)
    assert staff_mail() == []
    held.refresh_from_db()
    assert held.status == "ON_HOLD"


@pytest.mark.django_db
def test_an_emergency_nobody_took_alerts_every_reviewer_after_15_minutes(
    chan, django_capture_on_commit_callbacks
):
    staff = make_staff()
    untaken = submit(chan, document=False, **EMERGENCY)
    taken = submit(chan, document=False, **EMERGENCY)
    request_assign(
        actor=staff.actor("ivy"), request=taken, assignee=staff.users["raj"], now=timezone.now()
    )
    mail.outbox.clear()
    worker_once(untaken.received_at + timedelta(minutes=14), django_capture_on_commit_callbacks)
    assert staff_mail() == []
    outcome = worker_once(
        untaken.received_at + timedelta(minutes=16), django_capture_on_commit_callbacks
    )
    assert "1 emergency alert(s)" in outcome
    alerts = [m for m in staff_mail() if "has no reviewer" in m.subject]
    assert {m.to[0] for m in alerts} == {"rita@platform.example", "raj@platform.example"}
    assert all(untaken.reference in m.subject for m in alerts)
    assert not any(taken.reference in m.subject for m in alerts)
    mail.outbox.clear()
    worker_once(untaken.received_at + timedelta(minutes=30), django_capture_on_commit_callbacks)
    assert [m for m in staff_mail() if "has no reviewer" in m.subject] == []


@pytest.mark.django_db
def test_a_second_sweep_at_the_same_moment_sends_nothing(chan, django_capture_on_commit_callbacks):
    make_staff()
    request = submit(chan, document=False, **EMERGENCY)
    at = request.received_at + timedelta(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        first = deadlines_sweep(actor=WORKER, now=at)
        second = deadlines_sweep(actor=WORKER, now=at)
    assert first.reminded == [request.reference] and first.emergencies == [request.reference]
    assert second.reminded == [] and second.emergencies == []
    assert len(staff_mail()) == 4  # two reviewers, two alerts each, once


# --- inboxes ------------------------------------------------------------------------------------


def in_inbox(inbox: Inbox, staff, name: str, now: datetime | None = None) -> set[str]:
    user = staff.users[name]
    roles = frozenset(user.role_assignments.values_list("role", flat=True))
    q = inbox_filter(inbox, user=user, roles=roles, now=now or timezone.now())
    return set(LegalRequest.objects.filter(q).values_list("reference", flat=True))


@pytest.mark.django_db
def test_the_approval_inbox_follows_four_eyes(chan):
    staff = make_staff()
    request = submit(chan)
    now = timezone.now()
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=now)
    reviewing.decision_make(
        actor=staff.actor("rita"), request=request, outcome="FULL", rationale="ok", now=now
    )
    assert in_inbox(Inbox.APPROVAL, staff, "alex") == {request.reference}
    assert in_inbox(Inbox.APPROVAL, staff, "ana") == {request.reference}
    assert in_inbox(Inbox.APPROVAL, staff, "rita") == set()  # not an approver
    assert in_inbox(Inbox.HUMAN_RIGHTS, staff, "hana") == set()  # no human-rights need
    reviewing.approval_give(actor=staff.actor("alex"), request=request, now=now)
    assert in_inbox(Inbox.APPROVAL, staff, "alex") == set()  # approved already
    assert in_inbox(Inbox.APPROVAL, staff, "ana") == {request.reference}
    reviewing.approval_give(actor=staff.actor("ana"), request=request, now=now)
    assert in_inbox(Inbox.APPROVAL, staff, "ana") == set()


@pytest.mark.django_db
def test_nobody_finds_their_own_decision_awaiting_their_approval(chan):
    staff = make_staff()
    both = staff_add(
        actor=Actor.system(),
        email="both@platform.example",
        name="Both",
        roles=["REVIEWER", "APPROVER"],
        now=timezone.now(),
    )
    staff.users["both"] = both
    request = submit(chan)
    now = timezone.now()
    reviewing.request_start_review(actor=Actor.for_user(both), request=request, now=now)
    reviewing.decision_make(
        actor=Actor.for_user(both), request=request, outcome="FULL", rationale="ok", now=now
    )
    assert in_inbox(Inbox.APPROVAL, staff, "both") == set()
    assert in_inbox(Inbox.APPROVAL, staff, "alex") == {request.reference}


@pytest.mark.django_db
def test_the_human_rights_inbox_holds_escalations_and_missing_hr_approvals(chan):
    staff = make_staff()
    request = submit(chan, offence_category="PUBLIC_ORDER", narrative="Organiser of a protest.")
    now = timezone.now()
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=now)
    reviewing.request_escalate(
        actor=staff.actor("rita"), request=request, reason="Protest", now=now
    )
    assert in_inbox(Inbox.HUMAN_RIGHTS, staff, "hana") == {request.reference}
    reviewing.decision_make(
        actor=staff.actor("rita"), request=request, outcome="FULL", rationale="ok", now=now
    )
    assert in_inbox(Inbox.HUMAN_RIGHTS, staff, "hana") == {request.reference}
    assert in_inbox(Inbox.APPROVAL, staff, "hana") == {request.reference}
    reviewing.approval_give(
        actor=staff.actor("hana"),
        request=request,
        now=now,
        kind="HUMAN_RIGHTS",
        assessment=HR_ASSESSMENT,
    )
    assert in_inbox(Inbox.HUMAN_RIGHTS, staff, "hana") == set()
    assert in_inbox(Inbox.APPROVAL, staff, "alex") == {request.reference}


@pytest.mark.django_db
def test_mine_and_overdue(chan):
    staff = make_staff()
    request = submit(chan, document=False, **EMERGENCY)
    other = submit(chan)
    request_assign(
        actor=staff.actor("ivy"), request=request, assignee=staff.users["raj"], now=timezone.now()
    )
    assert in_inbox(Inbox.MINE, staff, "raj") == {request.reference}
    assert in_inbox(Inbox.MINE, staff, "rita") == set()
    later = request.received_at + timedelta(hours=5)
    assert in_inbox(Inbox.OVERDUE, staff, "aud", now=later) == {request.reference}
    assert other.reference not in in_inbox(Inbox.OVERDUE, staff, "aud", now=later)


@pytest.fixture
def console_staff(db):
    staff = make_staff()
    for user in staff.users.values():
        user.set_password(PASSWORD)
        user.save()
    return staff


@pytest.mark.django_db
def test_the_console_shows_each_role_its_inboxes_and_marks_what_is_overdue(chan, console_staff):
    staff = console_staff
    late = submit(chan, document=False, **EMERGENCY)
    LegalRequest.objects.filter(pk=late.pk).update(
        respond_by=timezone.now() - timedelta(hours=2, minutes=5)
    )
    approver = signed_in(staff, "alex")
    page = approver.get("/console/").content.decode()
    assert 'data-inbox="approval"' in page and 'data-inbox="overdue"' in page
    assert 'data-inbox="human_rights"' not in page and 'data-inbox="mine"' not in page
    overdue = approver.get("/console/?inbox=overdue").content.decode()
    assert late.reference in overdue and "overdue by 2 h 5 min" in overdue
    assert "overdue-row" in overdue
    approvals = approver.get("/console/?inbox=approval").content.decode()
    assert late.reference not in approvals
    hro = signed_in(staff, "hana").get("/console/").content.decode()
    assert 'data-inbox="human_rights"' in hro


@pytest.mark.django_db
def test_times_are_shown_in_the_viewers_zone_with_the_zone_named(chan, console_staff):
    staff = console_staff
    request = submit(chan)
    client = signed_in(staff, "rita")
    case = client.get(f"/console/requests/{request.public_id}").content.decode()
    assert f"{request.respond_by.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in case
    refused = client.post("/console/preferences", {"time_zone": "Mars/Olympus_Mons"})
    assert refused.status_code == 422
    staff.users["rita"].refresh_from_db()
    assert staff.users["rita"].time_zone == "UTC"
    assert client.post("/console/preferences", {"time_zone": "Asia/Hong_Kong"}).status_code == 302
    case = client.get(f"/console/requests/{request.public_id}").content.decode()
    hong_kong = request.respond_by.astimezone(ZoneInfo("Asia/Hong_Kong"))
    # Named as people there name it, the unambiguous IANA key as its title.
    assert f'{hong_kong:%Y-%m-%d %H:%M} <abbr title="Asia/Hong_Kong">HKT</abbr>' in case
    assert ">Asia/Hong_Kong</a>" in case  # and in the header, a link to change it
    assert f"{request.received_at.astimezone(hong_kong.tzinfo):%Y-%m-%d %H:%M}" in case
    assert AuditEvent.objects.filter(action="staff.time_zone_set").count() == 1


@pytest.mark.django_db
def test_the_time_zone_service_refuses_unknown_names():
    staff = make_staff()
    with pytest.raises(ValidationFailed, match="time_zone"):
        staff_time_zone_set(actor=staff.actor("rita"), zone="Nowhere/Else", now=timezone.now())


@pytest.mark.django_db
def test_the_staff_api_lists_an_inbox_with_the_clock(chan, client):
    staff = make_staff()
    request = submit(chan, document=False, **EMERGENCY)
    LegalRequest.objects.filter(pk=request.pk).update(
        respond_by=timezone.now() - timedelta(minutes=1)
    )
    api = Api(client, staff.tokens["aud"])
    body = api.get("/staff/requests", inbox="overdue").json()
    assert [item["reference"] for item in body["items"]] == [request.reference]
    assert body["items"][0]["overdue"] is True and body["items"][0]["respond_by"]
    assert api.get("/staff/requests", inbox="approval").json()["items"] == []
    assert api.get("/staff/requests", inbox="nonsense").status_code == 422
    # The agency's deadline (14 days) and the platform's target (4 hours) are two filters.
    soon = (timezone.now() + timedelta(days=1)).isoformat()
    assert [
        i["reference"] for i in api.get("/staff/requests", due_before=soon).json()["items"]
    ] == [request.reference]
    assert api.get("/staff/requests", deadline_before=soon).json()["items"] == []
    naive = api.get("/staff/requests", due_before="2026-01-01T00:00:00")
    assert naive.status_code == 422 and "due_before" in naive.content.decode()


@pytest.mark.django_db
def test_a_hold_typed_in_the_console_takes_effect_at_that_moment_in_the_chosen_zone(
    chan, console_staff
):
    staff = console_staff
    staff_time_zone_set(actor=staff.actor("pat"), zone="America/New_York", now=timezone.now())
    pat = signed_in(staff, "pat")
    form = {"jurisdiction": "HK", "reason": "NSL", "effective_from": "2020-06-30T23:00"}
    # Hong Kong's law took effect at 23:00 Hong Kong time, whatever the admin's own zone.
    proposed = pat.post(
        "/console/holds/new", {**form, "time_zone": "Asia/Hong_Kong", "confirm": "1"}
    )
    assert proposed.status_code == 302
    assert not JurisdictionHold.objects.exists()  # four eyes: nothing until a second admin
    change = HoldChange.objects.get()
    hold_change_confirm(actor=second_admin(), change=change, now=timezone.now())
    hold = JurisdictionHold.objects.get()
    assert hold.effective_from == datetime(2020, 6, 30, 15, 0, tzinfo=UTC)
    # Without a zone chosen, the admin's own.
    pat.post("/console/holds/new", {**form, "jurisdiction": "MO", "confirm": "1"})
    change = HoldChange.objects.get(state="PENDING")
    assert change.terms["effective_from"] == "2020-07-01T03:00:00+00:00"


@pytest.mark.django_db
def test_the_time_the_agency_owes_an_answer_or_a_hold_keeps_it_is_not_counted(
    chan, django_capture_on_commit_callbacks
):
    staff = make_staff()
    start = timezone.now()
    request = submit(chan, now=start)
    target = request.respond_by
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=start)
    with django_capture_on_commit_callbacks(execute=True):
        deadlines_sweep(actor=WORKER, now=target - timedelta(hours=1))  # reminded once
    assert DeadlineAlert.objects.filter(request=request).count() == 1
    asked_at = target - timedelta(minutes=30)
    question = reviewing.clarification_ask(
        actor=staff.actor("rita"), request=request, question="Which account?", now=asked_at
    )
    reviewing.clarification_answer(
        actor=Actor.for_officer(chan),
        request=request,
        clarification_id=question.pk,
        answer="The first one",
        now=asked_at + timedelta(days=10),
    )
    request.refresh_from_db()
    assert request.status == "IN_REVIEW"
    assert request.respond_by == target + timedelta(days=10)  # ten days paused
    # The reminder was for the old target: one goes again before the new one.
    assert not DeadlineAlert.objects.filter(request=request).exists()
    held_at = asked_at + timedelta(days=11)
    placed = hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=held_at,
        reason="Pause",
        now=held_at,
    )
    request.refresh_from_db()
    assert request.status == "ON_HOLD"
    hold_lift(
        actor=staff.actor("pat"), hold=placed.hold, reason="Done", now=held_at + timedelta(days=3)
    )
    request.refresh_from_db()
    assert request.status == "IN_REVIEW"
    assert request.respond_by == target + timedelta(days=13)
