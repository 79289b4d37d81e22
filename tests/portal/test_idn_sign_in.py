"""An officer whose agency has an internationalised domain signs in with either spelling."""

from __future__ import annotations

import pytest
from django.utils import timezone

from govreq.agencies.services import officer_add
from govreq.portal.auth import SESSION_OFFICER
from tests.conftest import SYSTEM, OnCommitClient, make_agency
from tests.portal.conftest import code_from_mail

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed", ["kommissar@polizei-münchen.example", "Kommissar@xn--polizei-mnchen-osb.example"]
)
def test_either_spelling_of_the_domain_signs_the_same_officer_in(typed: str) -> None:
    agency = make_agency("Polizei München", "DE", "polizei-münchen.example")
    officer = officer_add(
        actor=SYSTEM,
        agency=agency,
        email="kommissar@polizei-münchen.example",
        name="K",
        now=timezone.now(),
    )
    assert officer.email == "kommissar@xn--polizei-mnchen-osb.example"
    client = OnCommitClient()
    assert client.post("/portal/sign-in", {"email": typed}).status_code == 302
    code = code_from_mail(officer.email)
    response = client.post("/portal/sign-in/code", {"email": typed, "code": code})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert client.session[SESSION_OFFICER] == officer.pk
