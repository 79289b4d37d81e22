"""Productions: collected from the platform's data source, scope-checked, released, downloaded
(the delivery receipt), expired and purged; verified offline."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, NotFound
from govreq.core.signing import public_key_b64, signing_key
from govreq.disclosure.models import PackageDownload, Production
from govreq.disclosure.verify import verify_path
from govreq.lifecycle import disclosing, reviewing
from tests.hold_helpers import hold_place
from tests.review_helpers import approve, collect, deliver, make_staff, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return make_staff()


def package_bytes(production: Production, officer) -> bytes:
    download = disclosing.package_download(
        actor=Actor.for_officer(officer),
        production=production,
        channel="API",
        client_address="192.0.2.1",
        user_agent="pytest",
        now=timezone.now(),
    )
    return b"".join(download.chunks)


def test_approval_opens_a_production_that_is_collected_when_the_approval_commits(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    request = submit(chan)
    with django_capture_on_commit_callbacks(execute=True):
        request = approve(request, staff)
    assert request.status == "APPROVED"
    production = Production.objects.get(request=request)
    assert production.status == "READY", production.error
    assert production.accounts_found == 3  # the username, the e-mail and the phone
    assert production.accounts_missing == 1  # the IPv6 address names no account
    manifest = production.manifest
    assert manifest["decision"]["id"] == production.decision_id
    assert manifest["audit_chain_head"]["seq"] > 0
    assert {f["category"] for f in manifest["files"]} == {"BASIC_SUBSCRIBER", "IP_LOGS"}
    assert {f["format"] for f in manifest["files"]} == {"csv", "json"}
    missing = [a for a in manifest["accounts"] if not a["account"]]
    assert [a["target"]["type"] for a in missing] == ["IP_ADDRESS"]
    assert missing[0]["note"] == "no such account"
    # Every IP log lies within the requested range.
    since = manifest["decision"]["time_range"]["since"]
    until = manifest["decision"]["time_range"]["until"]
    for entry in manifest["files"]:
        if entry["category"] == "IP_LOGS" and entry["records"]:
            assert since <= entry["first_at"] and entry["last_at"] < until
    # Nothing unencrypted was written: every member is sealed.
    for member in Path(platform.parent.parent / "packages").rglob("*"):
        if member.is_file():
            assert member.read_bytes().startswith(b"GRQSEAL1")


def test_release_download_delivers_and_the_package_verifies_offline(
    chan, staff, platform, tmp_path
):
    request = approve(submit(chan), staff)
    production = collect(request)
    production = disclosing.production_release(
        actor=staff.actor("rita"), production=production, now=timezone.now()
    )
    request.refresh_from_db()
    assert request.status == "PRODUCED"
    assert production.expires_at - production.released_at == timedelta(days=14)
    data = package_bytes(production, chan)
    request.refresh_from_db()
    production.refresh_from_db()
    assert request.status == "DELIVERED"
    assert production.delivered_at is not None
    assert PackageDownload.objects.filter(production=production).count() == 1
    event = AuditEvent.objects.filter(action="package.downloaded").get()
    assert event.data["ip"] == "192.0.2.1" and event.data["first"] is True

    package = tmp_path / "package.zip"
    package.write_bytes(data)
    key = public_key_b64(signing_key())
    result = verify_path(package, public_key=key)
    assert result.ok, result.problem
    assert result.records == production.record_count > 0
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        csv_text = archive.read("account-01/IP_LOGS.csv").decode()
        json_doc = json.loads(archive.read("account-01/IP_LOGS.json"))
    assert {"manifest.json", "manifest.sig", "README.txt"} <= names
    header = "account,category,occurred_at,logged_in_at,ip_address,user_agent"
    assert csv_text.splitlines()[0] == header
    assert len(json_doc["records"]) == len(csv_text.splitlines()) - 1

    # One byte of a file, then one byte of the manifest: verification fails and names it.
    raw = bytearray(data)
    offset = raw.index(b"account,category,occurred_at")
    raw[offset] ^= 0x01
    package.write_bytes(bytes(raw))
    result = verify_path(package, public_key=key)
    assert not result.ok
    assert "IP_LOGS" in result.problem or "damaged" in result.problem
    raw = bytearray(data)
    offset = raw.index(b'"format":"govreq-production-manifest/1"')
    raw[offset + 2] = ord("F")
    package.write_bytes(bytes(raw))
    result = verify_path(package, public_key=key)
    assert not result.ok and ("manifest" in result.problem or "damaged" in result.problem)


def test_a_second_download_is_audited_but_delivers_once(chan, staff, platform):
    request = approve(submit(chan), staff)
    production = deliver(request, staff, chan)
    package_bytes(production, chan)
    assert PackageDownload.objects.filter(production=production).count() == 2
    assert list(request.status_changes.values_list("to_status", flat=True)).count("DELIVERED") == 1


def test_another_agencys_officer_gets_not_found(chan, rivera, staff, platform):
    request = approve(submit(chan), staff)
    production = disclosing.production_release(
        actor=staff.actor("rita"), production=collect(request), now=timezone.now()
    )
    with pytest.raises(NotFound):
        package_bytes(production, rivera)
    assert not PackageDownload.objects.exists()


def test_expired_packages_are_gone_and_their_bytes_purged(chan, staff, platform, settings):
    request = approve(submit(chan), staff)
    production = deliver(request, staff, chan)
    members = list(Path(settings.PACKAGES_DIR).rglob("*.csv"))
    assert members
    later = production.expires_at + timedelta(seconds=1)
    purged = disclosing.productions_purge_expired(actor=Actor.system("test"), now=later)
    assert purged.productions == [str(production.public_id)]
    assert purged.closed == [request.reference]
    production.refresh_from_db()
    request.refresh_from_db()
    assert production.status == "PURGED" and production.manifest  # the manifest stays
    assert request.status == "CLOSED"
    assert not any(Path(settings.PACKAGES_DIR).rglob("*.csv"))
    with pytest.raises(disclosing.Gone):
        package_bytes(production, chan)


def test_an_undelivered_package_that_expires_returns_the_request_to_approved(chan, staff, platform):
    request = approve(submit(chan), staff)
    production = disclosing.production_release(
        actor=staff.actor("rita"), production=collect(request), now=timezone.now()
    )
    purged = disclosing.productions_purge_expired(
        actor=Actor.system("test"), now=production.expires_at
    )
    assert purged.returned == [request.reference]
    request.refresh_from_db()
    assert request.status == "APPROVED"
    # It can be collected again for another release.
    again = disclosing.production_collect(
        actor=staff.actor("rita"), request=request, now=timezone.now()
    )
    assert again.pk != production.pk and again.status == "PENDING"


def test_nothing_is_released_or_downloaded_while_a_hold_covers_the_request(chan, staff, platform):
    request = approve(submit(chan), staff)
    production = collect(request)
    hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now(),
        reason="National Security Law",
        now=timezone.now(),
    )
    with pytest.raises(Conflict) as refused:
        disclosing.production_release(
            actor=staff.actor("rita"), production=production, now=timezone.now()
        )
    assert refused.value.code == "on_hold"


def test_a_released_package_is_not_downloaded_once_a_hold_is_placed(chan, staff, platform):
    request = approve(submit(chan), staff)
    production = disclosing.production_release(
        actor=staff.actor("rita"), production=collect(request), now=timezone.now()
    )
    hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now(),
        reason="National Security Law",
        now=timezone.now(),
    )
    with pytest.raises(Conflict) as refused:
        package_bytes(production, chan)
    assert refused.value.code == "on_hold"
    assert not PackageDownload.objects.exists()


def test_only_reviewers_release(chan, staff, platform):
    request = approve(submit(chan), staff)
    production = collect(request)
    for name in ("ivy", "alex", "hana", "pat", "aud", "nobody"):
        with pytest.raises(Exception) as refused:
            disclosing.production_release(
                actor=staff.actor(name), production=production, now=timezone.now()
            )
        assert getattr(refused.value, "code", "") == "role_required", name


def test_an_approved_disclosure_is_not_closed_without_a_delivery(chan, staff, platform):
    request = approve(submit(chan), staff)
    with pytest.raises(Conflict) as refused:
        reviewing.request_close(
            actor=staff.actor("rita"), request=request, reason="Delivered", now=timezone.now()
        )
    assert refused.value.code == "delivery_required"
    request.refresh_from_db()
    assert request.status == "APPROVED"


def test_a_delivery_by_other_means_needs_evidence_and_closes(chan, staff):
    request = approve(submit(chan), staff)
    request = disclosing.delivery_record_other_means(
        actor=staff.actor("rita"),
        request=request,
        reason="Handed over on encrypted media at the court's order",
        evidence=io.BytesIO(b"Receipt signed by DS Chan, 2026-11-30\n"),
        evidence_name="receipt.txt",
        now=timezone.now(),
    )
    assert request.status == "CLOSED"
    statuses = list(request.status_changes.values_list("to_status", flat=True))
    assert statuses[-3:] == ["APPROVED", "DELIVERED", "CLOSED"]
    assert request.other_deliveries.get().evidence.original_name == "receipt.txt"


def test_a_failing_source_leaves_a_retryable_failure(chan, staff, settings, tmp_path):
    settings.DATA_SOURCE_CONFIG = tmp_path / "missing.toml"
    request = approve(submit(chan), staff)
    production = collect(request)
    assert production.status == "FAILED"
    assert "no data source is configured" in production.error
    assert not Path(settings.PACKAGES_DIR).exists() or not any(
        Path(settings.PACKAGES_DIR).rglob("*.csv")
    )
    with pytest.raises(Conflict) as refused:
        disclosing.production_release(
            actor=staff.actor("rita"), production=production, now=timezone.now()
        )
    assert refused.value.code == "production_not_ready"
    # Retried once a source is there.
    again = disclosing.production_collect(
        actor=staff.actor("rita"), request=request, now=timezone.now()
    )
    assert again.pk == production.pk and again.status == "PENDING"
