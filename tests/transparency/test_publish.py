"""Publishing: who may, what is frozen and signed, corrections as new versions, and verification
catching any change to what was published."""

from __future__ import annotations

import base64
import os
import stat
from datetime import UTC, datetime
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.audit.selectors import audit_chain_head, audit_chain_verify
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govreq.intake.models import Channel
from govreq.intake.schemas import RequestSubmission
from govreq.lifecycle.receiving import request_submit
from govreq.transparency import signing
from govreq.transparency.counting import report_compute
from govreq.transparency.models import PublishedReport
from govreq.transparency.periods import parse_period
from govreq.transparency.services import report_publish, report_verify
from tests.conftest import valid_submission

PERIOD = "2020-H2"


def publish(history, who="pat", **kwargs):
    return report_publish(
        actor=history.actor(who), period=PERIOD, now=kwargs.pop("now", timezone.now()), **kwargs
    )


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def add_late_keyed_request(history, officer) -> None:
    """A request received in H2 but keyed in only now: the H2 numbers change."""
    received = datetime(2020, 12, 1, 9, tzinfo=UTC)
    request_submit(
        actor=history.actor("ivy"),
        officer=officer,
        submission=RequestSubmission.model_validate(valid_submission()),
        channel=Channel.STAFF,
        received_at=received,
        now=timezone.now(),
    )


@pytest.mark.parametrize("who", ["ivy", "rita", "alex", "hana", "aud", "nobody"])
def test_only_a_policy_admin_publishes(history, who):
    with pytest.raises(PermissionDenied, match="this needs the policy administrator role"):
        publish(history, who)
    assert not PublishedReport.objects.exists()


def test_the_console_cannot_publish_anonymously(history):
    with pytest.raises(PermissionDenied, match="named policy administrator"):
        report_publish(actor=Actor.system("console"), period=PERIOD, now=timezone.now())


def test_a_period_is_published_after_it_ends(history):
    with pytest.raises(Conflict, match="published after its period has ended"):
        publish(history, now=datetime(2020, 12, 31, tzinfo=UTC))


def test_publish_freezes_signs_and_audits(history):
    head_before = audit_chain_head()
    report = publish(history)
    assert (report.period, report.version, report.previous_sha256, report.changes) == (
        PERIOD,
        1,
        "",
        [],
    )
    assert report.body == report_compute(period=parse_period(PERIOD), now=timezone.now())
    assert report.body_sha256 == signing.body_sha256(report.body)
    assert (report.audit_head_seq, report.audit_head_hash) == head_before
    assert signing.signature_valid(
        public_key=report.public_key,
        signature=report.signature,
        statement=signing.statement_of(report),
    )
    event = AuditEvent.objects.get(action="report.published")
    assert event.seq == head_before[0] + 1  # appended in the same transaction, right after
    assert event.object_id == "2020-H2/v1" and event.data["body_sha256"] == report.body_sha256
    assert event.actor_label == "pat@platform.example"
    assert audit_chain_verify().ok
    [result] = report_verify(period=PERIOD)
    assert result.ok, result.problems


def test_a_published_report_is_immutable(history):
    report = publish(history)
    report.note = "edited"
    with pytest.raises(RuntimeError, match="immutable"):
        report.save()
    with pytest.raises(RuntimeError, match="immutable"):
        report.delete()


def test_corrections_are_new_versions_that_say_what_changed(history, rivera):
    first = publish(history)
    with pytest.raises(Conflict, match="nothing changed since version 1"):
        publish(history)
    add_late_keyed_request(history, rivera)
    with pytest.raises(ValidationFailed, match="say what this version corrects"):
        publish(history)
    second = publish(history, note="A US court order keyed in late.")
    assert second.version == 2 and second.previous_sha256 == first.body_sha256
    changed = {(c["jurisdiction"], c["field"]): (c["old"], c["new"]) for c in second.changes}
    assert changed[("US", "requests")] == (6, 7)
    assert changed[("ALL", "requests")] == (11, 12)
    assert changed[("US", "outcomes.PENDING")] == (1, 2)
    assert ("HK", "requests") not in changed
    assert [r.ok for r in report_verify(period=PERIOD)] == [True, True]
    assert PublishedReport.objects.get(version=1).body == first.body  # still there, unchanged


