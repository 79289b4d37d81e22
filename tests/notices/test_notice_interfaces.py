"""User notice in the console, the staff API, the officers' API and the portal: reviewers see
each notice with its history and act on it within their role; the agency files a new
non-disclosure order to extend its gag and sees the answer, never the notices themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.demo.pdf import tiny_pdf
from govreq.disclosure.models import Production
from govreq.intake.models import Document, LegalRequest
from govreq.lifecycle import disclosing, reviewing
from govreq.notices.models import GagExtension, NoticeEvent, UserNotice
from tests.conftest import OnCommitClient
from tests.console.test_console import PASSWORD, signed_in
from tests.notices.test_notices import (
    approved_and_collected,
    broken_contact_lookup,
    gagged,
    upload_order,
)
from tests.portal.conftest import sign_in
from tests.review_helpers import make_staff, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db: None) -> Any:
    staff = make_staff()
    for user in staff.users.values():
        user.set_password(PASSWORD)
        user.save()
    return staff


@pytest.fixture(autouse=True)
def _portal_data_dir(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path / "data"


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def gagged_production(chan: Any, staff: Any, capture: Any, days: int = 30) -> LegalRequest:
    """An approved, collected disclosure under a gag order: its notices wait."""
    production = approved_and_collected(chan, staff, capture, gag_order=gagged(days))
    return production.request


def due_notices(chan: Any, staff: Any, capture: Any, settings: Any) -> list[UserNotice]:
    """A collected disclosure whose holders could not be told yet (the contact lookup fails):
    its notices are due."""
    broken_contact_lookup(settings)
    production = approved_and_collected(chan, staff, capture)
    notices = list(UserNotice.objects.filter(production=production))
    assert {n.status for n in notices} == {"DUE"}
    return notices


def case_page(client: Client, request: LegalRequest) -> str:
    return str(client.get(f"/console/requests/{request.public_id}").content.decode())


def post_action(client: Client, request: LegalRequest, action: str, data: dict[str, Any]) -> Any:
    return client.post(f"/console/requests/{request.public_id}/{action}", data)


def staff_api(client: Client, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- console ------------------------------------------------------------------------------------


def test_the_console_panel_shows_each_notice_with_labels_history_and_the_filed_order(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    request = gagged_production(chan, staff, django_capture_on_commit_callbacks)
    extension = upload_order(request)
    rita = signed_in(staff, "rita")
    with CaptureQueriesContext(connection) as queries:
        page = case_page(rita, request)
    panel = page.split('data-testid="user-notice"')[1].split("</section>")[0]
    assert panel.count('data-testid="notice"') == 3
    assert "Non-disclosure order in force" in panel and "Delayed" in panel
    for code in ("GAG_ORDER", ">DELAYED<", ">DUE<"):
        assert code not in panel  # labels, never the raw codes
    end = end_of(request.gag_expires_on)
    assert f"{end:%Y-%m-%d %H:%M} UTC" in panel  # the time with its zone named
    assert panel.count('data-testid="notice-history"') == 3
    # The new order: its expiry, legal basis, document (through the console's download view).
    assert f"Until {extension.new_expires_on:%Y-%m-%d}" in panel
    assert "Renewed by the court" in panel and "Waiting for review" in panel
    assert f'href="/console/documents/{extension.document_id}"' in panel
    assert 'data-testid="gag-accept"' in panel and 'data-testid="gag-refuse"' in panel
    # A gag's delay is never ended by hand, and delayed notices cannot be delayed again.
    assert 'data-testid="notice-end-form"' not in panel
    assert 'data-testid="notice-delay-form"' not in panel
    # No query per notice: the history is prefetched.
    history_queries = [q for q in queries.captured_queries if "notices_noticeevent" in q["sql"]]
    assert len(history_queries) == 1

    # The auditor reads the panel, with no forms.
    panel = case_page(signed_in(staff, "aud"), request).split('data-testid="user-notice"')[1]
    assert "Waiting for review" in panel and 'data-testid="gag-extension-form"' not in panel


def test_a_reviewer_delays_a_due_notice_and_ends_the_delay_in_the_console(
    chan, staff, platform, settings, django_capture_on_commit_callbacks
):
    notice, *_ = due_notices(chan, staff, django_capture_on_commit_callbacks, settings)
    request = notice.request
    rita, aud = signed_in(staff, "rita"), signed_in(staff, "aud")
    assert 'data-testid="notice-delay-form"' in case_page(rita, request)
    assert 'data-testid="notice-delay-form"' not in case_page(aud, request)
    until = timezone.now().date() + timedelta(days=20)
    form = {
        "notice": notice.pk,
        f"delay-{notice.pk}-reason": "The agency's investigation is covert for three weeks",
        f"delay-{notice.pk}-until": until.isoformat(),
    }

    refused = post_action(aud, request, "notice_delay", form)
    assert refused.status_code == 403
    assert "reviewer role" in refused.content.decode()
    no_reason = post_action(
        rita, request, "notice_delay", {**form, f"delay-{notice.pk}-reason": ""}
    )
    assert no_reason.status_code == 422
    assert f'value="{until.isoformat()}"' in no_reason.content.decode()  # kept as typed
    past = post_action(
        rita, request, "notice_delay", {**form, f"delay-{notice.pk}-until": "2020-01-01"}
    )
    assert past.status_code == 422
    assert "must lie in the future" in past.content.decode()
    assert "covert for three weeks" in past.content.decode()  # the reason, kept as typed
    notice.refresh_from_db()
    assert notice.status == "DUE" and notice.events.count() == 1

    assert post_action(rita, request, "notice_delay", form).status_code == 302
    notice.refresh_from_db()
    assert (notice.status, notice.delay_reason) == ("DELAYED", "AGENCY_REQUEST")
    assert notice.delayed_until == end_of(until)  # the end of that day in Rita's zone (UTC)
    page = case_page(rita, request)
    assert "Asked by the agency, accepted by a reviewer" in page
    assert "covert for three weeks" in page  # in the notice's history
    assert 'data-testid="notice-end-form"' in page

    end = {"notice": notice.pk, f"end-{notice.pk}-reason": "The arrest was made"}
    assert post_action(aud, request, "notice_delay_end", end).status_code == 403
    blank = post_action(rita, request, "notice_delay_end", {"notice": notice.pk})
    assert blank.status_code == 422
    notice.refresh_from_db()
    assert notice.status == "DELAYED"
    assert post_action(rita, request, "notice_delay_end", end).status_code == 302
    notice.refresh_from_db()
    assert notice.status == "DUE"
    assert list(notice.events.values_list("to_status", flat=True)) == ["DUE", "DELAYED", "DUE"]
    # A notice of another request is not found here.
    other = submit(chan, agency_case_number="OTHER-1")
    assert post_action(rita, other, "notice_delay", form).status_code == 404


def test_a_gag_delay_is_not_ended_by_hand_and_a_refusal_needs_a_note(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    request = gagged_production(chan, staff, django_capture_on_commit_callbacks)
    notice = UserNotice.objects.filter(request=request).first()
    extension = upload_order(request)
    rita = signed_in(staff, "rita")
    ended = post_action(
        rita,
        request,
        "notice_delay_end",
        {"notice": notice.pk, f"end-{notice.pk}-reason": "The agency said it is fine"},
    )
    assert ended.status_code == 409
    notice.refresh_from_db()
    assert notice.status == "DELAYED"

    decision = {"extension": extension.pk}
    assert post_action(rita, request, "gag_extension_refuse", decision).status_code == 422
    alex = signed_in(staff, "alex")
    assert post_action(alex, request, "gag_extension_accept", decision).status_code == 403
    extension.refresh_from_db()
    assert extension.status == "PENDING"
    refused = post_action(
        rita,
        request,
        "gag_extension_refuse",
        {**decision, f"gag-{extension.pk}-note": "Signed by a clerk, not a judge"},
    )
    assert refused.status_code == 302
    extension.refresh_from_db()
    assert (extension.status, extension.note) == ("REFUSED", "Signed by a clerk, not a judge")
    assert post_action(rita, request, "gag_extension_accept", decision).status_code == 409
    page = case_page(rita, request)
    assert "Refused" in page and "Signed by a clerk, not a judge" in page
    assert 'data-testid="gag-extension-form"' not in page


# --- staff API ----------------------------------------------------------------------------------


def test_the_staff_api_lists_notices_and_acts_on_them_within_the_roles(
    chan, chan_token, staff, platform, settings, django_capture_on_commit_callbacks
):
    notice, *_ = due_notices(chan, staff, django_capture_on_commit_callbacks, settings)
    client = Client()
    rita, aud = staff_api(client, staff.tokens["rita"]), staff_api(client, staff.tokens["aud"])
    url = f"/api/v1/staff/requests/{notice.request.public_id}/notices"
    listed = client.get(url, headers=aud)
    assert listed.status_code == 200, listed.content
    body = listed.json()
    assert body["request"] == notice.request.reference and body["gag_order"] is None
    first = next(n for n in body["notices"] if n["id"] == notice.pk)
    assert (first["status"], first["status_label"], first["delay_reason"]) == ("DUE", "Due", None)
    assert [e["to_status"] for e in first["history"]] == ["DUE"]
    assert body["gag_extensions"] == []
    assert client.get(url, headers=staff_api(client, "grq_nope")).status_code == 401
    missing = client.get(f"/api/v1/staff/requests/{LegalRequest().public_id}/notices", headers=aud)
    assert (missing.status_code, missing.json()["code"]) == (404, "request_not_found")

    delay = f"/api/v1/staff/notices/{notice.pk}/delay"
    until = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    payload = {"reason": "Covert phase of the investigation", "until": until.isoformat()}
    as_auditor = client.post(delay, payload, content_type="application/json", headers=aud)
    assert (as_auditor.status_code, as_auditor.json()["code"]) == (403, "role_required")
    past = client.post(
        delay,
        {**payload, "until": "2020-01-01T00:00:00Z"},
        content_type="application/json",
        headers=rita,
    )
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "until"
    naive = client.post(
        delay, {**payload, "until": "2030-01-01T00:00:00"}, content_type="application/json",
        headers=rita,
    )  # fmt: skip
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "until"
    done = client.post(delay, payload, content_type="application/json", headers=rita)
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "DELAYED"
    assert done.json()["delay_reason_label"] == "Asked by the agency, accepted by a reviewer"
    assert datetime.fromisoformat(done.json()["delayed_until"]) == until
    assert [e["to_status"] for e in done.json()["history"]] == ["DUE", "DELAYED"]
    again = client.post(delay, payload, content_type="application/json", headers=rita)
    assert (again.status_code, again.json()["code"]) == (409, "notice_not_due")
    unknown = client.post(
        "/api/v1/staff/notices/999999/delay", payload, content_type="application/json",
        headers=rita,
    )  # fmt: skip
    assert (unknown.status_code, unknown.json()["code"]) == (404, "notice_not_found")

    end = f"/api/v1/staff/notices/{notice.pk}/end-delay"
    reason = {"reason": "The arrest was made"}
    as_auditor = client.post(end, reason, content_type="application/json", headers=aud)
    assert (as_auditor.status_code, as_auditor.json()["code"]) == (403, "role_required")
    ended = client.post(end, reason, content_type="application/json", headers=rita)
    assert ended.status_code == 200 and ended.json()["status"] == "DUE"
    twice = client.post(end, reason, content_type="application/json", headers=rita)
    assert (twice.status_code, twice.json()["code"]) == (409, "notice_not_delayed")
    officer = client.post(
        end, reason, content_type="application/json", headers=staff_api(client, chan_token)
    )
    assert (officer.status_code, officer.json()["code"]) == (403, "staff_token_required")


def test_the_staff_api_decides_gag_extensions(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    request = gagged_production(chan, staff, django_capture_on_commit_callbacks)
    extension = upload_order(request)
    client = Client()
    rita, aud = staff_api(client, staff.tokens["rita"]), staff_api(client, staff.tokens["aud"])
    listed = client.get(f"/api/v1/staff/requests/{request.public_id}/notices", headers=rita).json()
    assert listed["gag_order"]["expires_on"] == request.gag_expires_on.isoformat()
    assert {n["delay_reason_label"] for n in listed["notices"]} == {"Non-disclosure order in force"}
    [filed] = listed["gag_extensions"]
    assert (filed["id"], filed["status"]) == (extension.pk, "PENDING")
    assert filed["document"]["original_name"] == "new-order.pdf"
    gag = f"/api/v1/staff/notices/{listed['notices'][0]['id']}/end-delay"
    refused = client.post(gag, {"reason": "x"}, content_type="application/json", headers=rita)
    assert (refused.status_code, refused.json()["code"]) == (409, "notice_not_delayed")

    url = f"/api/v1/staff/gag-extensions/{extension.pk}/decision"
    as_auditor = client.post(url, {"accept": True}, content_type="application/json", headers=aud)
    assert (as_auditor.status_code, as_auditor.json()["code"]) == (403, "role_required")
    no_note = client.post(url, {"accept": False}, content_type="application/json", headers=rita)
    assert no_note.status_code == 422 and no_note.json()["errors"][0]["field"] == "note"
    accepted = client.post(
        url, {"accept": True, "note": "A judge signed it"}, content_type="application/json",
        headers=rita,
    )  # fmt: skip
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "ACCEPTED"
    assert accepted.json()["decided_by"] == "rita@platform.example"
    request.refresh_from_db()
    assert request.gag_expires_on == extension.new_expires_on
    assert {n.delayed_until for n in UserNotice.objects.filter(request=request)} == {
        end_of(extension.new_expires_on)
    }
    again = client.post(url, {"accept": True}, content_type="application/json", headers=rita)
    assert (again.status_code, again.json()["code"]) == (409, "already_decided")
    missing = client.post(
        "/api/v1/staff/gag-extensions/999999/decision", {"accept": True},
        content_type="application/json", headers=rita,
    )  # fmt: skip
    assert missing.status_code == 404


# --- officers' API ------------------------------------------------------------------------------


def file_over_api(client: Client, token: str, request: LegalRequest, **fields: Any) -> Any:
    body = {
        "file": SimpleUploadedFile(
            "renewed.pdf", tiny_pdf([fields.pop("text", "Renewed order")]), "application/pdf"
        ),
        "new_expires_on": (request.gag_expires_on or date.today()) + timedelta(days=90),
        "legal_basis": "Renewed under s.12",
        **fields,
    }
    return client.post(
        f"/api/v1/requests/{request.public_id}/gag-extensions",
        body,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_an_officer_files_a_new_order_over_the_api_and_mistakes_write_nothing(
    chan, chan_token, rivera_token, staff, platform, django_capture_on_commit_callbacks
):
    request = gagged_production(chan, staff, django_capture_on_commit_callbacks)
    client = Client()
    documents = Document.objects.count()

    other = file_over_api(client, rivera_token, request)
    assert (other.status_code, other.json()["code"]) == (404, "request_not_found")
    bad_date = file_over_api(client, chan_token, request, new_expires_on="31/12/2027")
    assert bad_date.status_code == 422
    assert [e["field"] for e in bad_date.json()["errors"]] == ["new_expires_on"]
    not_later = file_over_api(client, chan_token, request, new_expires_on=request.gag_expires_on)
    assert not_later.status_code == 422
    assert not_later.json()["errors"][0]["field"] == "new_expires_on"
    not_a_document = file_over_api(
        client,
        chan_token,
        request,
        file=SimpleUploadedFile("x.exe", b"MZ\x90\x00binary", "application/octet-stream"),
    )
    assert not_a_document.status_code == 422
    as_staff = file_over_api(client, staff.tokens["rita"], request)
    assert (as_staff.status_code, as_staff.json()["code"]) == (403, "officer_token_required")
    assert not GagExtension.objects.exists() and Document.objects.count() == documents

    filed = file_over_api(client, chan_token, request)
    assert filed.status_code == 201, filed.content
    body = filed.json()
    assert body["status"] == "PENDING" and body["legal_basis"] == "Renewed under s.12"
    assert body["new_expires_on"] == (request.gag_expires_on + timedelta(days=90)).isoformat()
    assert body["document"]["original_name"] == "renewed.pdf" and "note" not in body
    detail = client.get(
        f"/api/v1/requests/{request.public_id}", headers={"Authorization": f"Bearer {chan_token}"}
    ).json()
    assert [e["status"] for e in detail["gag_extensions"]] == ["PENDING"]

    # After the order ended, a new one no longer extends it.
    LegalRequest.objects.filter(pk=request.pk).update(
        gag_expires_on=timezone.now().date() - timedelta(days=1)
    )
    request.refresh_from_db()
    late = file_over_api(client, chan_token, request, text="Too late")
    assert (late.status_code, late.json()["code"]) == (409, "gag_ended")
    ungagged = submit(chan, agency_case_number="NO-GAG-1")
    none = file_over_api(client, chan_token, ungagged)
    assert (none.status_code, none.json()["code"]) == (409, "no_gag_order")
    assert GagExtension.objects.count() == 1
    assert Document.objects.filter(request=request).count() == documents + 1


# --- portal -------------------------------------------------------------------------------------


def test_the_portal_files_a_new_order_and_a_reviewer_accepts_it_in_the_console(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    request = gagged_production(chan, staff, django_capture_on_commit_callbacks)
    portal = OnCommitClient()
    sign_in(portal, chan)
    detail = f"/portal/requests/{request.public_id}"
    page = portal.get(detail).content.decode()
    assert "File a new non-disclosure order to extend it" in page
    assert 'data-testid="notice"' not in page and "Non-disclosure order in force" not in page
    new_expiry = request.gag_expires_on + timedelta(days=120)
    documents = Document.objects.count()

    def file(**fields: Any) -> Any:
        return portal.post(
            f"{detail}/gag-extensions",
            {
                "document": SimpleUploadedFile("renewed.pdf", tiny_pdf(["Renewed order"])),
                "new_expires_on": new_expiry.isoformat(),
                "legal_basis": "Renewed under s.12",
                **fields,
            },
        )

    not_later = file(new_expires_on=request.gag_expires_on.isoformat())
    assert not_later.status_code == 400
    assert "must be after the current expiry" in not_later.content.decode()
    assert "Renewed under s.12" in not_later.content.decode()  # kept as typed
    no_document = portal.post(
        f"{detail}/gag-extensions", {"new_expires_on": new_expiry.isoformat()}
    )
    assert no_document.status_code == 400
    assert not GagExtension.objects.exists() and Document.objects.count() == documents

    assert file().status_code == 302
    page = portal.get(detail).content.decode()
    assert "The new order was filed" in page
    assert "Waiting for the platform&#x27;s review" in page
    zh = OnCommitClient(HTTP_ACCEPT_LANGUAGE="zh-Hant")
    zh.cookies = portal.cookies
    chinese = zh.get(detail).content.decode()
    assert "提交新的不披露令以延長" in chinese and "等待平台審核" in chinese

    # The reviewer accepts it in the console: the notices wait until the new order ends.
    extension = GagExtension.objects.get()
    rita = signed_in(staff, "rita")
    accepted = post_action(rita, request, "gag_extension_accept", {"extension": extension.pk})
    assert accepted.status_code == 302
    assert {n.delayed_until for n in UserNotice.objects.filter(request=request)} == {
        end_of(new_expiry)
    }
    assert NoticeEvent.objects.filter(notice__request=request).count() == 3  # no status moved
    assert "Accepted" in portal.get(detail).content.decode()


def test_the_portal_offers_no_extension_without_a_gag_and_refuses_after_it_ended(
    chan, rivera, staff, platform, django_capture_on_commit_callbacks
):
    portal = OnCommitClient()
    sign_in(portal, chan)
    ungagged = submit(chan, agency_case_number="NO-GAG-2")
    page = portal.get(f"/portal/requests/{ungagged.public_id}").content.decode()
    assert 'data-testid="gag-extension-form"' not in page
    request = gagged_production(chan, staff, django_capture_on_commit_callbacks, days=3)
    LegalRequest.objects.filter(pk=request.pk).update(
        gag_expires_on=timezone.now().date() - timedelta(days=1)
    )
    late = portal.post(
        f"/portal/requests/{request.public_id}/gag-extensions",
        {
            "document": SimpleUploadedFile("late.pdf", tiny_pdf(["Late order"])),
            "new_expires_on": (timezone.now().date() + timedelta(days=90)).isoformat(),
        },
    )
    assert late.status_code == 409
    assert "can no longer be extended" in late.content.decode()
    assert not GagExtension.objects.exists()
    # Another agency's request is not found.
    other = OnCommitClient()
    sign_in(other, rivera)
    assert (
        other.post(
            f"/portal/requests/{request.public_id}/gag-extensions",
            {
                "document": SimpleUploadedFile("x.pdf", tiny_pdf(["x"])),
                "new_expires_on": "2099-01-01",
            },
        ).status_code
        == 404
    )


def test_a_new_order_can_be_filed_after_the_request_closed_the_gag_outlives_it(
    chan, chan_token, staff, platform, django_capture_on_commit_callbacks
):
    request = gagged_production(chan, staff, django_capture_on_commit_callbacks)
    production = disclosing.production_release(
        actor=staff.actor("rita"),
        production=Production.objects.get(request=request),
        now=timezone.now(),
    )
    download = disclosing.package_download(
        actor=Actor.for_officer(chan),
        production=production,
        channel="API",
        client_address="192.0.2.10",
        user_agent="test",
        now=timezone.now(),
    )
    b"".join(download.chunks)  # the delivery receipt
    reviewing.request_close(
        actor=staff.actor("rita"), request=request, reason="Delivered", now=timezone.now()
    )
    request.refresh_from_db()
    assert request.status == "CLOSED"
    assert {n.status for n in UserNotice.objects.filter(request=request)} == {"DELAYED"}
    filed = file_over_api(Client(), chan_token, request)
    assert filed.status_code == 201, filed.content
    assert filed.json()["status"] == "PENDING"


def test_a_sent_notice_shows_when_and_in_which_language_it_was_sent(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    production = approved_and_collected(chan, staff, django_capture_on_commit_callbacks)
    notice = UserNotice.objects.filter(production=production).first()
    assert (notice.status, notice.language) == ("SENT", "zh-Hant")  # the holder's language
    panel = case_page(signed_in(staff, "rita"), production.request).split(
        'data-testid="user-notice"'
    )[1]
    assert f"{notice.sent_at:%Y-%m-%d %H:%M} UTC" in panel and "Traditional Chinese" in panel
    assert 'data-testid="notice-delay-form"' not in panel  # a sent notice is not delayed


def test_a_delay_typed_in_the_console_ends_with_that_day_in_the_reviewers_zone(
    chan, staff, platform, settings, django_capture_on_commit_callbacks
):
    notice, *_ = due_notices(chan, staff, django_capture_on_commit_callbacks, settings)
    staff.users["rita"].time_zone = "Asia/Hong_Kong"
    staff.users["rita"].save()
    rita = signed_in(staff, "rita")
    until = timezone.now().date() + timedelta(days=20)
    form = {
        "notice": notice.pk,
        f"delay-{notice.pk}-reason": "Covert for three weeks",
        f"delay-{notice.pk}-until": until.isoformat(),
    }
    assert post_action(rita, notice.request, "notice_delay", form).status_code == 302
    notice.refresh_from_db()
    # Midnight after that day in Hong Kong is 16:00 UTC on the day itself.
    assert notice.delayed_until == end_of(until) - timedelta(hours=8)
    far = post_action(
        rita, notice.request, "notice_delay", {**form, f"delay-{notice.pk}-until": "9999-12-31"}
    )
    assert far.status_code in (409, 422)  # refused, never a 500
