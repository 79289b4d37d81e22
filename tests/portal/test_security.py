"""Headers, CSRF, sign-in requirements and languages on every portal page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from govreq.accounts.models import User
from govreq.agencies.models import AccessRequest, Officer
from govreq.core.actors import Actor
from govreq.lifecycle.reviewing import clarification_ask, request_start_review
from tests.conftest import OnCommitClient
from tests.portal.conftest import code_from_mail, sign_in
from tests.portal.test_submit import form_data
from tests.review_helpers import submit

pytestmark = pytest.mark.django_db


def assert_safe_headers(response: object, url: str) -> None:
    csp = response["Content-Security-Policy"]  # type: ignore[index]
    assert "script-src 'self'" in csp, url
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    assert "frame-ancestors 'none'" in csp, url
    assert response["X-Frame-Options"] == "DENY", url  # type: ignore[index]


def assert_no_inline_code(html: str, url: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
    assert " style=" not in html and "<style" not in html, url
    assert not re.search(r"\son[a-z]+=", html), url


def test_every_portal_page_is_protected_by_headers(
    chan: Officer, chan_client: Client, rita: User
) -> None:
    request = submit(chan)
    actor = Actor.for_user(rita)
    request_start_review(actor=actor, request=request, now=timezone.now())
    clarification_ask(actor=actor, request=request, question="Which?", now=timezone.now())
    chan_client.post("/portal/new", form_data())
    public_pages = [
        "/portal/sign-in",
        "/portal/sign-in/code",
        "/portal/request-access",
        "/portal/request-access/sent",
    ]
    officer_pages = [
        "/portal/",
        "/portal/new",
        "/portal/new?change=1",
        "/portal/new/review",
        f"/portal/requests/{request.public_id}",
        f"/portal/new/sent/{request.public_id}",
    ]
    anonymous = OnCommitClient()
    for url in public_pages:
        response = anonymous.get(url)
        assert response.status_code == 200, url
        assert_safe_headers(response, url)
        assert_no_inline_code(response.content.decode(), url)
    for url in officer_pages:
        response = chan_client.get(url)
        assert response.status_code == 200, url
        assert_safe_headers(response, url)
        assert_no_inline_code(response.content.decode(), url)
        redirect = anonymous.get(url)
        assert redirect.status_code == 302 and redirect["Location"].startswith(
            "/portal/sign-in?next="
        ), url
    not_found = chan_client.get("/portal/requests/00000000-0000-0000-0000-000000000000")
    assert_safe_headers(not_found, "404")


def test_posts_without_a_csrf_token_are_refused(chan: Officer, rita: User) -> None:
    request = submit(chan)
    question = clarification_ask(
        actor=Actor.for_user(rita),
        request=request_start_review(
            actor=Actor.for_user(rita), request=request, now=timezone.now()
        ),
        question="Which?",
        now=timezone.now(),
    )
    client = OnCommitClient(enforce_csrf_checks=True)
    assert client.post("/portal/sign-in", {"email": chan.email}).status_code == 403
    # Signed in properly (with tokens), then every form posted without one.
    page = client.get("/portal/sign-in")
    token = page.cookies["csrftoken"].value
    client.post("/portal/sign-in", {"email": chan.email, "csrfmiddlewaretoken": token})
    code = code_from_mail(chan.email)
    assert (
        client.post("/portal/sign-in/code", {"email": chan.email, "code": code}).status_code == 403
    )
    response = client.post(
        "/portal/sign-in/code",
        {"email": chan.email, "code": code, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    base = f"/portal/requests/{request.public_id}"
    for url, data in [
        ("/portal/new", form_data()),
        ("/portal/new/send", {"draft": "x" * 24}),
        (f"{base}/clarifications/{question.pk}/answer", {"answer": "x"}),
        (f"{base}/withdraw", {"reason": "x"}),
        ("/portal/sign-out", {}),
        ("/portal/request-access", {"name": "x"}),
    ]:
        assert client.post(url, data).status_code == 403, url
    question.refresh_from_db()
    assert question.answered_at is None


@pytest.mark.parametrize("language", ["zh-TW", "zh-Hant-HK", "zh-HK,zh;q=0.9,en;q=0.8"])
def test_traditional_chinese_from_the_browser_language(db: None, language: str) -> None:
    html = OnCommitClient(HTTP_ACCEPT_LANGUAGE=language).get("/portal/sign-in").content.decode()
    assert '<html lang="zh-hant">' in html
    assert "登入機構入口網站" in html
    assert "以電郵傳送驗證碼給我" in html
    assert "官方電郵地址" in html


def test_english_by_default(db: None) -> None:
    html = OnCommitClient(HTTP_ACCEPT_LANGUAGE="de-DE").get("/portal/sign-in").content.decode()
    assert "Sign in to the agency portal" in html


def test_the_request_form_is_translated(chan: Officer) -> None:
    client = OnCommitClient(HTTP_ACCEPT_LANGUAGE="zh-TW")
    sign_in(client, chan)
    html = client.get("/portal/new").content.decode()
    assert "法律程序類別" in html  # kind of legal process
    assert "搜查令" in html  # search warrant, a model label translated by the portal
    assert "基本用戶資料" in html  # basic subscriber information


def test_request_access_creates_an_access_request_and_says_nothing_more(
    chan: Officer,
) -> None:
    answers = []
    for email in ["new.officer@police.gov.hk", chan.email]:
        client = OnCommitClient()
        response = client.post(
            "/portal/request-access",
            {
                "name": "Wong Siu-ming",
                "email": email,
                "badge_number": "HKP-77",
                "agency_name": "Hong Kong Police Force",
                "jurisdiction": "HK",
                "agency_kind": "POLICE",
                "note": "Cyber Security and Technology Crime Bureau",
            },
        )
        answers.append((response.status_code, response["Location"]))
    assert answers == [(302, "/portal/request-access/sent")] * 2
    access = AccessRequest.objects.get(email="new.officer@police.gov.hk")
    assert access.jurisdiction_id == "HK"
    assert access.agency_kind == "POLICE"
    assert access.status == "PENDING"
    assert AccessRequest.objects.count() == 2
    page = OnCommitClient().get("/portal/request-access/sent").content.decode()
    assert "verify your agency independently" in page


def test_request_access_shows_field_errors(db: None) -> None:
    response = OnCommitClient().post(
        "/portal/request-access",
        {"name": "", "email": "nope", "agency_name": "X", "jurisdiction": "ZZ", "agency_kind": "X"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address." in html
    assert "Select a valid choice." in html
    assert AccessRequest.objects.count() == 0


def test_request_access_is_rate_limited_per_client(db: None) -> None:
    data = {
        "name": "A",
        "email": "a@example.gov",
        "agency_name": "Agency",
        "jurisdiction": "GB",
        "agency_kind": "POLICE",
    }
    statuses = [
        OnCommitClient().post("/portal/request-access", data).status_code for _ in range(11)
    ]
    assert statuses == [302] * 10 + [429]
    assert AccessRequest.objects.count() == 10
