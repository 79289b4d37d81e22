"""Trust in the requester (issue 11): the call-back that confirms an emergency, the follow-up
process an emergency disclosure obliges, and the confidence record of agencies and officers."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from govreq.accounts.models import User
from govreq.agencies.confidence import (
    AgencyTrustFacts,
    FlagFact,
    OfficerTrustFacts,
    agency_confidence,
    officer_confidence,
)
from govreq.agencies.models import FraudFlag
from govreq.agencies.trust import agency_contact_add
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, NotFound, ValidationFailed
from govreq.lifecycle import reviewing, trusting
from govreq.review.confidence import agency_confidence_now, confidence_refresh
from govreq.review.models import FollowUpObligation
from govreq.review.services import latest_findings
from tests.review_helpers import (
    EMERGENCY,
    approve,
    confirm_by_call_back,
    make_staff,
    submit,
    verified_contact,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def staff(db):
    return make_staff()


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def decided_emergency(officer, staff):
    request = submit(officer, document=False, **EMERGENCY)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="Danger to life",
        now=timezone.now(),
    )
    return request


# --- the call-back ---------------------------------------------------------------------------


def test_an_emergency_is_not_approved_without_a_confirmed_call_back(chan, staff, api_as):
    request = decided_emergency(chan, staff)
    with pytest.raises(Conflict) as refused:
        reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    assert refused.value.code == "callback_required"
    response = api_as(staff.tokens["ana"]).post(
        f"/staff/requests/{request.public_id}/approvals", {}
    )
    assert (response.status_code, response.json()["code"]) == (409, "callback_required")
    with pytest.raises(CommandError, match="call the agency back"):
        run("request", "approve", request.reference, "--as", "alex@platform.example")
    # No answer is not a confirmation.
    contact = verified_contact(request, staff)
    reviewing.call_back(
        actor=staff.actor("rita"),
        request=request,
        contact_id=contact.pk,
        called_at=timezone.now(),
        outcome="NO_ANSWER",
        now=timezone.now(),
    )
    with pytest.raises(Conflict, match="call the agency back"):
        reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    # Over the API, on the verified number: then the two approvals go through.
    rita = api_as(staff.tokens["rita"])
    called = rita.post(
        f"/staff/requests/{request.public_id}/call-backs",
        {
            "contact_id": contact.pk,
            "called_at": timezone.now().isoformat(),
            "outcome": "CONFIRMED",
            "person_reached": "Duty inspector Lam",
        },
    )
    assert called.status_code == 201, called.content
    body = called.json()
    assert body["call_backs"][-1]["outcome"] == "CONFIRMED"
    assert next(c for c in body["checks"] if c["code"] == "CALL_BACK")["outcome"] == "PASS"
    for name in ("alex", "ana"):
        reviewing.approval_give(actor=staff.actor(name), request=request, now=timezone.now())
    request.refresh_from_db()
    assert request.status == "APPROVED"


def test_a_call_back_uses_only_the_agencys_verified_numbers(chan, rivera, staff, api_as):
    request = decided_emergency(chan, staff)
    american = submit(rivera)
    other = verified_contact(american, staff)  # the FBI's switchboard, not Hong Kong's
    with pytest.raises(NotFound):
        reviewing.call_back(
            actor=staff.actor("rita"),
            request=request,
            contact_id=other.pk,
            called_at=timezone.now(),
            outcome="CONFIRMED",
            person_reached="Someone",
            now=timezone.now(),
        )
    contact = verified_contact(request, staff)
    bad = api_as(staff.tokens["rita"]).post(
        f"/staff/requests/{request.public_id}/call-backs",
        {
            "contact_id": contact.pk,
            "called_at": (timezone.now() + timedelta(hours=1)).isoformat(),
            "outcome": "CONFIRMED",
        },
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"called_at", "person_reached"} <= fields
    with pytest.raises(ValidationFailed):
        agency_contact_add(
            actor=staff.actor("ivy"),
            agency=request.agency,
            kind="SWITCHBOARD",
            phone="call me",
            directory="",
            now=timezone.now(),
        )


def test_not_confirmed_blocks_the_request_and_flags_the_officer(chan, staff):
    request = decided_emergency(chan, staff)
    before = agency_confidence_now(request.agency, now=timezone.now()).score
    reviewing.call_back(
        actor=staff.actor("rita"),
        request=request,
        contact_id=verified_contact(request, staff).pk,
        called_at=timezone.now(),
        outcome="NOT_CONFIRMED",
        person_reached="Duty officer",
        notes="Nobody at the force knows of this request",
        now=timezone.now(),
    )
    request.refresh_from_db()
    assert request.check_outcome == "BLOCK"
    (finding,) = [f for f in latest_findings(request) if f.code == "CALL_BACK"]
    assert finding.outcome == "BLOCK" and "did not confirm" in finding.message
    flag = FraudFlag.objects.get()
    assert (flag.kind, flag.officer, flag.request_reference) == (
        "CALLBACK_NOT_CONFIRMED",
        chan,
        request.reference,
    )
    after = agency_confidence_now(request.agency, now=timezone.now())
    assert after.score < before
    assert any("call-back did not confirm" in r.text for r in after.reasons)
    with pytest.raises(Conflict) as refused:
        reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    assert refused.value.code in ("callback_required", "blocked_by_checks")


# --- the follow-up process ---------------------------------------------------------------------


def test_an_emergency_disclosure_obliges_legal_process_and_missing_it_lowers_confidence(
    chan, staff, django_capture_on_commit_callbacks
):
    request = approve(submit(chan, document=False, **EMERGENCY), staff)
    obligation = FollowUpObligation.objects.get(emergency=request)
    assert timedelta(days=29) < obligation.due_at - timezone.now() <= timedelta(days=30)
    confidence_refresh(request.agency, now=timezone.now())
    before = agency_confidence_now(request.agency, now=timezone.now()).score
    # Nothing happens before it is due.
    assert trusting.trust_sweep(actor=Actor.system("worker"), now=timezone.now()).missed == []
    late = obligation.due_at + timedelta(minutes=1)
    mail.outbox.clear()
    User.objects.filter(email="rita@platform.example").update(language="zh-hant")
    with django_capture_on_commit_callbacks(execute=True):  # the worker's trust job, then mail
        out = io.StringIO()
        call_command("worker", "--once", "--at", late.isoformat(), stdout=out)
    assert "1 follow-up(s) missed" in out.getvalue()
    assert trusting.trust_sweep(actor=Actor.system("worker"), now=late).missed == []  # once
    flag = FraudFlag.objects.get(kind="FOLLOW_UP_MISSED")
    assert flag.request_reference == request.reference
    assert agency_confidence_now(request.agency, now=late).score < before
    told = {m.to[0]: m for m in mail.outbox if "[govreq] " + request.reference in m.subject}
    reviewers = set(
        User.objects.filter(role_assignments__role="REVIEWER").values_list("email", flat=True)
    )
    assert set(told) == reviewers and all(len(m.to) == 1 for m in told.values())
    # Each in their own language: rita reads Chinese, the others English.
    assert "緊急請求之後沒有補交法律程序文件" in told["rita@platform.example"].subject
    assert "補交正式法律程序文件" in told["rita@platform.example"].body
    assert all(
        "no legal process followed" in m.subject
        for to, m in told.items()
        if to != "rita@platform.example"
    )
    # The warrant arrives late: a reviewer links it.
    warrant = submit(chan)
    run(
        "request",
        "follow-up",
        request.reference,
        warrant.reference,
        "--as",
        "rita@platform.example",
    )
    obligation.refresh_from_db()
    assert obligation.fulfilled_by == warrant


def test_a_follow_up_must_be_formal_process_from_the_same_agency(chan, rivera, staff):
    emergency = approve(submit(chan, document=False, **EMERGENCY), staff)
    other_emergency = submit(chan, document=False, **EMERGENCY)
    with pytest.raises(ValidationFailed, match="not formal legal process"):
        trusting.follow_up_link(
            actor=staff.actor("rita"),
            emergency=emergency,
            follow_up=other_emergency,
            now=timezone.now(),
        )
    with pytest.raises(ValidationFailed, match="another agency"):
        trusting.follow_up_link(
            actor=staff.actor("rita"),
            emergency=emergency,
            follow_up=submit(rivera),
            now=timezone.now(),
        )
    ordinary = submit(chan)
    with pytest.raises(NotFound):  # a court order owes no follow-up
        trusting.follow_up_link(
            actor=staff.actor("rita"), emergency=ordinary, follow_up=ordinary, now=timezone.now()
        )


# --- confidence ----------------------------------------------------------------------------------


def _facts(**changes) -> AgencyTrustFacts:
    base = {
        "status": "VERIFIED",
        "verified_at": NOW - timedelta(days=30),
        "verification_method": "Call-back to the switchboard",
        "contacts": 1,
        "answered": 25,
        "flags": (),
        "now": NOW,
        "reverify_days": 365,
        "flag_window_days": 365,
    }
    return AgencyTrustFacts(**{**base, **changes})


def test_confidence_explains_itself():
    trusted = agency_confidence(_facts())
    assert (trusted.score, trusted.level) == (67, "MEDIUM")  # 50 + 15 + 2
    assert [r.points for r in trusted.reasons] == [50, 15, 2]
    assert trusted.reverify_due == NOW + timedelta(days=335)
    overdue = agency_confidence(_facts(verified_at=NOW - timedelta(days=400)))
    assert overdue.reverify_overdue and overdue.score == trusted.score - 15
    flagged = agency_confidence(
        _facts(flags=(FlagFact(kind="CALLBACK_NOT_CONFIRMED", raised_at=NOW - timedelta(days=3)),))
    )
    assert flagged.score == trusted.score - 30 and flagged.level == "LOW"
    old_flag = agency_confidence(
        _facts(flags=(FlagFact(kind="OTHER", raised_at=NOW - timedelta(days=400)),))
    )
    assert old_flag.score == trusted.score  # outside the window
    assert agency_confidence(_facts(status="SUSPENDED", contacts=0, answered=0)).score == 0
    assert agency_confidence(_facts(answered=500)).score == 80  # history counts up to 15
    officer = officer_confidence(
        trusted,
        OfficerTrustFacts(
            created_at=NOW - timedelta(hours=2),
            answered=0,
            flags=(),
            now=NOW,
            new_officer_days=7,
            flag_window_days=365,
        ),
    )
    assert officer.score == trusted.score - 15
    assert "created 0 day(s) ago" in officer.reasons[1].text


def test_confidence_over_the_api_the_cli_and_the_queue(chan, rivera, staff, api_as):
    hk = submit(chan)
    us = submit(rivera)
    confirm_by_call_back(us, staff)  # the FBI gets a verified number; Hong Kong none
    trusting.trust_sweep(actor=Actor.system("worker"), now=timezone.now())
    rita = api_as(staff.tokens["rita"])
    case = rita.get(f"/staff/requests/{hk.public_id}").json()
    us_case = rita.get(f"/staff/requests/{us.public_id}").json()
    # Verified +50; Hong Kong has no verified number (-10), the FBI one (+15).
    assert (case["agency_confidence"]["score"], us_case["agency_confidence"]["score"]) == (40, 65)
    assert any("No verified contact" in r["text"] for r in case["agency_confidence"]["reasons"])
    assert case["agency_contacts"] == []
    queue = rita.get("/staff/requests?order=confidence").json()["items"]
    assert [item["reference"] for item in queue][:2] == [hk.reference, us.reference]
    assert queue[0]["agency_confidence"] < queue[1]["agency_confidence"]
    ivy = api_as(staff.tokens["ivy"])
    added = ivy.post(
        f"/staff/agencies/{hk.agency_id}/contacts",
        {"phone": "+852 5550 0001", "directory": "Hong Kong Government Directory"},
    )
    assert added.status_code == 201, added.content
    assert added.json()["contacts"][0]["phone"] == "+85255500001"
    assert "confidence" in run("trust", "show", str(hk.agency_id))
    out = run(
        "trust",
        "reverify",
        str(hk.agency_id),
        "--method",
        "Called the switchboard",
        "--as",
        "ivy@platform.example",
    )
    assert "verified again" in out
    bad = ivy.post(f"/staff/agencies/{hk.agency_id}/contacts", {"phone": "+852", "directory": "x"})
    assert bad.status_code == 422


def test_an_emergency_whose_disclosure_was_undone_owes_no_follow_up(chan, staff):
    request = approve(submit(chan, document=False, **EMERGENCY), staff)
    obligation = FollowUpObligation.objects.get(emergency=request)
    reviewing.request_return_to_review(
        actor=staff.actor("rita"), request=request, reason="Wrong account", now=timezone.now()
    )
    late = obligation.due_at + timedelta(days=1)
    assert trusting.trust_sweep(actor=Actor.system("worker"), now=late).missed == []
    assert not FraudFlag.objects.filter(kind="FOLLOW_UP_MISSED").exists()


def test_a_confirmation_needs_a_second_person(chan, staff):
    request = decided_emergency(chan, staff)
    contact = verified_contact(request, staff)  # verified by ivy (intake)
    reviewing.call_back(
        actor=staff.actor("rita"),
        request=request,
        contact_id=contact.pk,
        called_at=timezone.now(),
        outcome="NOT_CONFIRMED",
        person_reached="Duty officer",
        now=timezone.now(),
    )
    with pytest.raises(Conflict) as same_reviewer:
        reviewing.call_back(
            actor=staff.actor("rita"),
            request=request,
            contact_id=contact.pk,
            called_at=timezone.now(),
            outcome="CONFIRMED",
            person_reached="Someone else",
            now=timezone.now(),
        )
    assert same_reviewer.value.code == "four_eyes"
    with pytest.raises(Conflict) as own_number:
        reviewing.call_back(
            actor=staff.actor("ivy"),
            request=request,
            contact_id=contact.pk,
            called_at=timezone.now(),
            outcome="CONFIRMED",
            person_reached="Someone",
            now=timezone.now(),
        )
    assert own_number.value.code == "four_eyes"
    reviewing.call_back(
        actor=staff.actor("raj"),
        request=request,
        contact_id=contact.pk,
        called_at=timezone.now(),
        outcome="CONFIRMED",
        person_reached="Superintendent on duty",
        now=timezone.now(),
    )
