"""Regression tests for defects found in review: each one failed before its fix."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from govreq.accounts.models import User
from govreq.core.errors import Conflict, PermissionDenied
from govreq.intake.models import LegalRequest
from govreq.lifecycle import reviewing
from govreq.lifecycle.rechecking import agency_suspend
from tests.conftest import valid_submission
from tests.hold_helpers import hold_place
from tests.review_helpers import EMERGENCY, HR_ASSESSMENT, confirm_by_call_back, make_staff, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return make_staff()


def decided(request, staff):
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="ok",
        now=timezone.now(),
    )
    request.refresh_from_db()
    return request


def test_hold_exception_placed_after_a_decision_still_needs_the_hr_officer(staff, rivera):
    request = decided(submit(rivera, document=False, **EMERGENCY), staff)
    hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="US",
        effective_from=timezone.now() - timedelta(minutes=1),
        reason="x",
        allow_emergency=True,
        now=timezone.now(),
    )
    request.refresh_from_db()
    assert request.status == "DECIDED" and request.needs_human_rights_approval
    confirm_by_call_back(request, staff)
    for name in ("alex", "ana"):
        reviewing.approval_give(actor=staff.actor(name), request=request, now=timezone.now())
    request.refresh_from_db()
    assert request.status == "DECIDED"
    reviewing.approval_give(
        actor=staff.actor("hana"), request=request, assessment=HR_ASSESSMENT, now=timezone.now()
    )
    request.refresh_from_db()
    assert request.status == "APPROVED"


def test_a_suspended_agencys_request_cannot_be_approved(staff, rivera):
    request = decided(submit(rivera), staff)
    agency_suspend(
        actor=staff.actor("ivy"),
        agency=rivera.agency,
        reason="Hijacked mailbox",
        now=timezone.now(),
    )
    request.refresh_from_db()
    assert request.check_outcome == "BLOCK"
    with pytest.raises(Conflict) as error:
        reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    assert error.value.code == "blocked_by_checks"
    assert "AGENCY_NOT_VERIFIED" in error.value.message


@pytest.mark.parametrize(
    "command",
    [
        [
            "staff",
            "add",
            "--email",
            "evil@platform.example",
            "--name",
            "E",
            "--role",
            "POLICY_ADMIN",
        ],
        [
            "agency",
            "add",
            "--name",
            "X",
            "--jurisdiction",
            "SG",
            "--kind",
            "POLICE",
            "--domain",
            "x.gov.sg",
        ],
        ["officer", "token", "j.rivera@fbi.gov"],
        ["staff", "token", "rita@platform.example"],
    ],
)
def test_read_only_staff_cannot_administer(staff, rivera, command):
    with pytest.raises(CommandError, match="role"):
        call_command(*command, "--as", "aud@platform.example", stdout=StringIO(), stderr=StringIO())
    assert not User.objects.filter(email="evil@platform.example").exists()


def test_read_only_staff_cannot_withdraw_or_key_in(staff, rivera):
    request = submit(rivera)
    from govreq.lifecycle.receiving import request_withdraw

    with pytest.raises(PermissionDenied):
        request_withdraw(actor=staff.actor("aud"), request=request, reason="x", now=timezone.now())
    with pytest.raises(PermissionDenied):
        submit_as = staff.actor("aud")
        from govreq.intake.models import Channel
        from govreq.intake.schemas import RequestSubmission
        from govreq.lifecycle.receiving import request_submit

        request_submit(
            actor=submit_as,
            officer=rivera,
            channel=Channel.STAFF,
            now=timezone.now(),
            submission=RequestSubmission.model_validate(valid_submission()),
        )


def test_an_officer_cannot_withdraw_another_agencys_request(chan, rivera):
    from govreq.core.actors import Actor
    from govreq.core.errors import NotFound
    from govreq.lifecycle.receiving import request_withdraw

    request = submit(chan)
    with pytest.raises(NotFound):
        request_withdraw(
            actor=Actor.for_officer(rivera), request=request, reason="x", now=timezone.now()
        )


def test_a_thousand_targets_are_accepted(api_as, chan_token):
    body = valid_submission(targets=[{"type": "USER_ID", "value": str(i)} for i in range(1000)])
    response = api_as(chan_token).post("/requests", body)
    assert response.status_code == 201, response.content[:300]
    again = api_as(chan_token).post("/requests", body)
    assert again.status_code == 201
    case = LegalRequest.objects.get(public_id=again.json()["id"])
    duplicate = case.check_runs.first().results.get(code="DUPLICATE")
    assert duplicate.outcome == "WARN"


def test_naive_and_out_of_range_hold_input_is_422(api_as, staff):
    pat = api_as(staff.tokens["pat"])
    naive = pat.post(
        "/staff/holds",
        {"jurisdiction": "HK", "effective_from": "2020-01-01T00:00:00", "reason": "x"},
    )
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "effective_from"
    huge = pat.post(
        "/staff/holds",
        {
            "jurisdiction": "HK",
            "effective_from": "2020-01-01T00:00:00Z",
            "reason": "x",
            "scope_agencies": [10**20],
        },
    )
    assert huge.status_code == 422


def test_far_future_deadline_and_nul_characters_are_422(api_as, chan_token):
    far = api_as(chan_token).post(
        "/requests", valid_submission(deadline_at="9999-12-31T23:59:59-12:00")
    )
    assert far.status_code == 422
    nul = api_as(chan_token).post("/requests", valid_submission(narrative="a\u0000b"))
    assert nul.status_code == 422
    assert LegalRequest.objects.count() == 0


def test_closed_requests_take_no_answers(staff, chan, api_as, chan_token):
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    question = reviewing.clarification_ask(
        actor=staff.actor("rita"), request=request, question="?", now=timezone.now()
    )
    api_as(chan_token).post(f"/requests/{request.public_id}/withdraw", {"reason": "done"})
    response = api_as(chan_token).post(
        f"/requests/{request.public_id}/clarifications/{question.pk}/answer", {"answer": "late"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "request_closed"


def test_console_sign_in_locks_out_guessing(staff):
    user = staff.users["rita"]
    user.set_password("right password here")
    user.save()
    client = Client()
    for _ in range(10):
        response = client.post("/console/sign-in", {"email": user.email, "password": "wrong"})
        assert response.status_code == 200
    blocked = client.post(
        "/console/sign-in", {"email": user.email, "password": "right password here"}
    )
    assert blocked.status_code == 429


def test_client_address_comes_from_a_trusted_proxy_only(settings):
    from govreq.web.middleware import TrustedProxyMiddleware

    seen = {}

    def view(request):
        seen["ip"] = request.META["REMOTE_ADDR"]
        return None

    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    middleware = TrustedProxyMiddleware(view)
    from django.test import RequestFactory

    factory = RequestFactory()
    middleware(
        factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    )
    assert seen["ip"] == "203.0.113.9"
    middleware(factory.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4"))
    assert seen["ip"] == "198.51.100.7"
