"""Officers' second factor: an agency that requires it gets an authenticator code after the
e-mailed one (set up at the first sign-in); a code is accepted once; other agencies unchanged;
staff switch the requirement per agency (CLI, console), audited."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from govreq.accounts.services import staff_add
from govreq.agencies.models import Agency, Officer
from govreq.agencies.second_factor import agency_officer_totp_set
from govreq.audit.models import AuditEvent
from govreq.core import totp
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, PermissionDenied
from govreq.portal import second_factor
from govreq.portal.auth import SESSION_OFFICER, SESSION_PENDING_SECOND_FACTOR
from govreq.portal.models import OfficerTotpDevice
from tests.conftest import SYSTEM, OnCommitClient
from tests.portal.conftest import code_from_mail

pytestmark = pytest.mark.django_db
SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7]+)<')
RECOVERY = re.compile(r"<li>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</li>")


def require_totp(agency: Agency) -> Agency:
    return agency_officer_totp_set(actor=SYSTEM, agency=agency, required=True, now=timezone.now())


def give_emailed_code(client: Client, officer: Officer, next_path: str = "") -> Any:
    asked = client.post("/portal/sign-in", {"email": officer.email, "next": next_path})
    assert asked.status_code == 302
    return client.post(
        "/portal/sign-in/code", {"email": officer.email, "code": code_from_mail(officer.email)}
    )


def secret_of(officer: Officer) -> bytes:
    device = OfficerTotpDevice.objects.get(officer=officer)
    return totp.secret_decrypt(bytes(device.secret_encrypted))


def enrol(officer: Officer) -> bytes:
    """An authenticator set up and confirmed, as at an earlier sign-in; its secret."""
    second_factor.officer_totp_enrol_start(officer=officer, now=timezone.now())
    secret = secret_of(officer)
    second_factor.officer_totp_confirm(
        officer=officer,
        code=totp.code_at(secret, timezone.now() - timedelta(seconds=30)),
        client_ip="127.0.0.1",
        now=timezone.now(),
    )
    return secret


def signed_in(client: Client) -> bool:
    return client.get("/portal/").status_code == 200


def test_the_emailed_code_alone_does_not_sign_in(chan: Officer) -> None:
    require_totp(chan.agency)
    secret = enrol(chan)
    signed_in_before = AuditEvent.objects.filter(action="portal.signed_in").count()  # set-up's
    client = OnCommitClient()
    response = give_emailed_code(client, chan)
    assert response.status_code == 302
    assert response["Location"] == "/portal/sign-in/authenticator"
    assert SESSION_OFFICER not in client.session
    assert not signed_in(client)
    assert client.get("/portal/new").status_code == 302
    assert AuditEvent.objects.filter(action="portal.signed_in").count() == signed_in_before
    assert AuditEvent.objects.filter(action="portal.sign_in_code_accepted").count() == 1

    page = client.get("/portal/sign-in/authenticator")
    assert page.status_code == 200
    done = client.post(
        "/portal/sign-in/authenticator", {"code": totp.code_at(secret, timezone.now())}
    )
    assert done.status_code == 302
    assert done["Location"] == "/portal/"
    assert signed_in(client)
    event = AuditEvent.objects.filter(action="portal.signed_in").latest("pk")
    assert event.object_id == str(chan.pk)
    assert event.data["second_factor"] == "totp"


def test_a_wrong_code_is_refused_and_audited(chan: Officer) -> None:
    require_totp(chan.agency)
    secret = enrol(chan)
    client = OnCommitClient()
    give_emailed_code(client, chan)
    wrong = f"{(int(totp.code_at(secret, timezone.now())) + 1) % 10**6:06d}"
    response = client.post("/portal/sign-in/authenticator", {"code": wrong})
    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert not signed_in(client)
    failure = AuditEvent.objects.get(action="portal.sign_in_failed")
    assert failure.data["reason"] == "wrong_authenticator_code"


def test_a_code_is_accepted_once(chan: Officer) -> None:
    require_totp(chan.agency)
    secret = enrol(chan)
    code = totp.code_at(secret, timezone.now())
    first = OnCommitClient()
    give_emailed_code(first, chan)
    assert first.post("/portal/sign-in/authenticator", {"code": code}).status_code == 302
    assert signed_in(first)

    replay = OnCommitClient()
    give_emailed_code(replay, chan)
    response = replay.post("/portal/sign-in/authenticator", {"code": code})
    assert response.status_code == 200
    assert "each code works once" in response.content.decode()
    assert not signed_in(replay)
    # Nor an earlier code, once a later one was used.
    earlier = totp.code_at(secret, timezone.now() - timedelta(seconds=30))
    assert replay.post("/portal/sign-in/authenticator", {"code": earlier}).status_code == 200
    assert not signed_in(replay)


def test_a_recovery_code_stands_in_once(chan: Officer) -> None:
    require_totp(chan.agency)
    second_factor.officer_totp_enrol_start(officer=chan, now=timezone.now())
    codes = second_factor.officer_totp_confirm(
        officer=chan,
        code=totp.code_at(secret_of(chan), timezone.now()),
        client_ip="127.0.0.1",
        now=timezone.now(),
    )
    assert len(codes) == totp.RECOVERY_CODES
    client = OnCommitClient()
    give_emailed_code(client, chan)
    assert client.post("/portal/sign-in/authenticator", {"code": codes[0]}).status_code == 302
    assert signed_in(client)
    again = OnCommitClient()
    give_emailed_code(again, chan)
    assert again.post("/portal/sign-in/authenticator", {"code": codes[0]}).status_code == 200
    assert not signed_in(again)


def test_the_first_sign_in_sets_the_authenticator_up(chan: Officer) -> None:
    require_totp(chan.agency)
    client = OnCommitClient()
    response = give_emailed_code(client, chan, next_path="/portal/new")
    assert response["Location"] == "/portal/sign-in/authenticator/set-up"
    # Straight to the code page: sent to set one up, still not signed in.
    assert client.get("/portal/sign-in/authenticator")["Location"].endswith("/set-up")
    page = client.get("/portal/sign-in/authenticator/set-up")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body
    match = SECRET.search(body)
    assert match
    secret = base64.b32decode(match.group(1) + "=" * (-len(match.group(1)) % 8))
    assert not signed_in(client)
    wrong = client.post("/portal/sign-in/authenticator/set-up", {"code": "000000"})
    assert wrong.status_code == 200
    assert match.group(1) in wrong.content.decode()  # the same key, shown again
    done = client.post(
        "/portal/sign-in/authenticator/set-up", {"code": totp.code_at(secret, timezone.now())}
    )
    assert done.status_code == 200
    assert len(RECOVERY.findall(done.content.decode())) == totp.RECOVERY_CODES
    assert 'href="/portal/new"' in done.content.decode()
    assert signed_in(client)
    assert second_factor.officer_has_authenticator(chan)
    assert AuditEvent.objects.filter(action="portal.second_factor_enrolled").count() == 1


def test_the_pending_step_expires_with_the_emailed_code(chan: Officer, monkeypatch: Any) -> None:
    require_totp(chan.agency)
    secret = enrol(chan)
    client = OnCommitClient()
    give_emailed_code(client, chan)
    session = client.session
    session[SESSION_PENDING_SECOND_FACTOR] = {
        **session[SESSION_PENDING_SECOND_FACTOR],
        "at": session[SESSION_PENDING_SECOND_FACTOR]["at"] - 11 * 60,
    }
    session.save()
    response = client.post(
        "/portal/sign-in/authenticator", {"code": totp.code_at(secret, timezone.now())}
    )
    assert response.status_code == 302
    assert response["Location"] == "/portal/sign-in"
    assert not signed_in(client)


def test_an_agency_without_the_requirement_is_unchanged(chan: Officer, rivera: Officer) -> None:
    require_totp(rivera.agency)
    client = OnCommitClient()
    response = give_emailed_code(client, chan)
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert signed_in(client)
    assert AuditEvent.objects.filter(action="portal.signed_in").count() == 1
    # The authenticator page is nobody's business without a pending sign-in.
    assert client.get("/portal/sign-in/authenticator")["Location"] == "/portal/sign-in"


def test_requiring_it_ends_sessions_signed_in_without_it(chan: Officer) -> None:
    client = OnCommitClient()
    give_emailed_code(client, chan)
    assert signed_in(client)
    require_totp(chan.agency)
    assert not signed_in(client)


def test_staff_switch_the_requirement_audited_and_by_role(chan: Officer) -> None:
    agency = chan.agency
    reviewer = staff_add(
        actor=SYSTEM, email="rv@platform.example", name="Rv", roles=["REVIEWER"], now=timezone.now()
    )
    with pytest.raises(PermissionDenied):
        agency_officer_totp_set(
            actor=Actor.for_user(reviewer), agency=agency, required=True, now=timezone.now()
        )
    intake = staff_add(
        actor=SYSTEM, email="in@platform.example", name="In", roles=["INTAKE"], now=timezone.now()
    )
    agency_officer_totp_set(
        actor=Actor.for_user(intake), agency=agency, required=True, now=timezone.now()
    )
    agency.refresh_from_db()
    assert agency.require_officer_totp
    with pytest.raises(Conflict):
        agency_officer_totp_set(actor=SYSTEM, agency=agency, required=True, now=timezone.now())
    event = AuditEvent.objects.get(action="agency.officer_totp_required")
    assert event.object_id == str(agency.pk)
    out = StringIO()
    call_command("agency", "officer-totp", str(agency.pk), "--waive", stdout=out)
    assert "no longer requires" in out.getvalue()
    agency.refresh_from_db()
    assert not agency.require_officer_totp
    assert AuditEvent.objects.filter(action="agency.officer_totp_waived").count() == 1


def test_a_lost_authenticator_is_reset_by_staff(chan: Officer) -> None:
    require_totp(chan.agency)
    enrol(chan)
    with pytest.raises(CommandError):
        call_command("officer", "authenticator-reset", chan.email, stdout=StringIO())  # no reason
    call_command(
        "officer", "authenticator-reset", chan.email, "--reason", "phone lost", stdout=StringIO()
    )
    assert not OfficerTotpDevice.objects.filter(officer=chan).exists()
    client = OnCommitClient()
    assert give_emailed_code(client, chan)["Location"].endswith("/set-up")
    assert AuditEvent.objects.get(action="officer.authenticator_reset").data == {
        "reason": "phone lost"
    }
