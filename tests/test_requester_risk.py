"""Risk signals on the requester (REQUESTER_RISK) through real submissions: the facts gathered
from the database, the WARN or BLOCK on a request, and the BLOCK cleared only by a confirmed
call-back. The signals themselves are tested one by one in tests/test_checks.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from govreq.agencies.models import Agency, FraudFlagKind, Officer
from govreq.agencies.services import officer_add
from govreq.agencies.trust import fraud_flag_raise
from govreq.api.tokens import api_token_issue
from govreq.core.actors import Actor
from govreq.core.errors import Conflict
from govreq.intake.models import Channel, LegalRequest
from govreq.intake.schemas import RequestSubmission
from govreq.lifecycle import reviewing
from govreq.lifecycle.receiving import request_submit
from govreq.policy.selectors import policy_current
from govreq.review.checks import BLOCK, PASS, WARN, Finding
from govreq.review.facts import request_facts
from govreq.review.services import latest_findings
from tests.conftest import SYSTEM, valid_submission
from tests.review_helpers import EMERGENCY, Staff, confirm_by_call_back, make_staff, submit

pytestmark = pytest.mark.django_db

URGENT_EMERGENCY = {
    **EMERGENCY,
    "narrative": "URGENT: kidnapping in progress; the captors use the account. 請立即提供資料。",
}


@pytest.fixture
def staff(db: None) -> Staff:
    return make_staff()


def risk_of(request: LegalRequest) -> Finding:
    return next(f for f in latest_findings(request) if f.code == "REQUESTER_RISK")


def veteran(agency: Agency, *, days: int = 400) -> Officer:
    """An officer whose account is older than the policy's new-officer days."""
    return officer_add(
        actor=SYSTEM,
        agency=agency,
        email="senior.inspector@police.gov.hk",
        name="Senior Inspector Wong",
        now=timezone.now() - timedelta(days=days),
    )


def submit_through(officer: Officer, channel: Channel, *, days_ago: int, **overrides: Any) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    request_submit(
        actor=Actor.for_officer(officer),
        officer=officer,
        submission=RequestSubmission.model_validate(valid_submission(**overrides)),
        channel=channel,
        now=timezone.now(),
        received_at=at,
    )


def test_officer_created_today_sending_an_urgent_emergency_is_blocked_naming_each_reason(
    chan: Officer,
) -> None:
    request = submit(chan, document=False, **URGENT_EMERGENCY)
    finding = risk_of(request)
    assert finding.outcome == BLOCK
    assert finding.message.startswith(
        "Risk signals on the requester: officer account created 0 days before the request; "
        "first request is an emergency; urgency words: 'urgent', '立即'."
    )
    assert request.check_outcome == BLOCK


def test_a_block_refuses_the_decision_until_a_confirmed_call_back_clears_it(
    chan: Officer, staff: Staff
) -> None:
    request = submit(chan, document=False, **URGENT_EMERGENCY)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    with pytest.raises(Conflict) as refused:
        reviewing.decision_make(
            actor=staff.actor("rita"),
            request=request,
            outcome="FULL",
            rationale="Danger to life",
            now=timezone.now(),
        )
    assert refused.value.code == "blocked_by_checks"
    assert "REQUESTER_RISK: Risk signals on the requester" in str(refused.value)

    confirm_by_call_back(request, staff)
    finding = risk_of(request)
    assert finding.outcome == WARN
    assert f"Cleared by the call-back to +85228602000 on {timezone.now():%Y-%m-%d}" in (
        finding.message
    )
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="Danger to life, confirmed by the duty inspector",
        now=timezone.now(),
    )
    for name in ("alex", "ana"):
        reviewing.approval_give(actor=staff.actor(name), request=request, now=timezone.now())
    request.refresh_from_db()
    assert request.status == "APPROVED"


