"""A document accepted as plain text downloads under a .txt name, typed as text, never sniffed:
an .svg or .html file saved from the console cannot open as what its original name says."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.intake.documents import download_name
from govreq.lifecycle.receiving import document_attach
from tests.console.test_console import signed_in
from tests.console.test_console import staff as staff
from tests.review_helpers import submit

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>\n'


@pytest.mark.parametrize(
    ("name", "media_type", "expected"),
    [
        ("drawing.svg", "text/plain", "drawing.svg.txt"),
        ("page.HTML", "text/plain", "page.HTML.txt"),
        ("notes.txt", "text/plain", "notes.txt"),
        ("NOTES.TXT", "text/plain", "NOTES.TXT"),
        ("warrant.pdf", "application/pdf", "warrant.pdf"),
        ("warrant.html", "application/pdf", "warrant.html.pdf"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("x" * 255, "text/plain", "x" * 251 + ".txt"),
    ],
)
def test_download_names(name, media_type, expected):
    assert download_name(name, media_type) == expected


@pytest.mark.parametrize("name", ["drawing.svg", "page.html"])
def test_a_text_document_downloads_with_a_txt_name(staff, chan, name):
    request = submit(chan)
    document = document_attach(
        actor=Actor.for_officer(chan),
        request=request,
        upload=io.BytesIO(SVG),
        original_name=name,
        claimed_type="text/plain",
        now=timezone.now(),
    )
    assert document.media_type == "text/plain" and document.original_name == name
    response = signed_in(staff, "aud").get(f"/console/documents/{document.pk}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{name}.txt"'
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == SVG
