"""Signed checkpoints of the audit chain's head: written idempotently (hourly by the worker),
published at /transparency/audit-checkpoints.json, and checked by `govreq audit verify`, which
then detects truncation and re-hashing after a checkpoint, and refuses forged checkpoints."""

from __future__ import annotations

import base64
import functools
import http.server
import json
import threading
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from govreq.accounts.services import staff_add
from govreq.api.tokens import api_token_issue
from govreq.audit.chain import event_hash
from govreq.audit.checkpoints import (
    FORMAT,
    AuditChainBroken,
    document_parse,
    signature_problem,
    statement_payload,
)
from govreq.audit.models import AuditCheckpoint, AuditEvent
from govreq.audit.selectors import audit_chain_verify, audit_checkpoints_document
from govreq.audit.services import audit_checkpoint_write, audit_record_standalone
from govreq.core.actors import Actor
from govreq.core.signing import key_id, public_key_b64, sign_payload, signing_key
from govreq.worker.runner import Worker
from govreq.worker.schedule import SCHEDULE
from tests.conftest import SYSTEM, valid_submission

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_signing_key(settings, tmp_path):
    """Each test gets its own development signing key."""
    settings.DATA_DIR = tmp_path / "data"
    settings.REPORT_SIGNING_KEY = ""
    settings.REPORT_SIGNING_KEY_FILE = ""
    settings.REPORT_TRUSTED_PUBLIC_KEYS = ""


@pytest.fixture
def history(api_as, chan_token):
    chan = api_as(chan_token)
    created = chan.post("/requests", valid_submission()).json()
    chan.post(f"/requests/{created['id']}/withdraw", {"reason": "done"})
    assert AuditEvent.objects.count() >= 6
    return created


def event(label: str = "x") -> AuditEvent:
    return audit_record_standalone(
        actor=Actor.system("test"),
        action="test.event",
        object_type="test",
        object_id=label,
        now=timezone.now(),
    )


def export(tmp_path: Path, name: str = "copy.json") -> Path:
    path = tmp_path / name
    call_command("audit", "checkpoints", "--export", str(path), stdout=StringIO())
    return path


