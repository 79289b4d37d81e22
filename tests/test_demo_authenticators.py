"""`govreq demo authenticators`: the demo staff sign in to the console without a phone."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from govreq.accounts.models import User
from govreq.accounts.services import staff_add
from govreq.console.otp import second_factor_verify
from govreq.core import totp
from govreq.core.actors import Actor
from govreq.demo.loader import STAFF


def test_every_demo_staff_member_gets_a_working_authenticator_once(db):
    for email, name, roles in STAFF:
        staff_add(
            actor=Actor.system("test"),
            email=email,
            name=name,
            roles=roles,
            password="x" * 16,
            now=datetime(2019, 1, 2, tzinfo=UTC),
        )
    out = io.StringIO()
    call_command("demo", "authenticators", stdout=out)
    keys = dict(line.split() for line in out.getvalue().splitlines())
    assert set(keys) == {email for email, _, _ in STAFF}
    reviewer = User.objects.get(email="reviewer@platform.example")
    key = keys[reviewer.email]
    code = totp.code_at(base64.b32decode(key + "=" * (-len(key) % 8)), timezone.now())
    assert second_factor_verify(user=reviewer, code=code, now=timezone.now())
    again = io.StringIO()
    call_command("demo", "authenticators", stdout=again)
    assert "already has an authenticator" in again.getvalue()
    assert key not in again.getvalue()  # a key is shown once


def test_demo_reset_asks_before_deleting(db):
    # SQLite: nothing is deleted without --yes; PostgreSQL: never (drop the database yourself).
    refusal = "--yes" if connection.vendor == "sqlite" else "only deletes a SQLite database"
    with pytest.raises(CommandError, match=refusal):
        call_command("demo", "reset")
