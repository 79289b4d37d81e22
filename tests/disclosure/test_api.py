"""Disclosure over the API: the agency sees the outcome and downloads its package; staff
collect, inspect and release; another agency sees nothing."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.disclosure.models import PackageDownload, Production
from govreq.lifecycle import disclosing, reviewing
from tests.review_helpers import approve, collect, make_staff, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return make_staff()


def released(chan, staff):
    request = approve(submit(chan), staff)
    production = disclosing.production_release(
        actor=staff.actor("rita"), production=collect(request), now=timezone.now()
    )
    return request, production


def test_the_agency_lists_its_productions_and_downloads_the_package(
    api_as, chan, chan_token, staff, platform
):
    request, production = released(chan, staff)
    officer = api_as(chan_token)
    listed = officer.get(f"/requests/{request.public_id}/productions")
    assert listed.status_code == 200, listed.content
    [entry] = listed.json()
    assert entry["id"] == str(production.public_id)
    assert entry["status"] == "RELEASED" and entry["delivered_at"] is None
    assert entry["files"] and all(len(f["sha256"]) == 64 for f in entry["files"])
    response = officer.client.get(entry["package_url"], headers=officer.headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert "manifest.json" in archive.namelist()
    detail = officer.get(f"/requests/{request.public_id}").json()
    assert detail["status"] == "DELIVERED"
    assert detail["decision"]["outcome"] == "FULL"
    assert detail["productions"][0]["delivered_at"] is not None
    assert PackageDownload.objects.get().channel == "API"


def test_another_agency_gets_404_for_the_productions_and_the_package(
    api_as, chan, rivera_token, staff, platform
):
    request, production = released(chan, staff)
    other = api_as(rivera_token)
    assert other.get(f"/requests/{request.public_id}/productions").status_code == 404
    url = f"/requests/{request.public_id}/productions/{production.public_id}/package"
    response = other.get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "request_not_found"
    assert not PackageDownload.objects.exists()


def test_an_expired_package_answers_410_and_its_bytes_are_gone(
    api_as, chan, chan_token, staff, platform, settings
):
    request, production = released(chan, staff)
    disclosing.productions_purge_expired(
        actor=Actor.system("test"), now=production.expires_at + timedelta(seconds=1)
    )
    assert not [p for p in settings.PACKAGES_DIR.rglob("*") if p.is_file()]
    officer = api_as(chan_token)
    url = f"/requests/{request.public_id}/productions/{production.public_id}/package"
    response = officer.get(url)
    assert response.status_code == 410
    assert response.json()["code"] == "package_expired"
    listed = officer.get(f"/requests/{request.public_id}/productions").json()
    assert listed[0]["package_url"] is None and listed[0]["status"] == "PURGED"
    assert listed[0]["files"]  # the manifest stays


def test_the_agency_is_told_the_decision_only_once_it_is_approved(
    api_as, chan, chan_token, staff, platform
):
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="PARTIAL",
        rationale="Internal: only the username is tied to the fraud.",
        approved_target_ids=[request.targets.order_by("pk").first().pk],
        approved_categories=["BASIC_SUBSCRIBER"],
        letter="We will produce subscriber information for one account.",
        now=timezone.now(),
    )
    officer = api_as(chan_token)
    assert officer.get(f"/requests/{request.public_id}").json()["decision"] is None
    for name in ("alex", "ana"):
        reviewing.approval_give(actor=staff.actor(name), request=request, now=timezone.now())
    told = officer.get(f"/requests/{request.public_id}").json()["decision"]
    assert told["outcome"] == "PARTIAL"
    assert told["letter"] == "We will produce subscriber information for one account."
    assert told["produced_targets"] == [{"type": "USERNAME", "value": "scammer_hk"}]
    assert {"type": "EMAIL", "value": "victim.finder@example.com"} in told["not_produced_targets"]
    assert told["produced_categories"] == ["BASIC_SUBSCRIBER"]
    assert told["not_produced_categories"] == ["IP_LOGS"]
    assert "rationale" not in told and "Internal" not in str(told)


def test_the_agency_sees_public_rejection_reasons(api_as, chan, chan_token, staff):
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="REJECTED",
        rationale="Internal note",
        rejection_reasons=["OVERBROAD"],
        now=timezone.now(),
    )
    told = api_as(chan_token).get(f"/requests/{request.public_id}").json()["decision"]
    assert told["outcome"] == "REJECTED"
    assert (
        told["rejection_reasons"]
        == [{"code": "OVERBROAD", "label": "Overbroad: narrow the accounts, dates or data"}]
        or told["rejection_reasons"][0]["code"] == "OVERBROAD"
    )


def test_staff_inspect_and_release_over_the_api(api_as, chan, staff, platform):
    request = approve(submit(chan), staff)
    production = collect(request)
    rita = api_as(staff.tokens["rita"])
    listed = rita.get(f"/staff/requests/{request.public_id}/productions").json()
    assert listed[0]["status"] == "READY" and listed[0]["scope_violations"] == []
    detail = rita.get(f"/staff/productions/{production.public_id}").json()
    assert detail["manifest"]["decision"]["id"] == production.decision_id
    assert detail["manifest_signature"]
    case = rita.get(f"/staff/requests/{request.public_id}").json()
    assert case["productions"][0]["id"] == str(production.public_id)
    for name in ("ivy", "alex", "hana", "pat", "aud"):
        refused = api_as(staff.tokens[name]).post(
            f"/staff/productions/{production.public_id}/release"
        )
        assert refused.status_code == 403, name
    response = rita.post(f"/staff/productions/{production.public_id}/release")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "RELEASED"
    again = rita.post(f"/staff/productions/{production.public_id}/release")
    assert again.status_code == 409 and again.json()["code"] == "production_not_ready"


def test_a_delivery_by_other_means_over_the_api(chan, staff):
    request = approve(submit(chan), staff)
    client = Client()
    response = client.post(
        f"/api/v1/staff/requests/{request.public_id}/deliveries",
        {
            "reason": "Handed over at the court's order",
            "evidence": SimpleUploadedFile("receipt.txt", b"signed receipt\n", "text/plain"),
        },
        headers={"Authorization": f"Bearer {staff.tokens['rita']}"},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"reference": request.reference, "status": "CLOSED"}
    assert not Production.objects.filter(request=request, released_at__isnull=False).exists()


def test_an_unreadable_multipart_body_is_a_json_400_naming_the_body(chan, staff):
    """Found by the API fuzz test: a part whose headers exceed Django's limit made Django's own
    HTML 400 page, outside the API's documented error shape."""
    request = approve(submit(chan), staff)
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="reason"\r\nX-Long: {"x" * 20_000}\r\n\r\n'
        f"why\r\n--{boundary}--\r\n"
    ).encode()
    response = Client().post(
        f"/api/v1/staff/requests/{request.public_id}/deliveries",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {staff.tokens['rita']}"},
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"] == [{"field": "body", "message": response.json()["message"]}]
    request.refresh_from_db()
    assert request.status == "APPROVED"  # nothing half written
