"""Portal fixtures: officers signed in through the real e-mailed-code flow."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from govreq.accounts.models import User
from govreq.accounts.services import staff_add
from govreq.agencies.models import Officer
from tests.conftest import SYSTEM, OnCommitClient

CODE = re.compile(r"^\s+(\d{8})\s*$", re.MULTILINE)


@pytest.fixture(autouse=True)
def _data_dir_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path / "data"


def code_from_mail(address: str) -> str:
    """The code in the newest e-mail to ``address``."""
    message = next(m for m in reversed(mail.outbox) if address in m.to)
    match = CODE.search(message.body)
    assert match, message.body
    return match.group(1)


def sign_in(client: Client, officer: Officer) -> None:
    response = client.post("/portal/sign-in", {"email": officer.email})
    assert response.status_code == 302
    response = client.post(
        "/portal/sign-in/code", {"email": officer.email, "code": code_from_mail(officer.email)}
    )
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == "/portal/"


@pytest.fixture
def client_as() -> Callable[[Officer], Client]:
    def make(officer: Officer) -> Client:
        client = OnCommitClient()
        sign_in(client, officer)
        return client

    return make


@pytest.fixture
def chan_client(chan: Officer, client_as: Callable[[Officer], Client]) -> Client:
    return client_as(chan)


@pytest.fixture
def rita(db: None) -> User:
    return staff_add(
        actor=SYSTEM,
        email="rita@platform.example",
        name="Rita Reviewer",
        roles=["REVIEWER"],
        now=timezone.now(),
    )
