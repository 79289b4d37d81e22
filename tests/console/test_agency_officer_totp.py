"""The console's agency page switches the officers' authenticator requirement: intake staff and
policy admins only."""

from __future__ import annotations

import pytest

from govreq.agencies.models import Officer
from govreq.audit.models import AuditEvent
from tests.console.test_console import signed_in, staff  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_intake_requires_and_waives_it(staff, chan: Officer) -> None:  # noqa: F811
    agency = chan.agency
    client = signed_in(staff, "ivy")
    page = client.get(f"/console/agencies/{agency.pk}")
    assert 'data-testid="agency-officer-totp-toggle"' in page.content.decode()
    response = client.post(f"/console/agencies/{agency.pk}/officer-totp", {"required": "1"})
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.require_officer_totp
    assert (
        "required at every portal sign-in"
        in client.get(f"/console/agencies/{agency.pk}").content.decode()
    )
    client.post(f"/console/agencies/{agency.pk}/officer-totp", {"required": "0"})
    agency.refresh_from_db()
    assert not agency.require_officer_totp
    actions = list(
        AuditEvent.objects.filter(action__startswith="agency.officer_totp").values_list(
            "action", flat=True
        )
    )
    assert actions == ["agency.officer_totp_required", "agency.officer_totp_waived"]


def test_a_reviewer_may_not(staff, chan: Officer) -> None:  # noqa: F811
    client = signed_in(staff, "rita")
    response = client.post(f"/console/agencies/{chan.agency.pk}/officer-totp", {"required": "1"})
    assert response.status_code == 403
    chan.agency.refresh_from_db()
    assert not chan.agency.require_officer_totp
