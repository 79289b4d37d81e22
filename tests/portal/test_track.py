"""Following requests: the list, a request's page, answering questions, withdrawing."""

from __future__ import annotations

import html as html_lib
import re
import uuid
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from govreq.accounts.models import User
from govreq.agencies.models import Officer
from govreq.core.actors import Actor
from govreq.intake.models import LegalRequest, RequestStatus
from govreq.lifecycle.reviewing import clarification_ask, request_start_review
from govreq.review.models import Clarification
from tests.conftest import OnCommitClient
from tests.review_helpers import submit

pytestmark = pytest.mark.django_db


def ask(request: LegalRequest, reviewer: User, question: str) -> Clarification:
    actor = Actor.for_user(reviewer)
    request = request_start_review(actor=actor, request=request, now=timezone.now())
    return clarification_ask(actor=actor, request=request, question=question, now=timezone.now())


def test_the_list_shows_only_the_agency_own_requests(
    chan: Officer, rivera: Officer, chan_client: Client
) -> None:
    own = submit(chan, narrative="Chan's case")
    other = submit(rivera, narrative="Rivera's case")
    html = chan_client.get("/portal/").content.decode()
    assert own.reference in html and "Chan&#x27;s case" in html
    assert other.reference not in html and "Rivera" not in html


def test_the_list_is_paginated(chan: Officer, chan_client: Client) -> None:
    references = [submit(chan, document=False).reference for _ in range(27)]
    first = chan_client.get("/portal/").content.decode()
    assert first.count('data-testid="request-row"') == 25
    assert references[-1] in first and references[0] not in first
    older = html_lib.unescape(re.search(r'href="([^"]+)" rel="next"', first)[1])  # type: ignore[index]
    second = chan_client.get("/portal/" + older).content.decode()
    assert second.count('data-testid="request-row"') == 2
    assert references[0] in second and references[-1] not in second
    assert 'rel="next"' not in second
    newer = html_lib.unescape(re.search(r'href="([^"]+)" rel="prev"', second)[1])  # type: ignore[index]
    back = chan_client.get("/portal/" + newer).content.decode()
    assert back.count('data-testid="request-row"') == 25 and references[-1] in back
    assert chan_client.get("/portal/?cursor=forged").status_code == 400


def test_a_request_page_shows_details_targets_documents_and_history(
    chan: Officer, chan_client: Client, rita: User
) -> None:
    request = submit(chan)
    ask(request, rita, "Which account exactly?")
    html = chan_client.get(f"/portal/requests/{request.public_id}").content.decode()
    assert f'data-testid="reference">{request.reference}<' in html
    assert 'data-testid="status">Needs clarification<' in html
    assert "scammer_hk" in html and "+85291234567" in html
    assert "order.pdf" in html
    assert "Investment scam advertised through the account." in html
    assert "Which account exactly?" in html
    assert "rita@platform.example" not in html  # staff are "the platform"
    assert "the platform" in html
    assert chan.email in html  # the officer's own step


def test_another_agency_request_is_not_found(
    chan: Officer, rivera: Officer, chan_client: Client, rita: User
) -> None:
    other = submit(rivera)
    question = ask(other, rita, "Which account?")
    base = f"/portal/requests/{other.public_id}"
    assert chan_client.get(base).status_code == 404
    assert chan_client.get(f"/portal/requests/{uuid.uuid4()}").status_code == 404
    assert chan_client.get(f"/portal/new/sent/{other.public_id}").status_code == 404
    answer = chan_client.post(f"{base}/clarifications/{question.pk}/answer", {"answer": "x"})
    assert answer.status_code == 404
    withdraw = chan_client.post(f"{base}/withdraw", {"reason": "x"})
    assert withdraw.status_code == 404
    other.refresh_from_db()
    question.refresh_from_db()
    assert other.status == RequestStatus.NEEDS_CLARIFICATION
    assert question.answered_at is None


def test_a_question_of_another_request_is_not_found(
    chan: Officer, chan_client: Client, rita: User
) -> None:
    mine = submit(chan)
    question = ask(submit(chan), rita, "Why?")
    url = f"/portal/requests/{mine.public_id}/clarifications/{question.pk}/answer"
    assert chan_client.post(url, {"answer": "x"}).status_code == 404


