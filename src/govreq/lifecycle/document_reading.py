"""Reading an attached legal document: its text stored beside it, then the request checked again.

The text is read outside any transaction (a hostile PDF may take the reader's whole time limit,
and no lock is held meanwhile), in a child process with limits (``intake.reading``); then one
transaction locks the request, stores the text with its audit event and, for an open request,
runs the checks again (DOCUMENT_MISMATCH reads the text). The worker reads each document once,
after the transaction that attached it commits; ``govreq request read-documents REF`` reads a
request's documents again, at once.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.core.actors import Actor
from govreq.intake import services as intake
from govreq.intake.models import FINAL_STATUSES, Document, DocumentText, LegalRequest
from govreq.intake.reading import extract_guarded
from govreq.intake.storage import document_read
from govreq.review.models import CheckTrigger
from govreq.review.services import checks_run


def document_read_now(*, actor: Actor, document: Document, now: datetime) -> DocumentText:
    """Read ``document``'s text and store it; an open request is checked again."""
    # The reader's child process reads a local file: the stored bytes (on this disk, or in an
    # object store) are copied to a private temporary one first.
    with tempfile.TemporaryDirectory(prefix="govreq-read-") as folder:
        path = Path(folder) / "document"
        with document_read(document.sha256) as source, path.open("wb") as target:
            shutil.copyfileobj(source, target)
        extraction = extract_guarded(path, document.media_type)
    with transaction.atomic():
        request = intake.lock_request(document.request)
        text = intake.document_text_record(
            actor=actor, document=document, extraction=extraction, now=now
        )
        if request.status not in FINAL_STATUSES:
            checks_run(actor=actor, request=request, trigger=CheckTrigger.DOCUMENT_READ, now=now)
    return text


def request_documents_read(
    *, actor: Actor, request: LegalRequest, now: datetime
) -> list[DocumentText]:
    """Read (again) every document of ``request``, now: for operators and the demo loader."""
    require_role(actor, StaffRole.INTAKE, StaffRole.REVIEWER)
    return [
        document_read_now(actor=actor, document=document, now=now)
        for document in Document.objects.filter(request=request).select_related("request")
    ]


@task()
def read_document(document_id: int) -> str:
    """The worker's task: read one attached document once (the worker reads the clock)."""
    document = Document.objects.filter(pk=document_id).select_related("request").first()
    if document is None:
        return "gone"
    if DocumentText.objects.filter(document=document).exists():
        return "already read"
    text = document_read_now(actor=Actor.system("worker"), document=document, now=timezone.now())
    return text.method
