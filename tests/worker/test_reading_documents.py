"""The worker reads an attached document (the real database queue: the task is queued in the
transaction that attaches it),
stores the text, and checks the request again."""

from __future__ import annotations

import io

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from govreq.audit.models import AuditEvent
from govreq.core.actors import Actor
from govreq.demo.pdf import tiny_pdf
from govreq.intake.models import DocumentText
from govreq.lifecycle.document_reading import read_document
from govreq.lifecycle.receiving import document_attach
from govreq.review.services import latest_findings
from govreq.worker.runner import Worker
from tests.review_helpers import submit


def mismatch(request):
    return next(f for f in latest_findings(request) if f.code == "DOCUMENT_MISMATCH")


@pytest.mark.django_db
def test_the_worker_reads_an_attached_document_then_checks_again(chan):
    request = submit(chan, document=False, agency_case_number="KC-2026-0042")
    document = document_attach(
        actor=Actor.for_officer(chan),
        request=request,
        upload=io.BytesIO(
            tiny_pdf(["法庭命令", "簽發機關：裁判官 (Kowloon City)", "案件編號：KC-2026-0024"])
        ),
        original_name="order.pdf",
        claimed_type="application/pdf",
        now=timezone.now(),
    )
    queued = DBTaskResult.objects.get(task_path__endswith="read_document")
    assert queued.status == TaskResultStatus.READY
    assert not DocumentText.objects.exists()
    assert mismatch(request).outcome == "INFO"  # not read yet, and it says so

    Worker().run_once()

    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.SUCCESSFUL
    text = DocumentText.objects.get(document=document)
    assert text.method == "PDF" and "案件編號：KC-2026-0024" in text.text
    assert AuditEvent.objects.filter(action="document.read").count() == 1
    finding = mismatch(request)
    assert finding.outcome == "WARN" and "KC-2026-0042" in finding.message
    # Once read, a repeated task (a retry after a crash) reads nothing again.
    read_document.enqueue(document_id=document.pk)
    Worker().run_once()
    assert AuditEvent.objects.filter(action="document.read").count() == 1
