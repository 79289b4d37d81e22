"""`govreq production ...`: the same actions as the API."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.disclosure.models import Production
from govreq.lifecycle import disclosing
from tests.review_helpers import approve, make_staff, submit

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_collect_show_release_download_verify(chan, platform, tmp_path):
    staff = make_staff()
    request = approve(submit(chan), staff)
    out = run("production", "collect", request.reference, "--as", "rita@platform.example")
    assert "READY (3 account(s) found, 1 not found" in out
    production = Production.objects.get(request=request)
    assert str(production.public_id) in run("production", "list", request.reference)
    shown = json.loads(run("production", "show", str(production.public_id), "--json"))
    assert shown["status"] == "READY" and shown["manifest"]["files"]
    text = run("production", "show", str(production.public_id))
    assert "scope check: within the approved scope" in text
    assert "IP_ADDRESS 2001:db8::1: not found (no such account)" in text
    with pytest.raises(CommandError, match="role"):
        run("production", "release", str(production.public_id), "--as", "alex@platform.example")
    assert "released" in run(
        "production", "release", str(production.public_id), "--as", "rita@platform.example"
    )
    download = disclosing.package_download(
        actor=Actor.for_officer(chan),
        production=production,
        channel="API",
        client_address="",
        user_agent="",
        now=timezone.now(),
    )
    package = tmp_path / "package.zip"
    package.write_bytes(b"".join(download.chunks))
    assert run("production", "verify", str(package)).startswith("OK: ")
    data = bytearray(package.read_bytes())
    data[data.index(b"account,category")] ^= 0x20
    package.write_bytes(bytes(data))
    with pytest.raises(CommandError) as failed:
        run("production", "verify", str(package))
    assert failed.value.returncode == 1


def test_the_cli_refuses_closing_an_undelivered_disclosure_and_records_other_means(chan, tmp_path):
    staff = make_staff()
    request = approve(submit(chan), staff)
    with pytest.raises(CommandError, match="nothing has been delivered"):
        run("request", "close", request.reference, "--as", "rita@platform.example")
    receipt = tmp_path / "receipt.txt"
    receipt.write_text("Delivered on encrypted media, signed for by DS Chan\n")
    out = run(
        "production",
        "deliver-other",
        request.reference,
        "--reason",
        "By hand, at the court's order",
        "--evidence",
        str(receipt),
        "--as",
        "rita@platform.example",
    )
    assert "delivered by other means and closed" in out
    request.refresh_from_db()
    assert request.status == "CLOSED"


def test_purge_expired_reports_what_it_did(db):
    assert "0 package(s) purged" in run("production", "purge-expired")
