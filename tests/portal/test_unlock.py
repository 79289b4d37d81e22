"""`govreq portal unlock EMAIL`: staff lift an officer's sign-in-code lockout, audited."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from govreq.agencies.models import Officer
from govreq.audit.models import AuditEvent
from govreq.core.errors import PermissionDenied
from govreq.portal import services
from tests.review_helpers import make_staff


def _lock_out(officer: Officer, now: Any) -> None:
    for _ in range(5):
        services.login_code_request(
            email=officer.email, client_ip="192.0.2.1", language="en", now=now
        )
    with pytest.raises(services.RateLimited):
        services.login_code_request(
            email=officer.email, client_ip="192.0.2.1", language="en", now=now
        )


def test_unlock_lifts_the_lockout_and_is_audited(chan: Officer, django_capture_on_commit_callbacks):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        _lock_out(chan, now)
        staff = make_staff()
        out = io.StringIO()
        call_command(
            "portal", "unlock", chan.email.upper(), "--as", staff.users["ivy"].email, stdout=out
        )
        assert "5 counted attempts forgotten" in out.getvalue()
        # At once, not in an hour.
        services.login_code_request(email=chan.email, client_ip="192.0.2.1", language="en", now=now)
    event = AuditEvent.objects.filter(action="portal.sign_in_unlocked").get()
    assert event.object_id == str(chan.pk) and event.actor_id == str(staff.users["ivy"].pk)


def test_only_intake_or_policy_admins_unlock(chan: Officer):
    staff = make_staff()
    with pytest.raises(PermissionDenied):
        services.sign_in_unlock(actor=staff.actor("rita"), email=chan.email, now=timezone.now())
    with pytest.raises(CommandError, match="no officer"):
        call_command("portal", "unlock", "nobody@police.gov.hk")
