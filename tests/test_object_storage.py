"""Documents, production packages and preservation snapshots in an S3-compatible object store
(``GOVREQ_STORAGE_URL=s3://bucket/prefix``), against a real S3 server on loopback (moto's server
mode, started here on a free port: no network); and the local default keeps the earlier layout."""

from __future__ import annotations

import socket
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.core.storage import s3_storages
from govreq.intake.models import Document
from govreq.intake.services import document_open
from govreq.lifecycle import disclosing, reviewing
from tests.conftest import valid_submission
from tests.review_helpers import approve, collect, deliver, make_staff, submit

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 a warrant for the object store\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint():
    server_module = pytest.importorskip("moto.server")
    port = free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


S3_ENV = {"AWS_ACCESS_KEY_ID": "govreq-test", "AWS_SECRET_ACCESS_KEY": "govreq-test-secret"}


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A fresh bucket; both storages configured on it as GOVREQ_STORAGE_URL would."""
    import boto3

    name = f"govreq-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=name)
    env = {**S3_ENV, "GOVREQ_S3_ENDPOINT_URL": s3_endpoint, "AWS_DEFAULT_REGION": "us-east-1"}
    settings.STORAGES = {**settings.STORAGES, **s3_storages(f"s3://{name}/site", env)}

    def objects(prefix: str) -> dict[str, bytes]:
        listed = client.list_objects_v2(Bucket=name, Prefix=prefix).get("Contents", [])
        return {
            item["Key"]: client.get_object(Bucket=name, Key=item["Key"])["Body"].read()
            for item in listed
        }

    def head(key: str) -> dict:
        return client.head_object(Bucket=name, Key=key)

    return objects, head


@pytest.fixture
def staff(db):
    return make_staff()


def _files(folder: Path) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.is_file()] if Path(folder).exists() else []


def test_a_document_is_stored_in_the_bucket_and_read_back(
    api_as, chan_token, bucket, settings, client, staff
):
    objects, head = bucket
    chan = api_as(chan_token)
    created = chan.post("/requests", _submission()).json()
    body = chan.upload(f"/requests/{created['id']}/documents", "w.pdf", PDF, "application/pdf")
    assert body.status_code == 201, body.content
    sha = body.json()["sha256"]
    key = f"site/documents/{sha[:2]}/{sha}"
    assert objects("site/documents/") == {key: PDF}
    assert head(key)["ServerSideEncryption"] == "AES256"  # encrypted at rest by the store
    assert not _files(settings.DOCUMENTS_DIR)  # nothing on this machine's disk
    # Read back through the storage (what the console's download streams).
    with document_open(Document.objects.get(sha256=sha)) as handle:
        assert handle.read() == PDF


def test_identical_bytes_are_stored_once(api_as, chan_token, bucket):
    objects, _head = bucket
    chan = api_as(chan_token)
    for _ in range(2):
        created = chan.post("/requests", _submission()).json()
        response = chan.upload(
            f"/requests/{created['id']}/documents", "w.pdf", PDF, "application/pdf"
        )
        assert response.status_code == 201
    assert len(objects("site/documents/")) == 1


def test_a_package_is_sealed_in_the_bucket_downloaded_and_purged(
    chan, staff, platform, bucket, settings
):
    objects, _head = bucket
    request = approve(submit(chan), staff)
    production = deliver(request, staff, chan)
    members = objects("site/packages/")
    assert members and all(
        key.startswith(f"site/packages/{production.public_id}/") for key in members
    )
    # Only sealed bytes leave this machine: every member is encrypted by govreq itself.
    assert all(data.startswith(b"GRQSEAL1") for data in members.values())
    assert not _files(settings.PACKAGES_DIR)
    download = disclosing.package_download(
        actor=Actor.for_officer(chan),
        production=production,
        channel="API",
        client_address="192.0.2.1",
        user_agent="pytest",
        now=timezone.now(),
    )
    assert b"".join(download.chunks).startswith(b"PK")  # the zip, decrypted from the bucket
    later = production.expires_at + timedelta(seconds=1)
    purged = disclosing.productions_purge_expired(actor=Actor.system("test"), now=later)
    assert purged.productions == [str(production.public_id)]
    assert objects("site/packages/") == {}


def test_a_follow_up_is_produced_from_a_snapshot_in_the_bucket(chan, staff, platform, bucket):
    objects, _head = bucket
    request = submit(
        chan,
        document=False,
        kind="PRESERVATION",
        legal_basis="18 U.S.C. 2703(f)",
        data_categories=["BASIC_SUBSCRIBER", "IP_LOGS"],
        targets=[{"type": "USERNAME", "value": "@scammer_hk"}],
    )
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="PRESERVE",
        rationale="Valid preservation request.",
        now=timezone.now(),
    )
    request.refresh_from_db()
    snapshot = collect(request)
    assert snapshot.status == "READY", snapshot.error
    assert any(key.startswith(f"site/packages/{snapshot.public_id}/") for key in objects("site/"))
    live = sqlite3.connect(platform)
    live.execute("DELETE FROM logins")  # gone from the live platform
    live.commit()
    live.close()
    follow_up = submit(
        chan,
        kind="SEARCH_WARRANT",
        data_categories=["BASIC_SUBSCRIBER", "IP_LOGS"],
        targets=[{"type": "USERNAME", "value": "@scammer_hk"}],
        preservation_reference=request.reference,
    )
    production = collect(approve(follow_up, staff))
    assert production.status == "READY", production.error
    logs = [f for f in production.manifest["files"] if f["category"] == "IP_LOGS"]
    assert logs and logs[0]["records"] > 0  # read back from the snapshot in the bucket


def test_the_local_default_keeps_the_earlier_layout(api_as, chan_token, settings):
    """Data written by earlier versions (documents/ab/<sha256> under the data directory) still
    reads, and new documents land in the same place."""
    chan = api_as(chan_token)
    created = chan.post("/requests", _submission()).json()
    sha = chan.upload(
        f"/requests/{created['id']}/documents", "w.pdf", PDF, "application/pdf"
    ).json()["sha256"]
    stored = Path(settings.DOCUMENTS_DIR) / sha[:2] / sha
    assert stored.read_bytes() == PDF
    assert stored.stat().st_mode & 0o777 == 0o600
    assert not [p for p in stored.parent.iterdir() if p.name.startswith(".writing-")]


def test_the_storage_url_is_parsed():
    env = {"GOVREQ_S3_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_DEFAULT_REGION": "eu-west-1"}
    configured = s3_storages("s3://records/govreq/prod/", env)
    assert configured["documents"]["OPTIONS"]["bucket_name"] == "records"
    assert configured["documents"]["OPTIONS"]["location"] == "govreq/prod/documents"
    assert configured["packages"]["OPTIONS"]["location"] == "govreq/prod/packages"
    assert configured["packages"]["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"
    assert configured["packages"]["OPTIONS"]["region_name"] == "eu-west-1"
    assert configured["packages"]["OPTIONS"]["default_acl"] is None
    assert s3_storages("s3://records", {})["documents"]["OPTIONS"]["location"] == "documents"
    with pytest.raises(ValueError, match="s3://bucket"):
        s3_storages("s3:///x", {})


def _submission() -> dict:
    return valid_submission()
