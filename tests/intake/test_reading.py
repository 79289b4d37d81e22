"""Reading documents: real PDFs made here (English and Chinese), plain text, images without OCR,
broken and hostile files; then the stored text, its audit event, the checks run again, the CLI,
the console and the staff API."""

from __future__ import annotations

import io
import time
import zlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader, PdfWriter

from govreq.audit.models import AuditEvent
from govreq.core.actors import Actor
from govreq.core.errors import PermissionDenied
from govreq.demo.pdf import tiny_pdf
from govreq.intake import reading
from govreq.intake.models import DocumentText
from govreq.intake.reading import extract, extract_guarded
from govreq.lifecycle.document_reading import document_read_now, request_documents_read
from govreq.lifecycle.receiving import document_attach
from govreq.review.models import CheckRun
from govreq.review.services import latest_findings
from tests.console.test_console import PASSWORD, signed_in
from tests.review_helpers import make_staff, submit

CHINESE = [
    "香港特別行政區",
    "搜查令",
    "簽發機關：裁判官",
    "案件編號：KC-2026-0042",
    "簽發日期：2026年1月3日",
]
ENGLISH = ["COURT ORDER", "Issued by: Magistrate, Kowloon City", "Case No.: KC-2026-0042"]


def test_the_text_layer_of_an_english_pdf():
    extraction = extract(tiny_pdf(ENGLISH), "application/pdf")
    assert extraction.method == reading.PDF and extraction.pages == 1
    assert extraction.text.split("\n")[:3] == ENGLISH
    assert not extraction.failed and not extraction.truncated


def test_the_chinese_characters_come_back_from_a_chinese_pdf():
    data = tiny_pdf(CHINESE)
    extraction = extract(data, "application/pdf")
    assert extraction.method == reading.PDF
    assert [line.strip() for line in extraction.text.splitlines() if line.strip()] == CHINESE
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert "裁判官" in page.extract_text(extraction_mode="layout")
    # Readers that do not know Adobe's CNS1 encodings read the font's own ToUnicode map: it maps
    # every character written to itself.
    to_unicode = page["/Resources"]["/Font"]["/F2"]["/ToUnicode"].get_object().get_data().decode()
    for character in "".join(CHINESE):
        code = character.encode("utf-16-be").hex().upper()
        assert f"<{code}> <{code}>" in to_unicode, character


def test_control_characters_a_broken_font_gives_are_dropped():
    # PostgreSQL cannot store a NUL in text; nothing a reviewer reads needs one.
    assert extract(tiny_pdf(["Case\x00 KC-1\x07"]), "application/pdf").text == "Case KC-1\n"


def test_plain_text_is_read_as_it_is():
    extraction = extract("\ufeff案件編號 KC-1\n".encode(), "text/plain")
    assert (extraction.method, extraction.text) == (reading.PLAIN, "案件編號 KC-1\n")


def test_a_scanned_image_needs_ocr():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    extraction = extract(png, "image/png")
    if reading.ocr_available():  # pragma: no cover - Tesseract is not installed here
        pytest.skip("Tesseract is installed: the image goes to OCR")
    assert extraction.method == reading.NONE and not extraction.text
    assert "OCR is not available" in extraction.note


def test_a_pdf_without_a_text_layer_says_ocr_is_unavailable():
    extraction = extract(tiny_pdf([]), "application/pdf")
    assert extraction.method == reading.NONE and extraction.pages == 1
    if not reading.ocr_available():
        assert "no text layer" in extraction.note and "OCR is not available" in extraction.note


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n%%EOF\n",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>",
        tiny_pdf(ENGLISH)[:200],
    ],
)
def test_a_broken_pdf_is_a_recorded_failure_not_a_crash(data):
    extraction = extract(data, "application/pdf")
    assert extraction.method == reading.NONE and extraction.failed
    assert "could not be read" in extraction.note or "no text layer" in extraction.note


