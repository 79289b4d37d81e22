"""The reviewer's workbench: the legal document shown in the case page (a PDF drawn by the
vendored PDF.js, never framed), audited like a download; the checks grouped by outcome with what
to do. tests/browser/test_journeys.py sees the pages drawn."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.core.actors import Actor
from govreq.lifecycle.receiving import document_attach
from tests.console.test_console import signed_in, staff  # noqa: F401 (fixture)
from tests.review_helpers import submit

pytestmark = pytest.mark.django_db


def test_the_pdf_is_drawn_in_the_page_by_the_vendored_pdf_js(staff, chan):  # noqa: F811
    request = submit(chan)
    document = request.documents.get()
    rita = signed_in(staff, "rita")
    page = rita.get(f"/console/requests/{request.public_id}").content.decode()
    view = f"/console/documents/{document.pk}/view"
    assert f'data-pdf-src="{view}"' in page and "<iframe" not in page
    pdfjs = re.search(r'data-pdfjs="([^"]+)"', page)[1]
    viewer = re.search(r'<script type="module" src="([^"]+)"', page)[1]
    for asset in (viewer, f"{pdfjs}pdf.min.mjs", f"{pdfjs}pdf.worker.min.mjs"):
        served = finders.find(asset.removeprefix(settings.STATIC_URL).lstrip("/"))
        assert served, asset  # vendored in the package, never fetched from elsewhere
    response = rita.get(view)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'; sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="document.viewed").count() == 1
    # The download stays a download, and framing any other page stays forbidden.
    assert rita.get(f"/console/documents/{document.pk}")["Content-Disposition"].startswith(
        "attachment"
    )
    assert rita.get(f"/console/requests/{request.public_id}")["X-Frame-Options"] == "DENY"


def test_a_text_document_is_not_shown_inline(staff, chan):  # noqa: F811
    request = submit(chan, document=False)
    document_attach(
        actor=Actor.for_officer(chan),
        request=request,
        upload=io.BytesIO(b"<script>alert(1)</script> plain words"),
        original_name="note.txt",
        claimed_type="text/plain",
        now=timezone.now(),
    )
    document = request.documents.get()
    rita = signed_in(staff, "rita")
    page = rita.get(f"/console/requests/{request.public_id}").content.decode()
    assert 'data-testid="document-inline"' not in page
    assert rita.get(f"/console/documents/{document.pk}/view").status_code == 404


def test_checks_grouped_with_what_to_do(staff, chan):  # noqa: F811
    request = submit(chan, document=False)
    page = signed_in(staff, "rita").get(f"/console/requests/{request.public_id}").content.decode()
    checks = page.split('data-testid="checks"')[1].split("</section>")[0]
    assert "Legal document attached: no" in checks
    assert "What to do: Ask the agency for the legal document." in checks
    # Groups come worst first: passes last.
    groups = [g.split(" (")[0] for g in checks.split('data-testid="check-group">')[1:]]
    assert groups[-1] == "Pass" and groups[0] != "Pass"


def test_the_agencys_and_officers_history_beside_the_request(staff, chan, rivera):  # noqa: F811
    first, second = submit(chan), submit(chan)
    other = submit(rivera)  # another agency's
    page = signed_in(staff, "rita").get(f"/console/requests/{second.public_id}").content.decode()
    agency = page.split('data-testid="agency-history"')[1].split("</div>")[0]
    assert "1 earlier request" in agency and first.reference in agency
    assert second.reference not in agency and "Received 1" in agency
    officer = page.split('data-testid="officer-history"')[1].split("</div>")[0]
    assert first.reference in officer
    assert other.reference not in agency and other.reference not in officer
