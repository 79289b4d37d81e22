"""Officers are told there is news (a question, a decision, a package), by a link only."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from govreq.disclosure.models import Production
from govreq.lifecycle import disclosing, reviewing
from tests.review_helpers import approve, make_staff, submit

pytestmark = pytest.mark.django_db


def test_question_decision_and_package_mails_carry_a_link_and_nothing_else(
    chan, platform, django_capture_on_commit_callbacks
):
    staff = make_staff()
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        reviewing.clarification_ask(
            actor=staff.actor("rita"),
            request=request,
            question="Which of the accounts did the victim pay?",
            now=timezone.now(),
        )
    [question] = mail.outbox
    assert question.to == ["chan@police.gov.hk"]
    assert request.reference in question.subject and "平台就貴機構的請求" in question.subject
    assert f"/portal/requests/{request.public_id}" in question.body
    assert "victim" not in question.body  # the question itself stays in the portal

    mail.outbox.clear()
    other = submit(chan, agency_case_number="KC-2026-0099")
    with django_capture_on_commit_callbacks(execute=True):
        other = approve(other, staff)
    to_officer = [m for m in mail.outbox if m.to == ["chan@police.gov.hk"]]
    assert [m.subject for m in to_officer] == [
        f"平台已答覆貴機構的請求 {other.reference}。 / The platform has answered your request "
        f"{other.reference}."
    ]
    mail.outbox.clear()
    production = Production.objects.get(request=other)
    assert production.status == "READY"  # collected when the approval committed
    with django_capture_on_commit_callbacks(execute=True):
        disclosing.production_release(
            actor=staff.actor("rita"), production=production, now=timezone.now()
        )
    [ready] = mail.outbox
    assert "ready to download" in ready.body
    assert "scammer_hk" not in ready.body and "@" not in ready.body.split("\n")[0]


def test_nothing_is_mailed_when_the_transaction_rolls_back(chan):
    staff = make_staff()
    request = submit(chan)
    with pytest.raises(Exception):  # noqa: B017 - any refusal: here a missing question
        reviewing.clarification_ask(
            actor=staff.actor("rita"), request=request, question="", now=timezone.now()
        )
    assert mail.outbox == []
