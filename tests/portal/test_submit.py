"""Submitting a request in the portal: form -> review -> send -> confirmation."""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from govreq.agencies.models import Agency, Officer
from govreq.demo.pdf import tiny_pdf
from govreq.intake.models import Channel, Document, LegalRequest
from govreq.portal.services import login_code_request
from govreq.portal.staging import SESSION_DRAFT, staged_path
from tests.portal.conftest import code_from_mail

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script><b>x</b>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"


def form_data(**overrides: Any) -> dict[str, Any]:
    today = timezone.now().date()
    data: dict[str, Any] = {
        "kind": "COURT_ORDER",
        "legal_basis": "Cap. 455 Organized and Serious Crimes Ordinance, s.4",
        "issuing_authority": "Magistrate, Kowloon City",
        "agency_case_number": "KC-2026-0042",
        "offence_category": "FRAUD",
        "narrative": "Investment scam advertised through the account.",
        "data_categories": ["BASIC_SUBSCRIBER", "IP_LOGS"],
        "data_start": (today - timedelta(days=60)).isoformat(),
        "data_end": (today - timedelta(days=1)).isoformat(),
        "deadline_at": (timezone.now() + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"),
        "deadline_tz": "Asia/Hong_Kong",
        "targets": "@Scammer_HK\nEMAIL: Victim.Finder@Example.COM\n+852 9123 4567\n2001:db8::1",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def pdf(name: str = "order.pdf", text: str = "Order") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, tiny_pdf([text]), content_type="application/pdf")


def field_error(html: str, field: str) -> str:
    """The error text shown in the named field's block (web/field.html puts it there)."""
    errors = re.findall(rf'<p class="error" id="id_{field}_error\d+">(.*?)</p>', html, re.DOTALL)
    return " ".join(errors)


def test_submission_end_to_end_with_a_pdf(chan: Officer, hkpf: Agency, chan_client: Client) -> None:
    form_page = chan_client.get("/portal/new")
    assert form_page.status_code == 200
    assert b'enctype="multipart/form-data"' in form_page.content
    response = chan_client.post(
        "/portal/new",
        {**form_data(), "documents": [pdf("order.pdf"), pdf("annex.pdf", "Annex")]},
    )
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == "/portal/new/review"
    draft = chan_client.session[SESSION_DRAFT]
    staged = staged_path(draft["id"], draft["documents"][0]["file"])
    assert staged.is_relative_to(Path(settings.DATA_DIR) / "staging")
    assert staged.stat().st_mode & 0o777 == 0o600
    assert staged.parent.stat().st_mode & 0o777 == 0o700
    assert LegalRequest.objects.count() == 0

    review = chan_client.get("/portal/new/review").content.decode()
    assert "Investment scam advertised through the account." in review
    assert "order.pdf" in review and "annex.pdf" in review
    assert "victim.finder@example.com" in review  # as it will be recorded
    assert "+85291234567" in review
    assert 'data-testid="send"' in review and 'data-testid="change"' in review

    response = chan_client.post("/portal/new/send", {"draft": draft["id"]})
    assert response.status_code == 302
    legal_request = LegalRequest.objects.get()
    assert response["Location"] == f"/portal/new/sent/{legal_request.public_id}"
    sent = chan_client.get(response["Location"]).content.decode()
    assert f'data-testid="reference">{legal_request.reference}<' in sent

    assert legal_request.agency == hkpf
    assert legal_request.officer == chan
    assert legal_request.channel == Channel.PORTAL
    assert legal_request.deadline_at is not None
    assert sorted(legal_request.targets.values_list("type", "value")) == [
        ("EMAIL", "victim.finder@example.com"),
        ("IP_ADDRESS", "2001:db8::1"),
        ("PHONE", "+85291234567"),
        ("USERNAME", "scammer_hk"),
    ]
    names = list(
        Document.objects.filter(request=legal_request).values_list("original_name", flat=True)
    )
    assert sorted(names) == ["annex.pdf", "order.pdf"]
    assert not staged.parent.exists()  # staging cleaned up
    assert SESSION_DRAFT not in chan_client.session

    # "Send" pressed again: the same request, nothing new.
    again = chan_client.post("/portal/new/send", {"draft": draft["id"]})
    assert again["Location"] == f"/portal/new/sent/{legal_request.public_id}"
    assert LegalRequest.objects.count() == 1


def test_every_submission_field_reaches_the_request(chan_client: Client) -> None:
    data = form_data(
        kind="EMERGENCY",
        legal_basis="",
        offence_category="VIOLENT_CRIME",
        data_start=None,
        data_end=None,
        deadline_at="2099-01-02T03:04",
        deadline_tz="UTC",
        gag_order="on",
        gag_legal_basis="18 U.S.C. 2705(b)",
        gag_expires_on="2099-03-31",
        emergency_danger="A hostage is held.",
        emergency_why_now="The deadline is tonight.",
        targets="USER_ID: 42\nURL: https://Example.com/p#x\n192.0.2.1",
    )
    response = chan_client.post("/portal/new", data)
    assert response["Location"] == "/portal/new/review", response.content.decode()
    draft = chan_client.session[SESSION_DRAFT]
    chan_client.post("/portal/new/send", {"draft": draft["id"]})
    request = LegalRequest.objects.get()
    assert request.kind == "EMERGENCY"
    assert request.data_from is None
    assert request.deadline_at.isoformat() == "2099-01-02T03:04:00+00:00"
    assert request.gag_order and request.gag_legal_basis == "18 U.S.C. 2705(b)"
    assert request.gag_expires_on.isoformat() == "2099-03-31"
    assert request.emergency_danger == "A hostage is held."
    assert request.emergency_why_now == "The deadline is tonight."
    assert sorted(request.targets.values_list("type", "value")) == [
        ("IP_ADDRESS", "192.0.2.1"),
        ("URL", "https://example.com/p"),
        ("USER_ID", "42"),
    ]


def test_the_deadline_is_read_in_the_chosen_time_zone(chan_client: Client) -> None:
    chan_client.post(
        "/portal/new", form_data(deadline_at="2099-06-01T17:00", deadline_tz="Asia/Hong_Kong")
    )
    draft = chan_client.session[SESSION_DRAFT]
    chan_client.post("/portal/new/send", {"draft": draft["id"]})
    deadline = LegalRequest.objects.get().deadline_at
    assert deadline.isoformat() == "2099-06-01T09:00:00+00:00"


def test_a_malformed_target_is_named_by_its_line_and_the_form_is_kept(
    chan_client: Client,
) -> None:
    response = chan_client.post(
        "/portal/new",
        form_data(targets="@Scammer_HK\n\nEMAIL: not-an-address\n+852 9123 4567"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Line 3: “not-an-address” is not an e-mail address" in field_error(html, "targets")
    assert "Investment scam advertised through the account." in html  # the rest is kept
    assert "EMAIL: not-an-address" in html
    assert 'value="KC-2026-0042"' in html
    assert 'value="IP_LOGS" id="id_data_categories_1" checked' in html
    assert LegalRequest.objects.count() == 0


def test_a_gag_order_without_expiry_is_refused_next_to_the_expiry(chan_client: Client) -> None:
    response = chan_client.post(
        "/portal/new", form_data(gag_order="on", gag_legal_basis="Cap. 455 s.7")
    )
    html = response.content.decode()
    assert "must state when it expires" in field_error(html, "gag_expires_on")
    assert 'value="Cap. 455 s.7"' in html


def test_rule_errors_go_to_their_fields(chan_client: Client) -> None:
    today = timezone.now().date()
    response = chan_client.post(
        "/portal/new",
        form_data(
            legal_basis="",
            data_start=(today - timedelta(days=1)).isoformat(),
            data_end=(today - timedelta(days=5)).isoformat(),
            emergency_danger="Not an emergency request",
            data_categories=[],
        ),
    )
    html = response.content.decode()
    assert "This field is required." in html  # data categories, by the form
    assert field_error(html, "legal_basis") == ""  # schema runs only on a valid form
    response = chan_client.post(
        "/portal/new",
        form_data(
            legal_basis="",
            data_start=(today - timedelta(days=1)).isoformat(),
            data_end=(today - timedelta(days=5)).isoformat(),
            emergency_danger="Not an emergency request",
        ),
    )
    html = response.content.decode()
    assert "cite the law" in field_error(html, "legal_basis")
    assert "is before the start date" in field_error(html, "data_end")
    assert "only for emergency disclosure requests" in field_error(html, "emergency_danger")


def test_one_date_alone_or_gag_details_without_the_box_are_refused(chan_client: Client) -> None:
    response = chan_client.post(
        "/portal/new", form_data(data_end=None, gag_expires_on="2099-01-01")
    )
    html = response.content.decode()
    assert "Give both dates, or neither." in field_error(html, "data_end")
    assert "tick this box" in field_error(html, "gag_order")


def test_a_document_that_is_not_what_it_claims_is_refused_at_once(chan_client: Client) -> None:
    fake = SimpleUploadedFile("warrant.pdf", b"just some text", content_type="application/pdf")
    good = pdf("order.pdf")
    response = chan_client.post("/portal/new", {**form_data(), "documents": [fake, good]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "warrant.pdf: is declared as application/pdf but its content is text/plain" in (
        field_error(html, "documents")
    )
    # The good file stays attached while the form is corrected.
    assert 'data-testid="staged-documents"' in html and "order.pdf" in html
    assert LegalRequest.objects.count() == 0


def test_a_document_refused_on_send_leaves_no_request_behind(chan_client: Client) -> None:
    chan_client.post("/portal/new", {**form_data(), "documents": [pdf("order.pdf")]})
    draft = chan_client.session[SESSION_DRAFT]
    # The staged file changes between review and send (as if tampered with on disk).
    staged_path(draft["id"], draft["documents"][0]["file"]).write_bytes(b"\x00\x01binary junk")
    response = chan_client.post("/portal/new/send", {"draft": draft["id"]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "order.pdf: is not a PDF, PNG, JPEG, TIFF or plain-text (UTF-8) document" in (
        field_error(html, "documents")
    )
    assert LegalRequest.objects.count() == 0
    assert Document.objects.count() == 0
    assert "Investment scam advertised through the account." in html
    # Removing the bad file and checking again gets to review.
    response = chan_client.post(
        "/portal/new",
        {
            **form_data(),
            "draft": draft["id"],
            "remove_documents": [draft["documents"][0]["file"]],
        },
    )
    assert response["Location"] == "/portal/new/review"
    assert chan_client.session[SESSION_DRAFT]["documents"] == []


def test_change_returns_to_the_filled_form(chan_client: Client) -> None:
    chan_client.post("/portal/new", {**form_data(narrative="Kept narrative"), "documents": [pdf()]})
    html = chan_client.get("/portal/new?change=1").content.decode()
    assert "Kept narrative" in html
    assert 'value="KC-2026-0042"' in html
    assert "order.pdf" in html
    assert '<option value="Asia/Hong_Kong" selected>' in html
    draft_id = chan_client.session[SESSION_DRAFT]["id"]
    assert f'name="draft" value="{draft_id}"' in html


def test_a_fresh_form_starts_a_new_draft_and_drops_the_old_files(chan_client: Client) -> None:
    chan_client.post("/portal/new", {**form_data(), "documents": [pdf()]})
    old = chan_client.session[SESSION_DRAFT]
    chan_client.post("/portal/new", form_data())
    new = chan_client.session[SESSION_DRAFT]
    assert new["id"] != old["id"]
    assert new["documents"] == []
    assert not (Path(settings.DATA_DIR) / "staging" / old["id"]).exists()


def test_review_and_send_need_a_checked_draft(chan_client: Client) -> None:
    assert chan_client.get("/portal/new/review")["Location"] == "/portal/new"
    assert chan_client.post("/portal/new/send", {"draft": "x" * 24})["Location"] == "/portal/new"
    assert LegalRequest.objects.count() == 0


def test_a_narrative_with_markup_is_shown_as_text(chan_client: Client) -> None:
    chan_client.post("/portal/new", form_data(narrative=SCRIPT))
    review = chan_client.get("/portal/new/review").content.decode()
    assert ESCAPED in review and SCRIPT not in review
    draft = chan_client.session[SESSION_DRAFT]
    response = chan_client.post("/portal/new/send", {"draft": draft["id"]})
    request = LegalRequest.objects.get()
    assert request.narrative == SCRIPT
    detail = chan_client.get(f"/portal/requests/{request.public_id}").content.decode()
    assert ESCAPED in detail and SCRIPT not in detail
    listing = chan_client.get("/portal/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing and "<script>alert" not in listing
    assert response.status_code == 302


def test_abandoned_staging_directories_are_swept(chan_client: Client) -> None:
    root = Path(settings.DATA_DIR) / "staging"
    stale, fresh = root / ("s" * 24), root / ("f" * 24)
    for directory in (stale, fresh):
        directory.mkdir(parents=True)
        (directory / ("0" * 32)).write_bytes(b"x")
    old = time.time() - 25 * 3600
    os.utime(stale, (old, old))
    chan_client.post("/portal/new", form_data())  # a new draft sweeps
    assert not stale.exists()
    assert fresh.exists()


def test_signing_in_again_drops_an_earlier_draft(
    chan: Officer, chan_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    chan_client.post("/portal/new", {**form_data(), "documents": [pdf()]})
    draft = chan_client.session[SESSION_DRAFT]
    with django_capture_on_commit_callbacks(execute=True):  # the code's mail leaves on commit
        login_code_request(
            email=chan.email, client_ip="192.0.2.1", language="en", now=timezone.now()
        )
    response = chan_client.post(
        "/portal/sign-in/code", {"email": chan.email, "code": code_from_mail(chan.email)}
    )
    assert response.status_code == 302
    assert SESSION_DRAFT not in chan_client.session
    assert not (Path(settings.DATA_DIR) / "staging" / draft["id"]).exists()