def test_a_fraud_flag_raised_after_the_decision_refuses_the_approval_until_a_call_back(
    chan: Officer, hkpf: Agency, staff: Staff
) -> None:
    # A new officer's urgent court order: two signals, a WARN; the decision is made.
    request = submit(chan, narrative="Investment scam; urgent, the money leaves tonight.")
    assert risk_of(request).outcome == WARN
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="Valid and narrow",
        now=timezone.now(),
    )
    # Then another request of the agency fails its call-back: a third signal.
    fraud_flag_raise(
        actor=staff.actor("rita"),
        agency=hkpf,
        kind=FraudFlagKind.CALLBACK_NOT_CONFIRMED,
        request_reference="HK-OTHER",
        now=timezone.now(),
    )
    with pytest.raises(Conflict) as refused:
        reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    assert refused.value.code == "blocked_by_checks"
    assert "1 fraud flag(s) on the agency in the last 365 days" in str(refused.value)

    confirm_by_call_back(request, staff)
    for name in ("alex", "ana"):
        reviewing.approval_give(actor=staff.actor(name), request=request, now=timezone.now())
    request.refresh_from_db()
    assert request.status == "APPROVED"
    assert "Cleared by the call-back" in risk_of(request).message


def test_a_veteran_officer_through_the_usual_channel_passes(hkpf: Agency) -> None:
    wong = veteran(hkpf)
    for days_ago in (90, 60, 30):
        submit_through(wong, Channel.PORTAL, days_ago=days_ago)
    submit_through(wong, Channel.PORTAL, days_ago=0)
    request = LegalRequest.objects.filter(officer=wong).order_by("-received_at").first()
    assert request is not None
    assert risk_of(request).outcome == PASS


def test_the_facts_count_earlier_requests_by_channel_tokens_and_flags(
    hkpf: Agency, chan: Officer
) -> None:
    wong = veteran(hkpf)
    for days_ago in (90, 60, 30):
        submit_through(wong, Channel.PORTAL, days_ago=days_ago)
    submit_through(wong, Channel.STAFF, days_ago=20)
    api_token_issue(actor=SYSTEM, officer=wong, now=timezone.now() - timedelta(days=2))
    now = timezone.now()
    # On the agency: one flag inside the window, one outside; one on Wong, one on Chan.
    fraud_flag_raise(
        actor=SYSTEM, agency=hkpf, kind=FraudFlagKind.OTHER, now=now - timedelta(days=400)
    )
    fraud_flag_raise(
        actor=SYSTEM,
        agency=hkpf,
        officer=chan,
        kind=FraudFlagKind.OTHER,
        now=now - timedelta(days=3),
    )
    request = submit(wong)  # through the API
    _, policy = policy_current()
    requester = request_facts(request, policy, now=timezone.now()).requester
    assert requester is not None
    assert requester.officer_created_on == (now - timedelta(days=400)).date()
    assert requester.token_created_on == (now - timedelta(days=2)).date()
    assert requester.channel == "API"
    assert requester.earlier_by_channel == {"PORTAL": 3, "STAFF": 1}
    assert (requester.agency_flags, requester.officer_flags) == (1, 0)
    assert requester.agency_latest_flag_on == (now - timedelta(days=3)).date()

    finding = risk_of(request)  # three signals: a BLOCK
    assert finding.outcome == BLOCK
    assert finding.details["signals"] == [
        "AGENCY_FRAUD_FLAGS",
        "NEW_CREDENTIALS",
        "UNUSUAL_CHANNEL",
    ]
    assert "API token created 2 days before the request" in finding.message
    assert (
        "sent through the API, while 3 of the officer's 4 earlier requests came through the "
        "portal" in finding.message
    )


def test_a_token_is_a_signal_only_for_requests_through_the_api(hkpf: Agency) -> None:
    wong = veteran(hkpf)
    api_token_issue(actor=SYSTEM, officer=wong, now=timezone.now())
    submit_through(wong, Channel.PORTAL, days_ago=0)
    request = LegalRequest.objects.get(officer=wong)
    _, policy = policy_current()
    requester = request_facts(request, policy, now=timezone.now()).requester
    assert requester is not None and requester.token_created_on is None
    assert risk_of(request).outcome == PASS


def test_a_fraud_flag_on_the_officer_blocks_even_a_veteran(hkpf: Agency) -> None:
    wong = veteran(hkpf)
    fraud_flag_raise(
        actor=SYSTEM,
        agency=hkpf,
        officer=wong,
        kind=FraudFlagKind.CALLBACK_NOT_CONFIRMED,
        now=timezone.now() - timedelta(days=1000),
    )
    submit_through(wong, Channel.API, days_ago=0)
    finding = risk_of(LegalRequest.objects.get(officer=wong))
    assert finding.outcome == BLOCK
    assert finding.details["signals"] == ["OFFICER_FRAUD_FLAGS"]