def _pages(count: int) -> bytes:
    writer = PdfWriter()
    for number in range(count):
        writer.add_page(PdfReader(io.BytesIO(tiny_pdf([f"Page {number}"]))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pages_and_characters_are_capped(monkeypatch):
    monkeypatch.setattr(reading, "MAX_PAGES", 2)
    extraction = extract(_pages(4), "application/pdf")
    assert extraction.pages == 4 and "Page 1" in extraction.text and "Page 2" not in extraction.text
    assert "first 2 of 4 pages" in extraction.note
    monkeypatch.setattr(reading, "MAX_CHARS", 5)
    capped = extract(b"0123456789", "text/plain")
    assert capped.text == "01234" and capped.truncated and "cut at 5" in capped.note


def _bomb(megabytes: int) -> bytes:
    """A 350 KB PDF whose one page's content inflates to ``megabytes`` MB of text operators."""
    deflate = zlib.compressobj(9)
    line = b"BT /F1 11 Tf 72 700 Td (AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA) Tj ET\n"
    chunk = line * (1024 * 1024 // len(line))
    body = b"".join(deflate.compress(chunk) for _ in range(megabytes)) + deflate.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_a_decompression_bomb_is_a_recorded_failure(tmp_path):
    path = tmp_path / "bomb.pdf"
    path.write_bytes(_bomb(100))
    started = time.monotonic()
    extraction = extract_guarded(path, "application/pdf")
    assert extraction.failed and extraction.text == ""
    assert "could not be read" in extraction.note
    assert time.monotonic() - started < 30


def test_the_guarded_reader_gives_the_same_text_in_a_limited_child(tmp_path):
    path = tmp_path / "warrant.pdf"
    path.write_bytes(tiny_pdf(CHINESE))
    assert extract_guarded(path, "application/pdf") == extract(path.read_bytes(), "application/pdf")


def test_the_guarded_reader_gives_up_on_a_reader_that_takes_too_long(tmp_path):
    path = tmp_path / "slow.pdf"
    path.write_bytes(_pages(30))
    extraction = extract_guarded(path, "application/pdf", timeout=0.01)
    assert extraction.failed and "longer than" in extraction.note


def test_the_guarded_reader_records_a_child_that_dies(tmp_path):
    path = tmp_path / "gone.pdf"  # the child cannot open it: it exits with an error
    extraction = extract_guarded(Path(path), "application/pdf")
    assert extraction.failed and extraction.method == reading.NONE


# --- stored beside the document, audited, checked again --------------------------------------


@pytest.fixture
def staff(db):
    return make_staff()


def attach(request, officer, lines):
    return document_attach(
        actor=Actor.for_officer(officer),
        request=request,
        upload=io.BytesIO(tiny_pdf(lines)),
        original_name="warrant.pdf",
        claimed_type="application/pdf",
        now=timezone.now(),
    )


def mismatch(request):
    return next(f for f in latest_findings(request) if f.code == "DOCUMENT_MISMATCH")


AGREEING = [
    "COURT ORDER",
    "Issued by: Magistrate, Kowloon City",
    "Case No.: KC-2026-0042",
    "Accounts: @Scammer_HK, victim.finder@example.com, +852 9123 4567, 2001:db8::1",
]


def test_reading_stores_the_text_audits_it_and_checks_again(chan):
    request = submit(chan, document=False)
    document = attach(request, chan, AGREEING)
    assert mismatch(request).outcome == "INFO"  # attached, not read yet
    runs = CheckRun.objects.filter(request=request).count()
    text = document_read_now(actor=Actor.system("worker"), document=document, now=timezone.now())
    assert text.method == "PDF" and "KC-2026-0042" in text.text
    assert DocumentText.objects.get(document=document) == text
    event = AuditEvent.objects.filter(action="document.read").get()
    assert event.data["method"] == "PDF" and event.data["document"] == document.pk
    assert CheckRun.objects.filter(request=request).count() == runs + 1
    assert CheckRun.objects.filter(request=request).latest("id").trigger == "DOCUMENT_READ"
    assert mismatch(request).outcome == "PASS", mismatch(request).message


def test_a_document_with_another_case_number_warns(chan):
    request = submit(chan, document=False)
    document = attach(request, chan, [*AGREEING[:2], "Case No.: KC-2026-0024", *AGREEING[3:]])
    document_read_now(actor=Actor.system("worker"), document=document, now=timezone.now())
    finding = mismatch(request)
    assert finding.outcome == "WARN"
    assert "KC-2026-0042" in finding.message and "KC-2026-0024" in finding.message


def test_an_unreadable_document_is_stored_as_such(chan):
    request = submit(chan, document=False)
    document = attach(request, chan, [])  # a PDF without a text layer, as a scan would be
    text = document_read_now(actor=Actor.system("worker"), document=document, now=timezone.now())
    assert text.method == "NONE" and text.text == "" and text.note
    finding = mismatch(request)
    assert finding.outcome == "INFO" and "No readable text" in finding.message


def test_reading_again_replaces_the_text_and_needs_a_role(chan, staff):
    request = submit(chan, document=False)
    attach(request, chan, AGREEING)
    with pytest.raises(PermissionDenied):
        request_documents_read(
            actor=Actor.for_user(staff.users["aud"]), request=request, now=timezone.now()
        )
    for _ in range(2):
        (text,) = request_documents_read(
            actor=Actor.for_user(staff.users["rita"]), request=request, now=timezone.now()
        )
        assert text.method == "PDF"
    assert DocumentText.objects.filter(document__request=request).count() == 1
    assert AuditEvent.objects.filter(action="document.read").count() == 2


def test_the_cli_reads_a_requests_documents(chan, capsys):
    request = submit(chan, document=False)
    attach(request, chan, AGREEING)
    call_command("request", "read-documents", request.reference)
    out = capsys.readouterr().out
    assert "warrant.pdf:" in out and "PDF text layer" in out
    assert "PASS   DOCUMENT_MISMATCH" in out
    assert DocumentText.objects.filter(document__request=request).exists()


def test_reviewers_see_the_text_on_the_case_page_and_in_the_staff_api(chan, staff):
    for user in staff.users.values():
        user.set_password(PASSWORD)
        user.save()
    request = submit(chan, document=False)
    document = attach(request, chan, ["搜查令", "案件編號：KC-2026-0042"])
    client = signed_in(staff, "rita")
    page = client.get(f"/console/requests/{request.public_id}")
    assert page.status_code == 200
    assert "not read yet" in page.content.decode()
    document_read_now(actor=Actor.system("worker"), document=document, now=timezone.now())
    page = client.get(f"/console/requests/{request.public_id}").content.decode()
    assert 'data-testid="document-text-body"' in page and "案件編號：KC-2026-0042" in page
    detail = Client().get(
        f"/api/v1/staff/requests/{request.public_id}",
        headers={"Authorization": f"Bearer {staff.tokens['rita']}"},
    )
    (text,) = detail.json()["document_texts"]
    assert text["document_id"] == document.pk and text["method"] == "PDF"
    assert "案件編號：KC-2026-0042" in text["text"]
