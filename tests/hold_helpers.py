"""Holds with four eyes, for tests that need a hold placed or lifted and are not about the
four eyes themselves: one policy admin proposes, a second one confirms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from govreq.accounts.models import User
from govreq.accounts.services import staff_add
from govreq.core.actors import Actor
from govreq.holds.models import JurisdictionHold
from govreq.lifecycle import holding
from tests.conftest import SYSTEM

SECOND_ADMIN = "second-admin@platform.example"


def second_admin() -> Actor:
    """A policy admin other than the proposer, created on first use."""
    user = User.objects.filter(email=SECOND_ADMIN).first() or staff_add(
        actor=SYSTEM,
        email=SECOND_ADMIN,
        name="Second Admin",
        roles=["POLICY_ADMIN"],
        now=timezone.now(),
    )
    return Actor.for_user(user)


def hold_place(*, actor: Actor, now: datetime, **terms: Any) -> holding.HoldPlaced:
    change = holding.hold_propose(actor=actor, now=now, **terms)
    placed = holding.hold_change_confirm(actor=second_admin(), change=change, now=now)
    assert isinstance(placed, holding.HoldPlaced)
    return placed


def hold_lift(
    *, actor: Actor, hold: JurisdictionHold, reason: str, now: datetime
) -> holding.HoldLifted:
    change = holding.hold_lift_propose(actor=actor, hold=hold, reason=reason, now=now)
    lifted = holding.hold_change_confirm(actor=second_admin(), change=change, now=now)
    assert isinstance(lifted, holding.HoldLifted)
    return lifted
