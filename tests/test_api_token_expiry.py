"""API tokens expire: an officer's always (settings.OFFICER_TOKEN_DAYS unless given), a staff
token when asked; an expired token gets 401 saying so."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from govreq.accounts.models import ApiToken
from govreq.agencies.models import Officer
from govreq.api.tokens import api_token_issue
from govreq.audit.models import AuditEvent
from govreq.core.errors import ValidationFailed
from tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db


def get(client: Any, token: str) -> Any:
    return client.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"})


def test_an_officer_token_expires_by_default(chan: Officer, settings: Any) -> None:
    settings.OFFICER_TOKEN_DAYS = 30
    now = timezone.now()
    issued = api_token_issue(actor=SYSTEM, officer=chan, now=now)
    assert issued.token.expires_at == now + timedelta(days=30)
    event = AuditEvent.objects.get(action="token.issued")
    assert event.data["expires_at"] == issued.token.expires_at.isoformat()


def test_an_expired_token_gets_401_saying_so(chan: Officer, client: Any) -> None:
    issued_at = timezone.now() - timedelta(days=3)
    token = api_token_issue(
        actor=SYSTEM, officer=chan, expires_at=issued_at + timedelta(days=2), now=issued_at
    ).secret
    response = get(client, token)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "token_expired"
    assert "expired" in body["message"]
    assert ApiToken.objects.get().last_used_at is None


def test_a_token_works_until_it_expires(chan: Officer, client: Any) -> None:
    now = timezone.now()
    token = api_token_issue(
        actor=SYSTEM, officer=chan, expires_at=now + timedelta(minutes=5), now=now
    ).secret
    assert get(client, token).status_code == 200


def test_a_staff_token_expires_only_when_asked(rita_token: str, client: Any) -> None:
    assert ApiToken.objects.get().expires_at is None
    response = client.get(
        "/api/v1/staff/requests", headers={"Authorization": f"Bearer {rita_token}"}
    )
    assert response.status_code == 200


def test_an_expiry_in_the_past_is_refused(chan: Officer) -> None:
    now = timezone.now()
    with pytest.raises(ValidationFailed):
        api_token_issue(actor=SYSTEM, officer=chan, expires_at=now, now=now)


def test_the_cli_sets_the_lifetime(chan: Officer, client: Any) -> None:
    err = StringIO()
    call_command("officer", "token", chan.email, "--expires-in", "7", stdout=StringIO(), stderr=err)
    stored = ApiToken.objects.get()
    assert stored.expires_at is not None
    assert timedelta(days=7) - timedelta(minutes=1) < stored.expires_at - stored.created_at
    assert stored.expires_at - stored.created_at <= timedelta(days=7)
    assert "expires" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("officer", "token", chan.email, "--expires-in", "0", stdout=StringIO())
    listing = StringIO()
    call_command("officer", "tokens", chan.email, stdout=listing)
    assert stored.prefix in listing.getvalue()
    assert f"{stored.expires_at:%Y-%m-%d %H:%M}" in listing.getvalue()
