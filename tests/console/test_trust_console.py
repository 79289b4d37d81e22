"""The call-back and the confidence record in the console (issue 11)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from govreq.agencies.models import AgencyContact
from govreq.lifecycle import reviewing
from tests.console.test_console import signed_in, staff  # noqa: F401 - the fixture
from tests.review_helpers import EMERGENCY, submit

pytestmark = pytest.mark.django_db


def test_an_emergency_is_called_back_from_the_case_page_then_approved(staff, chan):  # noqa: F811
    request = submit(chan, document=False, **EMERGENCY)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="Danger to life",
        now=timezone.now(),
    )
    alex = signed_in(staff, "alex")
    case_url = f"/console/requests/{request.public_id}"
    page = alex.get(case_url).content.decode()
    assert "Is this really the agency?" in page and "Agency confidence" in page
    refused = alex.post(case_url + "/approve", {})
    assert refused.status_code == 409 and "call the agency back" in refused.content.decode()
    # Intake records the switchboard from the government directory on the agency's page.
    ivy = signed_in(staff, "ivy")
    added = ivy.post(
        f"/console/agencies/{request.agency_id}/contacts",
        {"kind": "SWITCHBOARD", "phone": "+852 5550 0001", "directory": "HK Government Directory"},
    )
    assert added.status_code == 302
    contact = AgencyContact.objects.get()
    assert "+85255500001" in ivy.get(f"/console/agencies/{request.agency_id}").content.decode()
    rita = signed_in(staff, "rita")
    form = {
        "contact": str(contact.pk),
        "called_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "outcome": "CONFIRMED",
        "person_reached": "",
    }
    missing = rita.post(case_url + "/call_back", form)
    assert missing.status_code == 422 and "who at the agency confirmed" in missing.content.decode()
    done = rita.post(case_url + "/call_back", {**form, "person_reached": "Inspector Lam"})
    assert done.status_code == 302
    page = rita.get(case_url).content.decode()
    assert "Confirmed: the agency sent this request" in page and "Inspector Lam" in page
    assert alex.post(case_url + "/approve", {}).status_code == 302
    queue = rita.get("/console/?order=confidence").content.decode()
    assert request.reference in queue
