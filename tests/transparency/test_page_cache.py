"""Public pages cost a cache read: ETag/Last-Modified/Cache-Control, 304 on a matching
conditional GET, a new version visible at once, one cached page per language; drafts cached per
audit-chain head."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.audit.services import audit_record_standalone
from govreq.transparency.periods import parse_period
from govreq.transparency.selectors import report_draft_cached
from govreq.transparency.services import report_publish
from tests.conftest import SYSTEM


@pytest.fixture
def published(history):
    return report_publish(actor=history.actor("pat"), period="2020-H2", now=timezone.now())


def test_public_page_has_validators_and_answers_304(history, published):
    client = Client()
    first = client.get("/transparency/2020-H2/")
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag and first["Last-Modified"]
    assert "public" in first["Cache-Control"] and "max-age=" in first["Cache-Control"]
    again = client.get("/transparency/2020-H2/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    stale = client.get("/transparency/2020-H2/", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200
    # The other language is another page, with its own ETag.
    chinese = client.get("/transparency/2020-H2/?lang=zh-hant")
    assert chinese.status_code == 200 and chinese["ETag"] != etag
    assert chinese["Content-Language"] == "zh-hant"


def test_a_cached_page_costs_one_small_query(history, published):
    client = Client()
    first = client.get("/transparency/2020-H2/").content
    with CaptureQueriesContext(connection) as queries:
        cached = client.get("/transparency/2020-H2/").content
    assert cached == first
    assert len(queries.captured_queries) == 1  # the state of publication, nothing else


def test_publishing_a_new_version_shows_at_once(history, published, rivera):
    from tests.transparency.test_publish import add_late_keyed_request

    client = Client()
    before = client.get("/transparency/2020-H2/")
    assert "What changed since version 1" not in before.content.decode()
    overview_etag = client.get("/transparency/")["ETag"]
    add_late_keyed_request(history, rivera)
    report_publish(
        actor=history.actor("pat"), period="2020-H2", now=timezone.now(), note="Keyed in late."
    )
    after = client.get("/transparency/2020-H2/", headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    html = after.content.decode()
    assert "What changed since version 1" in html and "Keyed in late." in html
    assert re.search(r"<td>US</td><td><code>requests</code></td><td>6</td><td>7</td>", html)
    assert client.get("/transparency/", headers={"If-None-Match": overview_etag}).status_code == 200


def test_drafts_are_cached_per_audit_chain_head(history):
    period = parse_period("2020-H2")
    now = timezone.now()
    first = report_draft_cached(period=period, now=now)
    with CaptureQueriesContext(connection) as queries:
        assert report_draft_cached(period=period, now=now) == first
    assert len(queries.captured_queries) == 1  # the chain head
    audit_record_standalone(
        actor=SYSTEM, action="test.noted", object_type="test", object_id="1", data={}, now=now
    )
    assert AuditEvent.objects.filter(action="test.noted").exists()
    with CaptureQueriesContext(connection) as queries:
        report_draft_cached(period=period, now=now)
    assert len(queries.captured_queries) > 1  # a new head: computed again
