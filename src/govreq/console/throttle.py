"""Slowing down password and code guessing at the staff sign-in."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from django.conf import settings

from govreq.console.models import SignInFailure

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 10
PER_CLIENT = 50


def _key(kind: str, value: str) -> str:
    message = f"{kind}:{value.strip().lower()}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def sign_in_blocked(*, account: str, client: str, now: datetime) -> bool:
    since = now - WINDOW
    failures = SignInFailure.objects.filter(occurred_at__gte=since)
    return (
        failures.filter(key=_key("account", account)).count() >= PER_ACCOUNT
        or failures.filter(key=_key("client", client)).count() >= PER_CLIENT
    )


def sign_in_failed(*, account: str, client: str, now: datetime) -> None:
    SignInFailure.objects.filter(occurred_at__lt=now - WINDOW).delete()
    SignInFailure.objects.bulk_create(
        [
            SignInFailure(key=_key("account", account), occurred_at=now),
            SignInFailure(key=_key("client", client), occurred_at=now),
        ]
    )


def sign_in_succeeded(*, account: str) -> None:
    SignInFailure.objects.filter(key=_key("account", account)).delete()
