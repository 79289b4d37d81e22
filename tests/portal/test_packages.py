"""The portal shows the outcome and the released package; the first download delivers it."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.disclosure.models import PackageDownload
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


def test_the_officer_sees_the_outcome_and_downloads_the_package(chan, chan_client, staff, platform):
    request, production = released(chan, staff)
    page = chan_client.get(f"/portal/requests/{request.public_id}").content.decode()
    assert 'data-testid="outcome"' in page and "Data disclosed in full" in page
    assert 'data-testid="download"' in page
    url = f"/portal/requests/{request.public_id}/productions/{production.public_id}/package"
    response = chan_client.get(url)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert "manifest.json" in archive.namelist()
    assert PackageDownload.objects.get().channel == "PORTAL"
    request.refresh_from_db()
    assert request.status == "DELIVERED"
    page = chan_client.get(f"/portal/requests/{request.public_id}").content.decode()
    assert "First downloaded on" in page


def test_a_partial_disclosure_says_what_was_not_produced(chan, chan_client, staff, platform):
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="PARTIAL",
        rationale="Only the username is tied to the offence.",
        approved_target_ids=[request.targets.order_by("pk").first().pk],
        approved_categories=["BASIC_SUBSCRIBER"],
        letter="We produce subscriber information for one account only.",
        now=timezone.now(),
    )
    for name in ("alex", "ana"):
        reviewing.approval_give(actor=staff.actor(name), request=request, now=timezone.now())
    page = chan_client.get(f"/portal/requests/{request.public_id}").content.decode()
    assert "Data disclosed in part" in page
    assert 'data-testid="not-produced"' in page and "victim.finder@example.com" in page
    assert "We produce subscriber information for one account only." in page
    assert "Only the username is tied" not in page  # the rationale is internal


def test_an_expired_package_is_gone(chan, chan_client, staff, platform):
    request, production = released(chan, staff)
    disclosing.productions_purge_expired(actor=Actor.system("test"), now=production.expires_at)
    url = f"/portal/requests/{request.public_id}/productions/{production.public_id}/package"
    response = chan_client.get(url)
    assert response.status_code == 410
    assert "The package has expired" in response.content.decode()
    page = chan_client.get(f"/portal/requests/{request.public_id}").content.decode()
    assert 'data-testid="expired"' in page and 'data-testid="download"' not in page


def test_another_agencys_officer_gets_404(chan, rivera, client_as, staff, platform):
    request, production = released(chan, staff)
    url = f"/portal/requests/{request.public_id}/productions/{production.public_id}/package"
    assert client_as(rivera).get(url).status_code == 404
    assert not PackageDownload.objects.exists()


def test_traditional_chinese(chan, chan_client, staff, platform):
    request, _ = released(chan, staff)
    page = chan_client.get(
        f"/portal/requests/{request.public_id}", HTTP_ACCEPT_LANGUAGE="zh-Hant"
    ).content.decode()
    assert "平台的答覆" in page and "下載資料包" in page and "可供下載" in page
