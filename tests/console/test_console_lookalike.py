"""Console access requests: a look-alike address is shown with the agency it imitates, and
granting it needs a reason; the new agency's domain is never pre-filled from the request."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from govreq.agencies.models import AccessRequest, Officer
from govreq.agencies.services import access_request_submit
from tests.console.test_console import signed_in, staff  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_lookalike_access_request_is_shown_and_needs_an_override(staff, hkpf):  # noqa: F811
    access = access_request_submit(
        name="Wong",
        email="wong@po1ice.gov.hk",
        agency_name="HK Police Cyber Unit",
        jurisdiction_code="HK",
        agency_kind="POLICE",
        now=timezone.now(),
    )
    ivy = signed_in(staff, "ivy")
    page = ivy.get("/console/access-requests").content.decode()
    assert 'data-testid="lookalike-warning"' in page
    assert "Imitates Hong Kong Police Force (police.gov.hk)" in page
    assert "&#x27;1&#x27; in place of &#x27;l&#x27;" in page
    assert 'value="po1ice.gov.hk"' not in page  # not pre-filled
    prefix = f"a{access.pk}"
    grant = {
        "access": access.pk,
        "approve": "1",
        f"{prefix}-agency": "",
        f"{prefix}-new_agency_domain": "po1ice.gov.hk",
        f"{prefix}-new_agency_kind": "POLICE",
        f"{prefix}-method": "Called the number listed in the government directory",
    }
    refused = ivy.post("/console/access-requests", grant)
    assert refused.status_code == 200
    shown = [str(message) for message in get_messages(refused.wsgi_request)]
    assert any("Hong Kong Police Force" in message for message in shown), shown
    assert AccessRequest.objects.get().status == "PENDING"

    granted = ivy.post(
        "/console/access-requests",
        {**grant, f"{prefix}-lookalike_override": "The unit's domain, confirmed by HKPF"},
    )
    assert granted.status_code == 302
    access.refresh_from_db()
    assert access.status == "APPROVED"
    assert access.lookalike_override_reason == "The unit's domain, confirmed by HKPF"
    assert Officer.objects.filter(email="wong@po1ice.gov.hk").exists()


def test_clean_access_request_has_no_warning_and_no_prefilled_domain(staff):  # noqa: F811
    access_request_submit(
        name="Lee",
        email="lee@newpolice.gov.example",
        agency_name="New Police",
        jurisdiction_code="SG",
        agency_kind="POLICE",
        now=timezone.now(),
    )
    page = signed_in(staff, "ivy").get("/console/access-requests").content.decode()
    assert "New Police" in page
    assert "lookalike-warning" not in page
    assert 'value="newpolice.gov.example"' not in page
