"""Publishing a report signs the audit chain's head; the transparency history (holds, rejections,
lapsed decisions, deliveries, notices) replays clean against its rows."""

from __future__ import annotations

from django.utils import timezone

from govreq.audit.checkpoints import signature_problem
from govreq.audit.models import AuditCheckpoint, AuditEvent
from govreq.audit.selectors import audit_checkpoints
from govreq.core.signing import trusted_public_keys
from govreq.lifecycle.reconciling import requests_reconcile
from govreq.transparency.services import report_publish


def test_publishing_a_report_signs_the_head_with_its_publication(history):
    report = report_publish(actor=history.actor("pat"), period="2020-H2", now=timezone.now())
    published = AuditEvent.objects.get(action="report.published")
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.seq, checkpoint.hash) == (published.seq, published.hash)
    assert checkpoint.made_at == report.published_at
    assert checkpoint.public_key == report.public_key
    (stored,) = audit_checkpoints()
    assert signature_problem(stored, trusted=trusted_public_keys()) == ""


def test_the_whole_history_reconciles(history):
    result = requests_reconcile()
    assert result.requests >= 10
    assert result.findings == []