def test_withdraw(chan: Officer, chan_client: Client) -> None:
    request = submit(chan)
    url = f"/portal/requests/{request.public_id}/withdraw"
    refused = chan_client.post(url, {"reason": ""})
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    response = chan_client.post(url, {"reason": "Suspect arrested."})
    assert response["Location"] == f"/portal/requests/{request.public_id}"
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN
    html = chan_client.get(response["Location"]).content.decode()
    assert "The request was withdrawn." in html
    assert "Suspect arrested." in html
    assert 'data-testid="withdraw-form"' not in html  # no longer open
    again = chan_client.post(url, {"reason": "Again"}, follow=True)
    assert "can no longer be withdrawn" in again.content.decode()


def test_answering_a_question(chan: Officer, chan_client: Client, rita: User) -> None:
    request = submit(chan)
    question = ask(request, rita, "<i>Which</i> account?")
    page = chan_client.get(f"/portal/requests/{request.public_id}").content.decode()
    assert "&lt;i&gt;Which&lt;/i&gt; account?" in page
    assert 'hx-post="/portal/requests/' in page
    url = f"/portal/requests/{request.public_id}/clarifications/{question.pk}/answer"
    empty = chan_client.post(url, {"answer": " "})
    assert empty.status_code == 400
    response = chan_client.post(url, {"answer": "The one named @Scammer_HK."})
    assert response.status_code == 302
    assert response["Location"] == f"/portal/requests/{request.public_id}"
    question.refresh_from_db()
    request.refresh_from_db()
    assert question.answer == "The one named @Scammer_HK."
    assert question.answered_by == chan
    assert request.status == RequestStatus.IN_REVIEW
    again = chan_client.post(url, {"answer": "Twice"}, follow=True)
    assert "already answered" in again.content.decode()
    question.refresh_from_db()
    assert question.answer == "The one named @Scammer_HK."


def test_answering_with_htmx_swaps_only_the_question(
    chan: Officer, chan_client: Client, rita: User
) -> None:
    request = submit(chan)
    question = ask(request, rita, "Which account?")
    url = f"/portal/requests/{request.public_id}/clarifications/{question.pk}/answer"
    invalid = chan_client.post(url, {"answer": ""}, headers={"HX-Request": "true"})
    assert invalid.status_code == 200
    assert invalid.content.decode().startswith(f'<li class="card" id="clarification-{question.pk}"')
    assert "This field is required." in invalid.content.decode()
    response = chan_client.post(url, {"answer": "<b>this</b> one"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="card" id="clarification-{question.pk}"')
    assert "<!DOCTYPE" not in html
    assert "&lt;b&gt;this&lt;/b&gt; one" in html
    assert 'id="request-status" hx-swap-oob="true"' in html and "In review" in html


def test_an_htmx_request_after_the_session_ended_redirects_the_whole_page(
    chan: Officer, rita: User
) -> None:
    request = submit(chan)
    question = ask(request, rita, "Which?")
    url = f"/portal/requests/{request.public_id}/clarifications/{question.pk}/answer"
    response = OnCommitClient().post(url, {"answer": "x"}, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == "/portal/sign-in"


def test_times_are_shown_in_the_agency_zone_and_name_it(
    chan: Officer, chan_client: Client, rivera: Officer, client_as
) -> None:
    """A Hong Kong officer sees HKT; an officer of a country with several zones sees their
    browser's region's zone, or UTC, each named."""
    mine = submit(chan)
    html = chan_client.get(f"/portal/requests/{mine.public_id}").content.decode()
    local = mine.received_at.astimezone(ZoneInfo("Asia/Hong_Kong"))
    assert f"{local:%Y-%m-%d %H:%M} HKT" in html
    assert f"{local:%Y-%m-%d %H:%M} HKT" in chan_client.get("/portal/").content.decode()
    theirs = submit(rivera)
    rivera_client = client_as(rivera)
    page = f"/portal/requests/{theirs.public_id}"
    html = rivera_client.get(page).content.decode()
    assert f"{theirs.received_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in html
    london = theirs.received_at.astimezone(ZoneInfo("Europe/London"))
    html = rivera_client.get(page, HTTP_ACCEPT_LANGUAGE="en-GB").content.decode()
    assert f"{london:%Y-%m-%d %H:%M} {london.tzname()}" in html
