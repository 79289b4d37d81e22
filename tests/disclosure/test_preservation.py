"""Preservation is not disclosure: PRESERVE or REJECTED only, a sealed snapshot that is never
released, and a follow-up request that names the preservation is produced from the snapshot."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import TestCase
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.core.errors import Conflict, ValidationFailed
from govreq.disclosure.models import Production
from govreq.lifecycle import disclosing, reviewing
from govreq.worker.runner import Worker
from tests.review_helpers import approve, collect, make_staff, submit

pytestmark = pytest.mark.django_db

PRESERVATION = {
    "kind": "PRESERVATION",
    "legal_basis": "18 U.S.C. 2703(f)",
    "data_categories": ["BASIC_SUBSCRIBER", "IP_LOGS"],
    "targets": [{"type": "USERNAME", "value": "@scammer_hk"}],
}


@pytest.fixture
def staff(db):
    return make_staff()


def preserved(chan, staff):
    request = submit(chan, document=False, **PRESERVATION)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="PRESERVE",
        rationale="Valid preservation request.",
        now=timezone.now(),
    )
    request.refresh_from_db()
    assert request.status == "DECIDED"
    snapshot = collect(request)
    request.refresh_from_db()
    return request, snapshot


@pytest.mark.parametrize("outcome", ["FULL", "PARTIAL", "NO_DATA"])
def test_a_preservation_request_is_never_disclosed(chan, staff, outcome):
    request = submit(chan, document=False, **PRESERVATION)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    with pytest.raises(ValidationFailed) as refused:
        reviewing.decision_make(
            actor=staff.actor("rita"),
            request=request,
            outcome=outcome,
            rationale="r",
            approved_target_ids=[request.targets.get().pk] if outcome == "PARTIAL" else None,
            approved_categories=["BASIC_SUBSCRIBER"] if outcome == "PARTIAL" else None,
            now=timezone.now(),
        )
    assert any(
        e.field == "outcome" and "PRESERVE or REJECTED" in e.message for e in refused.value.errors
    )


def test_only_preservation_requests_are_preserved(chan, staff):
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    with pytest.raises(ValidationFailed, match="only for preservation"):
        reviewing.decision_make(
            actor=staff.actor("rita"),
            request=request,
            outcome="PRESERVE",
            rationale="r",
            now=timezone.now(),
        )


def test_preserving_seals_a_snapshot_that_is_never_released(chan, staff, platform):
    request, snapshot = preserved(chan, staff)
    assert request.status == "PRESERVED"
    assert snapshot.purpose == "PRESERVATION" and snapshot.status == "READY"
    assert snapshot.record_count > 0
    with pytest.raises(Conflict) as refused:
        disclosing.production_release(
            actor=staff.actor("rita"), production=snapshot, now=timezone.now()
        )
    assert refused.value.code == "preservation_not_released"
    assert not Production.objects.filter(released_at__isnull=False).exists()


def test_a_follow_up_is_produced_from_the_snapshot_not_live_data(chan, staff, platform):
    preservation, _ = preserved(chan, staff)
    # The account's live records disappear after the preservation (deleted by its holder).
    connection = sqlite3.connect(platform)
    connection.execute("DELETE FROM logins")
    connection.commit()
    connection.close()
    follow_up = submit(
        chan,
        kind="SEARCH_WARRANT",
        data_categories=["BASIC_SUBSCRIBER", "IP_LOGS"],
        targets=[{"type": "USERNAME", "value": "@scammer_hk"}],
        preservation_reference=preservation.reference.lower(),
    )
    assert follow_up.preservation_id == preservation.pk
    production = collect(approve(follow_up, staff))
    assert production.status == "READY", production.error
    assert production.source == f"snapshot:{preservation.reference}"
    logs = [f for f in production.manifest["files"] if f["category"] == "IP_LOGS"]
    assert logs and logs[0]["records"] > 0  # preserved, though gone from the live platform


def test_a_follow_up_must_name_a_preserved_request_of_the_agency(chan, rivera, staff, platform):
    preservation, _ = preserved(chan, staff)
    for reference, officer in (("GR-1999-000001", chan), (preservation.reference, rivera)):
        with pytest.raises(ValidationFailed) as refused:
            submit(officer, kind="SEARCH_WARRANT", preservation_reference=reference)
        assert refused.value.errors[0].field == "preservation_reference"


def test_a_preservation_lasts_90_days_extends_once_and_is_purged_after_180(
    api_as, chan, chan_token, staff, platform, settings
):
    request, snapshot = preserved(chan, staff)
    assert snapshot.expires_at - snapshot.collected_at == timedelta(days=90)
    officer = api_as(chan_token)
    extended = officer.post(f"/requests/{request.public_id}/extend")
    assert extended.status_code == 200, extended.content
    snapshot.refresh_from_db()
    assert snapshot.expires_at - snapshot.collected_at == timedelta(days=180)
    again = officer.post(f"/requests/{request.public_id}/extend")
    assert again.status_code == 409 and again.json()["code"] == "already_extended"
    # 179 days on: still there; 180 days on, the worker's sweep purges it.
    assert Worker().run_once(at=snapshot.collected_at + timedelta(days=179))["preservations"]
    snapshot.refresh_from_db()
    assert snapshot.status == "READY"
    outcome = Worker().run_once(at=snapshot.collected_at + timedelta(days=180, minutes=1))
    assert outcome["preservations"].startswith("1 preservation(s) expired")
    snapshot.refresh_from_db()
    request.refresh_from_db()
    assert snapshot.status == "PURGED" and snapshot.manifest  # the manifest stays
    assert request.status == "CLOSED"
    assert not (Path(settings.PACKAGES_DIR) / str(snapshot.public_id)).exists()


def test_an_expired_preservation_cannot_be_extended(api_as, chan, chan_token, staff, platform):
    request, snapshot = preserved(chan, staff)
    Production.objects.filter(pk=snapshot.pk).update(expires_at=timezone.now())
    refused = api_as(chan_token).post(f"/requests/{request.public_id}/extend")
    assert refused.status_code == 409 and refused.json()["code"] == "preservation_expired"


def test_an_open_follow_up_keeps_the_preservation(chan, staff, platform):
    preservation, snapshot = preserved(chan, staff)
    follow_up = submit(chan, kind="SEARCH_WARRANT", preservation_reference=preservation.reference)
    later = snapshot.expires_at + timedelta(minutes=1)
    swept = disclosing.preservations_sweep(actor=Actor.system("test"), now=later)
    assert swept.kept == [preservation.reference] and swept.expired == []
    reviewing.request_start_review(actor=staff.actor("rita"), request=follow_up, now=later)
    reviewing.decision_make(
        actor=staff.actor("rita"), request=follow_up, outcome="NO_DATA", rationale="r", now=later
    )
    swept = disclosing.preservations_sweep(actor=Actor.system("test"), now=later)
    assert swept.expired == [preservation.reference]


def test_the_officer_is_reminded_once_14_days_before(chan, staff, platform, mailoutbox):
    preservation, snapshot = preserved(chan, staff)
    soon = snapshot.expires_at - timedelta(days=13)
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = disclosing.preservations_sweep(actor=Actor.system("test"), now=soon)
    with TestCase.captureOnCommitCallbacks(execute=True):
        again = disclosing.preservations_sweep(actor=Actor.system("test"), now=soon)
    assert first.reminded == [preservation.reference] and again.reminded == []
    reminders = [m for m in mailoutbox if "ends in 14 days" in m.body]
    assert len(reminders) == 1 and reminders[0].to == ["chan@police.gov.hk"]