def verify(*args: str) -> str:
    out = StringIO()
    call_command("audit", "verify", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def verify_fails(*args: str) -> str:
    with pytest.raises(CommandError) as error:
        verify(*args)
    assert error.value.returncode == 1
    return str(error.value)


def raw_delete(queryset) -> None:
    queryset._raw_delete(queryset.db)


def truncate_after(seq: int) -> None:
    raw_delete(AuditEvent.objects.filter(seq__gt=seq))


def rehash_from(seq: int) -> None:
    """An attacker with the database rewrites event #seq and re-hashes every event after it, so
    the chain links and verifies again."""
    rows = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq"))
    prev = AuditEvent.objects.get(seq=seq - 1).hash
    for row in rows:
        data = {**row.data, "rewritten": True} if row.seq == seq else row.data
        digest = event_hash(
            prev_hash=prev,
            seq=row.seq,
            occurred_at=row.occurred_at,
            actor_kind=row.actor_kind,
            actor_id=row.actor_id,
            actor_label=row.actor_label,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            data=data,
        )
        AuditEvent.objects.filter(pk=row.pk).update(data=data, prev_hash=prev, hash=digest)
        prev = digest


# --- writing ------------------------------------------------------------------------------------


def test_the_writer_signs_the_head_once_until_it_moves(history):
    head = AuditEvent.objects.order_by("-seq").first()
    events = AuditEvent.objects.count()
    first = audit_checkpoint_write(now=timezone.now())
    assert first.created
    assert (first.checkpoint.seq, first.checkpoint.hash) == (head.seq, head.hash)
    again = audit_checkpoint_write(now=timezone.now() + timedelta(hours=1))
    assert not again.created
    assert again.checkpoint.pk == first.checkpoint.pk
    assert AuditCheckpoint.objects.count() == 1
    # Not an event itself: the head it signed did not move.
    assert AuditEvent.objects.count() == events
    moved = event()
    third = audit_checkpoint_write(now=timezone.now())
    assert third.created
    assert third.checkpoint.seq == moved.seq
    assert AuditCheckpoint.objects.count() == 2


def test_the_signature_covers_seq_hash_time_and_key(history):
    checkpoint = audit_checkpoint_write(now=timezone.now()).checkpoint
    public = public_key_b64(signing_key())
    assert checkpoint.public_key == public
    assert checkpoint.key_id == key_id(public)
    assert checkpoint.made_at.utcoffset() == timedelta(0)
    stored = document_parse(export_bytes(), source="doc")[0]
    assert signature_problem(stored, trusted={public}) == ""
    for change in ({"seq": stored.seq - 1}, {"hash": "0" * 64}, {"made_at": "2020-01-01"}):
        forged = stored.__class__(**{**stored.as_dict(), **change})
        assert "signature does not match" in signature_problem(forged, trusted={public})


def export_bytes() -> bytes:
    return "".join(audit_checkpoints_document()).encode()


def test_a_broken_chain_is_never_signed(history):
    audit_checkpoint_write(now=timezone.now())
    event("after")
    AuditEvent.objects.filter(seq=3).update(actor_label="insider")
    # The events after the last checkpoint are checked from it; the one it signed still matches,
    # so an edit before it is for `audit verify`; an edit after it is refused here.
    last = AuditEvent.objects.order_by("-seq").first()
    AuditEvent.objects.filter(pk=last.pk).update(actor_label="insider")
    with pytest.raises(AuditChainBroken, match=f"#{last.seq}"):
        audit_checkpoint_write(now=timezone.now())
    assert AuditCheckpoint.objects.count() == 1


def test_the_first_checkpoint_checks_the_whole_chain(history):
    AuditEvent.objects.filter(seq=2).update(actor_label="insider")
    with pytest.raises(AuditChainBroken, match="#2"):
        audit_checkpoint_write(now=timezone.now())
    assert not AuditCheckpoint.objects.exists()


def test_after_truncation_below_a_checkpoint_nothing_more_is_signed(history):
    signed = audit_checkpoint_write(now=timezone.now()).checkpoint
    truncate_after(signed.seq - 2)
    event("new")  # the chain grows again from the cut
    with pytest.raises(AuditChainBroken, match=f"no longer holds event #{signed.seq}"):
        audit_checkpoint_write(now=timezone.now())


def test_an_empty_log_has_nothing_to_sign():
    raw_delete(AuditEvent.objects.all())
    written = audit_checkpoint_write(now=timezone.now())
    assert written.checkpoint is None and not written.created


# --- the worker ---------------------------------------------------------------------------------


def test_the_worker_signs_the_head_every_hour(history):
    job = next(job for job in SCHEDULE if job.name == "audit-checkpoint")
    assert job.every <= timedelta(hours=1)
    worker = Worker(schedule=(job,))
    at = timezone.now()
    outcome = worker.run_due_jobs(at)
    head = AuditEvent.objects.order_by("-seq").first()
    assert outcome == {"audit-checkpoint": f"audit chain head #{head.seq} signed"}
    assert worker.run_due_jobs(at) == {}  # the hour's slot is taken
    # Next hour, nothing happened: nothing new is signed.
    assert "already signed" in worker.run_due_jobs(at + timedelta(hours=1))["audit-checkpoint"]
    moved = event()
    assert worker.run_due_jobs(at + timedelta(hours=2)) == {
        "audit-checkpoint": f"audit chain head #{moved.seq} signed"
    }
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [head.seq, moved.seq]


# --- publication --------------------------------------------------------------------------------


def test_the_public_document_lists_every_checkpoint_and_the_keys(history, client, tmp_path):
    first = audit_checkpoint_write(now=timezone.now()).checkpoint
    event()
    second = audit_checkpoint_write(now=timezone.now()).checkpoint
    response = client.get("/transparency/audit-checkpoints.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "public" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    document = json.loads(body)
    public = public_key_b64(signing_key())
    assert document["format"] == FORMAT
    assert {"key_id": key_id(public), "public_key": public} in document["public_keys"]
    assert [c["seq"] for c in document["checkpoints"]] == [first.seq, second.seq]
    item = document["checkpoints"][0]
    assert set(item) == {"seq", "hash", "made_at", "key_id", "public_key", "signature"}
    assert item["hash"] == first.hash
    assert item["made_at"].endswith("+00:00")
    assert len(base64.b64decode(item["signature"])) == 64
    # The same document as the export, which an outside party keeps.
    assert export(tmp_path).read_bytes() == body
    # A copy already held is confirmed without sending it again.
    again = client.get("/transparency/audit-checkpoints.json", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    event()
    audit_checkpoint_write(now=timezone.now())
    moved = client.get("/transparency/audit-checkpoints.json", HTTP_IF_NONE_MATCH=response["ETag"])
    assert moved.status_code == 200


# --- verification -------------------------------------------------------------------------------


def test_untouched_log_and_checkpoints_verify(history, tmp_path):
    audit_checkpoint_write(now=timezone.now())
    event()
    audit_checkpoint_write(now=timezone.now())
    out = verify("--checkpoints", str(export(tmp_path)))
    assert "2 stored checkpoint(s)" in out
    assert "2 checkpoint(s) in" in out


def test_truncation_is_caught_by_the_stored_checkpoints(history):
    signed = audit_checkpoint_write(now=timezone.now()).checkpoint
    truncate_after(signed.seq - 2)
    assert audit_chain_verify().ok  # the chain alone cannot tell
    message = verify_fails()
    assert f"signed event #{signed.seq}" in message
    assert f"ends at event #{signed.seq - 2}" in message
    assert "truncated" in message


def test_truncation_with_the_checkpoints_deleted_is_caught_by_an_outside_copy(history, tmp_path):
    signed = audit_checkpoint_write(now=timezone.now()).checkpoint
    copy = export(tmp_path)
    truncate_after(signed.seq - 2)
    raw_delete(AuditCheckpoint.objects.all())
    verify()  # everything left in the database is consistent
    message = verify_fails("--checkpoints", str(copy))
    assert "truncated" in message
    assert f"#{signed.seq}" in message
    assert "no longer stored" in message


def test_truncation_and_regrowth_is_caught(history, tmp_path):
    signed = audit_checkpoint_write(now=timezone.now()).checkpoint
    copy = export(tmp_path)
    truncate_after(signed.seq - 3)
    raw_delete(AuditCheckpoint.objects.all())
    for label in "abcd":  # new events take the deleted numbers
        event(label)
    assert audit_chain_verify().ok
    message = verify_fails("--checkpoints", str(copy))
    assert f"event #{signed.seq} no longer has the hash it signed" in message


def test_rehashing_after_a_point_is_caught(history, tmp_path):
    signed = audit_checkpoint_write(now=timezone.now()).checkpoint
    copy = export(tmp_path)
    rehash_from(3)
    raw_delete(AuditCheckpoint.objects.all())
    assert audit_chain_verify().ok  # the rewritten chain links
    message = verify_fails("--checkpoints", str(copy))
    assert f"event #{signed.seq} no longer has the hash it signed" in message
    assert "re-hashed" in message


def test_rehashing_is_caught_by_the_stored_checkpoints_too(history):
    signed = audit_checkpoint_write(now=timezone.now()).checkpoint
    rehash_from(signed.seq)
    assert "no longer has the hash it signed" in verify_fails()


def test_a_forged_checkpoint_is_refused(history, tmp_path):
    audit_checkpoint_write(now=timezone.now())
    copy = export(tmp_path)
    rehash_from(3)
    head = AuditEvent.objects.order_by("-seq").first()
    # The attacker puts the new head into the copy (and the database) without the key.
    document = json.loads(copy.read_text())
    document["checkpoints"][0]["hash"] = head.hash
    copy.write_text(json.dumps(document))
    AuditCheckpoint.objects.filter(seq=head.seq).update(hash=head.hash)
    assert "signature does not match (the checkpoint was forged" in verify_fails(
        "--checkpoints", str(copy)
    )


def test_a_checkpoint_signed_by_another_key_is_refused(history, tmp_path):
    rehash_from(3)
    head = AuditEvent.objects.order_by("-seq").first()
    other = Ed25519PrivateKey.generate()
    public = public_key_b64(other)
    made_at = timezone.now().isoformat()
    signature = sign_payload(
        other,
        statement_payload(seq=head.seq, hash=head.hash, made_at=made_at, key_id=key_id(public)),
    )
    forged = tmp_path / "forged.json"
    forged.write_text(
        json.dumps(
            {
                "format": FORMAT,
                "public_keys": [{"key_id": key_id(public), "public_key": public}],
                "checkpoints": [
                    {
                        "seq": head.seq,
                        "hash": head.hash,
                        "made_at": made_at,
                        "key_id": key_id(public),
                        "public_key": public,
                        "signature": signature,
                    }
                ],
            }
        )
    )
    assert "not a trusted key" in verify_fails("--checkpoints", str(forged))
    # Unless the verifier pins that key: then the copy is believed (it matches the rewritten
    # log) and only said to be missing from the database.
    pinned = verify_fails("--checkpoints", str(forged), "--public-key", public)
    assert "not a trusted key" not in pinned
    assert f"no longer stored (#{head.seq})" in pinned


def test_pinning_a_key_refuses_the_platforms_own(history, tmp_path):
    audit_checkpoint_write(now=timezone.now())
    other = public_key_b64(Ed25519PrivateKey.generate())
    assert "not a trusted key" in verify_fails("--public-key", other)


def test_a_copy_fetched_over_http(history, tmp_path):
    signed = audit_checkpoint_write(now=timezone.now()).checkpoint
    export(tmp_path, "audit-checkpoints.json")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/audit-checkpoints.json"
        assert "1 checkpoint(s) in" in verify("--checkpoints", url)
        truncate_after(signed.seq - 1)
        raw_delete(AuditCheckpoint.objects.all())
        assert "truncated" in verify_fails("--checkpoints", url)
        missing = verify_fails("--checkpoints", url.replace("audit-", "no-such-"))
        assert "cannot read checkpoints from http://127.0.0.1" in missing
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreadable_copy_is_named(history, tmp_path):
    assert "cannot read checkpoints from" in verify_fails("--checkpoints", str(tmp_path / "none"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    assert f"{bad} is not a {FORMAT} document" in verify_fails("--checkpoints", str(bad))
    bad.write_text(json.dumps({"format": FORMAT, "checkpoints": [{"seq": 1}]}))
    assert "checkpoints[0]: hash is missing" in verify_fails("--checkpoints", str(bad))


def test_the_staff_api_checks_the_stored_checkpoints(history, api_as, db):
    token = api_token_issue(actor=SYSTEM, user=_auditor(), now=timezone.now()).secret
    signed = audit_checkpoint_write(now=timezone.now()).checkpoint
    body = api_as(token).get("/staff/audit/verify").json()
    assert body["ok"] is True and body["checkpoints"] == 1
    truncate_after(signed.seq - 1)
    body = api_as(token).get("/staff/audit/verify").json()
    assert body["ok"] is False
    assert body["problem"] == ""  # the chain alone still links
    assert "truncated" in body["checkpoint_problems"][0]


def _auditor():
    return staff_add(
        actor=SYSTEM,
        email="aud@platform.example",
        name="Aud",
        roles=["AUDITOR"],
        now=timezone.now(),
    )
