"""Signing in with an e-mailed one-time code."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from govreq.agencies.models import Agency, Officer
from govreq.agencies.services import officer_add, officer_suspend
from govreq.audit.models import AuditEvent
from govreq.lifecycle.rechecking import agency_suspend
from govreq.portal import services
from govreq.portal.auth import SESSION_LAST_SEEN, SESSION_OFFICER
from govreq.portal.models import LoginCode
from tests.conftest import SYSTEM, OnCommitClient, make_agency
from tests.portal.conftest import code_from_mail, sign_in

pytestmark = pytest.mark.django_db
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def ask_code(client: Client, email: str, **extra: Any) -> Any:
    return client.post("/portal/sign-in", {"email": email}, **extra)


def enter_code(client: Client, email: str, code: str, **extra: Any) -> Any:
    return client.post("/portal/sign-in/code", {"email": email, "code": code}, **extra)


def test_sign_in_happy_path(chan: Officer) -> None:
    client = OnCommitClient()
    client.get("/portal/sign-in")
    response = ask_code(client, "  CHAN@police.gov.hk ")
    assert response.status_code == 302
    assert response["Location"] == "/portal/sign-in/code"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["chan@police.gov.hk"]
    assert message.subject == "Your govreq sign-in code"
    code = code_from_mail("chan@police.gov.hk")
    assert LoginCode.objects.get().code_hash != code  # only a keyed hash is stored
    assert code not in LoginCode.objects.get().code_hash

    page = client.get("/portal/sign-in/code")
    assert b'value="chan@police.gov.hk"' in page.content
    key_before = client.session.session_key
    response = enter_code(client, "chan@police.gov.hk", code[:4] + " " + code[4:])
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert client.session.session_key != key_before  # the session key rotates
    assert client.session[SESSION_OFFICER] == chan.pk
    listing = client.get("/portal/")
    assert listing.status_code == 200
    assert "Hong Kong Police Force" in listing.content.decode()
    event = AuditEvent.objects.filter(action="portal.signed_in").get()
    assert event.object_id == str(chan.pk)


def test_the_code_request_answers_the_same_for_every_address(chan: Officer) -> None:
    suspended = officer_add(
        actor=SYSTEM,
        agency=chan.agency,
        email="gone@police.gov.hk",
        name="Gone",
        now=timezone.now(),
    )
    officer_suspend(actor=SYSTEM, officer=suspended, reason="left", now=timezone.now())
    pending = make_agency("Pending Police", "GB", "pending.police.uk", verified=False)
    officer_add(
        actor=SYSTEM, agency=pending, email="p@pending.police.uk", name="P", now=timezone.now()
    )
    addresses = [
        "chan@police.gov.hk",
        "nobody@police.gov.hk",
        "gone@police.gov.hk",
        "p@pending.police.uk",
        "someone@example.com",
    ]
    answers = []
    for address in addresses:
        client = OnCommitClient()
        response = ask_code(client, address)
        page = client.get("/portal/sign-in/code")
        answers.append(
            (
                response.status_code,
                response["Location"],
                response.content,
                page.status_code,
                CSRF_TOKEN.sub("", page.content.decode().replace(address, "ADDRESS")),
            )
        )
    for address, answer in zip(addresses, answers, strict=True):
        assert answer == answers[0], address
    assert [message.to for message in mail.outbox] == [["chan@police.gov.hk"]]
    assert LoginCode.objects.count() == 1


def test_an_agency_suspended_or_an_address_off_its_domains_gets_no_code(
    chan: Officer, hkpf: Agency
) -> None:
    agency_suspend(actor=SYSTEM, agency=hkpf, reason="compromised", now=timezone.now())
    ask_code(OnCommitClient(), chan.email)
    assert mail.outbox == []


def test_five_wrong_codes_kill_the_code(chan: Officer) -> None:
    client = OnCommitClient()
    ask_code(client, chan.email)
    code = code_from_mail(chan.email)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    for _ in range(5):
        response = enter_code(client, chan.email, wrong)
        assert response.status_code == 200
        assert "This code is not valid" in response.content.decode()
    response = enter_code(client, chan.email, code)
    assert "This code is not valid" in response.content.decode()
    assert SESSION_OFFICER not in client.session
    assert LoginCode.objects.get().attempts == 5
    reasons = list(
        AuditEvent.objects.filter(action="portal.sign_in_failed")
        .order_by("seq")
        .values_list("data__reason", flat=True)
    )
    assert reasons == ["wrong_code"] * 5 + ["too_many_attempts"]


def test_an_expired_code_is_refused(chan: Officer) -> None:
    client = OnCommitClient()
    ask_code(client, chan.email)
    code = code_from_mail(chan.email)
    LoginCode.objects.update(
        created_at=timezone.now() - timedelta(minutes=11),
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    response = enter_code(client, chan.email, code)
    assert "This code is not valid" in response.content.decode()
    assert SESSION_OFFICER not in client.session


def test_codes_expire_after_ten_minutes_in_the_service(
    chan: Officer, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):  # the mail leaves on commit
        services.login_code_request(email=chan.email, client_ip="192.0.2.1", language="en", now=now)
    code = code_from_mail(chan.email)
    with pytest.raises(services.SignInFailed):
        services.login_code_verify(
            email=chan.email, code=code, client_ip="192.0.2.1", now=now + timedelta(minutes=10)
        )
    signed_in = services.login_code_verify(
        email=chan.email,
        code=code,
        client_ip="192.0.2.1",
        now=now + timedelta(minutes=9, seconds=59),
    )
    assert signed_in == chan


def test_a_code_works_once(chan: Officer) -> None:
    client = OnCommitClient()
    ask_code(client, chan.email)
    code = code_from_mail(chan.email)
    assert enter_code(client, chan.email, code).status_code == 302
    other = OnCommitClient()
    response = enter_code(other, chan.email, code)
    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert SESSION_OFFICER not in other.session


def test_only_the_newest_code_counts(chan: Officer) -> None:
    client = OnCommitClient()
    ask_code(client, chan.email)
    first = code_from_mail(chan.email)
    ask_code(client, chan.email)
    second = code_from_mail(chan.email)
    if first != second:
        assert "This code is not valid" in enter_code(client, chan.email, first).content.decode()
    assert enter_code(client, chan.email, second).status_code == 302


def test_codes_are_rate_limited_per_address_known_or_not(chan: Officer) -> None:
    for address in (chan.email, "nobody@police.gov.hk"):
        statuses = [
            ask_code(OnCommitClient(), address, REMOTE_ADDR=f"198.51.100.{i}").status_code
            for i in range(6)
        ]
        assert statuses == [302] * 5 + [429]
    assert len(mail.outbox) == 5
    response = ask_code(OnCommitClient(), chan.email, REMOTE_ADDR="198.51.100.99")
    assert "Too many sign-in codes" in response.content.decode()


def test_codes_are_rate_limited_per_client_address(chan: Officer) -> None:
    statuses = [
        ask_code(OnCommitClient(), f"person{i}@example.com", REMOTE_ADDR="203.0.113.7").status_code
        for i in range(20)
    ]
    assert statuses == [302] * 20
    assert ask_code(OnCommitClient(), chan.email, REMOTE_ADDR="203.0.113.7").status_code == 429
    assert mail.outbox == []
    assert ask_code(OnCommitClient(), chan.email, REMOTE_ADDR="203.0.113.8").status_code == 302
    assert len(mail.outbox) == 1


def test_the_limit_lifts_after_an_hour(
    chan: Officer, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):  # the mail leaves on commit
        for _ in range(5):
            services.login_code_request(
                email=chan.email, client_ip="192.0.2.1", language="en", now=now
            )
        with pytest.raises(services.RateLimited):
            services.login_code_request(
                email=chan.email, client_ip="192.0.2.1", language="en", now=now
            )
        later = now + timedelta(hours=1, seconds=1)
        services.login_code_request(
            email=chan.email, client_ip="192.0.2.1", language="en", now=later
        )
    assert len(mail.outbox) == 6


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/portal/",
        "https://evil.example/portal/",
        "http://testserver/console/",
        "/console/",
        "/portal/../console/",
        "/portal/%2e%2e/admin/",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_cannot_leave_the_portal(chan: Officer, target: str) -> None:
    client = OnCommitClient()
    client.post("/portal/sign-in", {"email": chan.email, "next": target})
    response = enter_code(client, chan.email, code_from_mail(chan.email))
    assert response["Location"] == "/portal/"


def test_next_returns_to_the_page_asked_for(chan: Officer) -> None:
    client = OnCommitClient()
    response = client.get("/portal/new")
    assert response.status_code == 302
    assert response["Location"] == "/portal/sign-in?next=%2Fportal%2Fnew"
    page = client.get(response["Location"])
    assert b'name="next" value="/portal/new"' in page.content
    client.post("/portal/sign-in", {"email": chan.email, "next": "/portal/new"})
    response = enter_code(client, chan.email, code_from_mail(chan.email))
    assert response["Location"] == "/portal/new"


def test_sign_out_is_a_post_and_ends_the_session(chan_client: Client) -> None:
    assert chan_client.get("/portal/sign-out").status_code == 405
    response = chan_client.post("/portal/sign-out")
    assert response["Location"] == "/portal/sign-in"
    assert chan_client.get("/portal/").status_code == 302
    assert AuditEvent.objects.filter(action="portal.signed_out").count() == 1


def test_an_officer_suspended_after_signing_in_is_signed_out(
    chan: Officer, chan_client: Client
) -> None:
    assert chan_client.get("/portal/").status_code == 200
    officer_suspend(actor=SYSTEM, officer=chan, reason="left", now=timezone.now())
    response = chan_client.get("/portal/")
    assert response.status_code == 302
    assert response["Location"].startswith("/portal/sign-in")
    assert SESSION_OFFICER not in chan_client.session


def test_an_agency_suspended_after_signing_in_signs_its_officers_out(
    hkpf: Agency, chan_client: Client
) -> None:
    agency_suspend(actor=SYSTEM, agency=hkpf, reason="compromised", now=timezone.now())
    assert chan_client.get("/portal/").status_code == 302


def test_the_code_e_mail_is_in_the_officer_language(chan: Officer) -> None:
    client = OnCommitClient(HTTP_ACCEPT_LANGUAGE="zh-TW")
    ask_code(client, chan.email)
    message = mail.outbox[0]
    assert message.subject == "您的 govreq 登入驗證碼"
    assert "govreq 機構入口網站" in message.body
    sign_in_code = code_from_mail(chan.email)
    assert enter_code(client, chan.email, sign_in_code).status_code == 302


def test_a_signed_in_officer_skips_the_sign_in_page(chan: Officer) -> None:
    client = OnCommitClient()
    sign_in(client, chan)
    assert client.get("/portal/sign-in")["Location"] == "/portal/"


def test_an_idle_session_ends(chan: Officer, chan_client: Client) -> None:
    session = chan_client.session
    session[SESSION_LAST_SEEN] = time.time() - 61 * 60
    session.save()
    response = chan_client.get("/portal/")
    assert response["Location"] == "/portal/sign-in?next=%2Fportal%2F"
