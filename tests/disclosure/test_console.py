"""Disclosure in the staff console: the production, its scope check and manifest on the case
page; release after confirming; a delivery by other means with its evidence."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.console.test_console import PASSWORD, signed_in
from tests.review_helpers import approve, collect, make_staff, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    staff = make_staff()
    for user in staff.users.values():
        user.set_password(PASSWORD)
        user.save()
    return staff


def test_the_case_page_shows_the_scope_check_and_manifest_and_releases(chan, staff, platform):
    request = approve(submit(chan), staff)
    production = collect(request)
    client = signed_in(staff, "rita")
    page = client.get(f"/console/requests/{request.public_id}").content.decode()
    assert 'data-testid="production"' in page
    assert 'data-testid="scope-ok"' in page
    assert "account-01/IP_LOGS.csv" in page and production.manifest_sha256 in page
    assert 'data-testid="release"' in page
    url = f"/console/requests/{request.public_id}/release"
    refused = client.post(url, {"production": str(production.public_id)})
    assert refused.status_code == 422  # not confirmed
    production.refresh_from_db()
    assert production.status == "READY"
    done = client.post(url, {"production": str(production.public_id), "confirm": "on"})
    assert done.status_code == 302
    production.refresh_from_db()
    request.refresh_from_db()
    assert production.status == "RELEASED" and request.status == "PRODUCED"


def test_an_approver_sees_no_release_button_and_cannot_release(chan, staff, platform):
    request = approve(submit(chan), staff)
    production = collect(request)
    client = signed_in(staff, "alex")
    page = client.get(f"/console/requests/{request.public_id}").content.decode()
    assert 'data-testid="release"' not in page
    response = client.post(
        f"/console/requests/{request.public_id}/release",
        {"production": str(production.public_id), "confirm": "on"},
    )
    assert response.status_code == 403
    production.refresh_from_db()
    assert production.status == "READY"


def test_an_out_of_scope_production_is_shown_refused(chan, staff, careless_source):
    request = approve(submit(chan), staff)
    collect(request)
    client = signed_in(staff, "rita")
    page = client.get(f"/console/requests/{request.public_id}").content.decode()
    assert 'data-testid="scope-refused"' in page
    assert "account 999999 is not an approved target" in page
    assert 'data-testid="release"' not in page


def test_a_delivery_by_other_means_from_the_console(chan, staff):
    request = approve(submit(chan), staff)
    client = signed_in(staff, "rita")
    response = client.post(
        f"/console/requests/{request.public_id}/deliver_other",
        {
            "reason": "Handed over at the court's order",
            "evidence": SimpleUploadedFile("receipt.txt", b"signed receipt\n", "text/plain"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    request.refresh_from_db()
    assert request.status == "CLOSED"