def test_verify_fails_when_a_stored_number_changes(history):
    report = publish(history)
    assert "2020-H2 v1: OK" in run("report", "verify", PERIOD)
    body = report.body
    hk = next(entry for entry in body["jurisdictions"] if entry["code"] == "HK")
    hk["data_produced"] = 0  # someone with database access hides the exceptions
    PublishedReport.objects.filter(pk=report.pk).update(body=body)
    with pytest.raises(CommandError) as caught:
        run("report", "verify", PERIOD)
    assert caught.value.returncode == 1
    assert "2020-H2 v1: the stored numbers were changed after publication" in str(caught.value)


def test_verify_catches_changed_fields_signatures_audit_and_keys(history, settings):
    report = publish(history)
    PublishedReport.objects.filter(pk=report.pk).update(note="quietly edited")
    [result] = report_verify(period=PERIOD)
    assert result.problems == ["2020-H2 v1: the signature does not match the stored report"]
    PublishedReport.objects.filter(pk=report.pk).update(note="")
    assert report_verify(period=PERIOD)[0].ok

    AuditEvent.objects.filter(seq=report.audit_head_seq).update(hash="f" * 64)
    problems = report_verify(period=PERIOD)[0].problems
    assert any(f"no longer holds event #{report.audit_head_seq}" in p for p in problems)
    AuditEvent.objects.filter(seq=report.audit_head_seq).update(hash=report.audit_head_hash)

    # Re-signed with another key (say, a stolen database and a new key): not the operator's.
    other = Ed25519PrivateKey.generate()
    public = signing.public_key_b64(other)
    PublishedReport.objects.filter(pk=report.pk).update(
        public_key=public, key_id=signing.key_id(public)
    )
    report.refresh_from_db()
    PublishedReport.objects.filter(pk=report.pk).update(
        signature=signing.sign(other, signing.statement_of(report))
    )
    [result] = report_verify(period=PERIOD)
    assert result.problems == [
        f"2020-H2 v1: signed by key {report.key_id}, which is not the operator's report-signing "
        "key (nor listed in GOVREQ_REPORT_TRUSTED_PUBLIC_KEYS)"
    ]
    settings.REPORT_TRUSTED_PUBLIC_KEYS = public  # a key the operator vouches for
    assert report_verify(period=PERIOD)[0].ok


def test_verify_names_a_missing_publication(db):
    with pytest.raises(NotFound, match="the 2020-H2 report has not been published"):
        report_verify(period=PERIOD)
    with pytest.raises(CommandError, match="has not been published") as caught:
        run("report", "verify", PERIOD)
    assert caught.value.returncode == 3


# --- The signing key ----------------------------------------------------------------------------


def test_development_generates_a_private_key_file(history, settings):
    report = publish(history)
    path = settings.DATA_DIR / signing.DEV_KEY_FILE_NAME
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert signing.key_id(signing.public_key_b64(signing.signing_key())) == report.key_id


def test_production_refuses_to_publish_without_a_configured_key(history, settings):
    settings.PRODUCTION = True
    with pytest.raises(signing.SigningKeyMissing, match="no report-signing key is configured"):
        publish(history)
    assert not (settings.DATA_DIR / signing.DEV_KEY_FILE_NAME).exists()
    assert not PublishedReport.objects.exists()


def test_a_configured_key_pem_base64_or_file(history, settings, tmp_path):
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    expected = signing.key_id(signing.public_key_b64(key))
    settings.PRODUCTION = True
    settings.REPORT_SIGNING_KEY = base64.b64encode(raw).decode()
    assert signing.key_id(signing.public_key_b64(signing.signing_key())) == expected
    settings.REPORT_SIGNING_KEY = pem.decode()
    assert signing.key_id(signing.public_key_b64(signing.signing_key())) == expected
    settings.REPORT_SIGNING_KEY = ""
    key_file = tmp_path / "report.pem"
    key_file.write_bytes(pem)
    settings.REPORT_SIGNING_KEY_FILE = str(key_file)
    assert publish(history).key_id == expected
    settings.REPORT_SIGNING_KEY = "bm90IGEga2V5"
    with pytest.raises(signing.SigningKeyInvalid, match="not an Ed25519 private key"):
        signing.signing_key()


def test_cli_publish_needs_a_named_policy_admin(history):
    with pytest.raises(CommandError, match="this needs the policy administrator role"):
        run("report", "publish", PERIOD, "--as", "rita@platform.example")
    with pytest.raises(CommandError, match="the following arguments are required: --as"):
        run("report", "publish", PERIOD)
    out = run("report", "publish", PERIOD, "--as", "pat@platform.example")
    assert out.startswith("Published the 2020-H2 report, version 1: 11 requests from 2 ")
