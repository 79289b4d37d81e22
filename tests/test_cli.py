"""The CLI: every command runs the same services as the API."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from govreq.accounts.models import ApiToken, RoleAssignment, User
from govreq.agencies.models import Agency, AgencyStatus, Officer
from govreq.audit.models import AuditEvent
from govreq.intake.models import LegalRequest
from tests.conftest import valid_submission

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_agency_add_list_verify():
    out = run(
        "agency",
        "add",
        "--name",
        "Hong Kong Police Force",
        "--jurisdiction",
        "hk",
        "--kind",
        "POLICE",
        "--domain",
        "police.gov.hk",
        "--domain",
        "@HKPF.gov.hk",
    )
    agency = Agency.objects.get()
    assert f"Added agency {agency.pk}" in out
    assert agency.status == AgencyStatus.PENDING
    assert sorted(agency.domains.values_list("domain", flat=True)) == [
        "hkpf.gov.hk",
        "police.gov.hk",
    ]
    assert "Hong Kong Police Force" in run("agency", "list")
    listed = json.loads(run("agency", "list", "--json"))
    assert listed[0]["status"] == "PENDING"
    run("agency", "verify", str(agency.pk), "--method", "call-back to directory number")
    agency.refresh_from_db()
    assert agency.status == AgencyStatus.VERIFIED
    assert agency.verification_method == "call-back to directory number"
    assert AuditEvent.objects.filter(action="agency.verified").count() == 1
    with pytest.raises(CommandError, match="already verified"):
        run("agency", "verify", str(agency.pk))


def test_agency_add_refuses_bad_input_and_writes_nothing():
    with pytest.raises(CommandError, match="jurisdiction"):
        run(
            "agency",
            "add",
            "--name",
            "X",
            "--jurisdiction",
            "ZZ",
            "--kind",
            "POLICE",
            "--domain",
            "x.example",
        )
    with pytest.raises(CommandError, match="domains"):
        run(
            "agency",
            "add",
            "--name",
            "X",
            "--jurisdiction",
            "HK",
            "--kind",
            "POLICE",
            "--domain",
            "not a domain",
        )
    assert Agency.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_agency_verify_unknown_id():
    with pytest.raises(CommandError, match="no agency with id 999") as error:
        run("agency", "verify", "999")
    assert error.value.returncode == 3


def test_officer_add_requires_an_official_domain(hkpf):
    with pytest.raises(CommandError, match=r"police\.gov\.hk"):
        run(
            "officer",
            "add",
            "--agency",
            str(hkpf.pk),
            "--email",
            "chan@gmail.com",
            "--name",
            "Chan",
        )
    with pytest.raises(CommandError, match=r"police\.gov\.hk"):
        run(
            "officer",
            "add",
            "--agency",
            str(hkpf.pk),
            "--email",
            "chan@cyber.police.gov.hk",
            "--name",
            "Chan",
        )
    run(
        "officer",
        "add",
        "--agency",
        str(hkpf.pk),
        "--email",
        "Chan@Police.gov.hk",
        "--name",
        "Chan",
        "--badge",
        "HKP-1",
    )
    assert Officer.objects.get().email == "chan@police.gov.hk"


def test_officer_subdomains_only_when_the_agency_allows_them(db):
    from tests.conftest import make_agency

    agency = make_agency("Met", "GB", "met.police.uk", allow_subdomains=True)
    run(
        "officer",
        "add",
        "--agency",
        str(agency.pk),
        "--email",
        "dc@cyber.met.police.uk",
        "--name",
        "DC",
    )
    assert Officer.objects.filter(email="dc@cyber.met.police.uk").exists()


def test_officer_token_prints_a_working_token_once(chan, client):
    token = run("officer", "token", "chan@police.gov.hk").strip()
    assert token.startswith("grq_")
    assert ApiToken.objects.filter(officer=chan).count() == 1
    response = client.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_request_submit_list_show(chan, tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(valid_submission()))
    out = run(
        "request",
        "submit",
        str(path),
        "--officer",
        "chan@police.gov.hk",
        "--received-at",
        "2026-01-05T09:30:00+08:00",
    )
    request = LegalRequest.objects.get()
    assert request.reference in out
    assert request.reference == "GR-2026-000001"
    assert request.channel == "STAFF"
    assert request.received_at.isoformat() == "2026-01-05T01:30:00+00:00"
    assert request.reference in run("request", "list", "--jurisdiction", "HK")
    assert request.reference not in run("request", "list", "--jurisdiction", "US")
    assert request.reference not in run("request", "list", "--status", "WITHDRAWN")
    shown = json.loads(run("request", "show", request.reference, "--json"))
    assert shown["reference"] == request.reference
    assert shown["id"] == str(request.public_id)
    assert shown["targets"][0]["value"] == "scammer_hk"
    assert (shown["checks"][0]["code"], shown["checks"][0]["outcome"]) == (
        "NO_LEGAL_DOCUMENT",
        "BLOCK",
    )
    assert "Targets:" in run("request", "show", request.reference)


def test_request_submit_refuses_bad_input(chan, tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(valid_submission(targets=[{"type": "EMAIL", "value": "nope"}])))
    with pytest.raises(CommandError, match=r"targets\[0\]\.value"):
        run("request", "submit", str(path), "--officer", "chan@police.gov.hk")
    path.write_text(json.dumps(valid_submission(kind="FISHING")))
    with pytest.raises(CommandError, match="kind"):
        run("request", "submit", str(path), "--officer", "chan@police.gov.hk")
    path.write_text("{nope")
    with pytest.raises(CommandError, match="not valid JSON"):
        run("request", "submit", str(path), "--officer", "chan@police.gov.hk")
    path.write_text(json.dumps(valid_submission()))
    with pytest.raises(CommandError, match="no officer"):
        run("request", "submit", str(path), "--officer", "ghost@police.gov.hk")
    assert LegalRequest.objects.count() == 0


def test_request_withdraw(chan, tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(valid_submission()))
    run("request", "submit", str(path), "--officer", "chan@police.gov.hk")
    request = LegalRequest.objects.get()
    run("request", "withdraw", request.reference, "--reason", "agency asked by phone")
    request.refresh_from_db()
    assert request.status == "WITHDRAWN"
    with pytest.raises(CommandError, match="cannot move"):
        run("request", "withdraw", request.reference, "--reason", "again")


def test_staff_add_and_token():
    run(
        "staff",
        "add",
        "--email",
        "Rita@Platform.example",
        "--name",
        "Rita",
        "--role",
        "REVIEWER",
        "--role",
        "APPROVER",
    )
    user = User.objects.get()
    assert user.email == "rita@platform.example"
    assert sorted(RoleAssignment.objects.values_list("role", flat=True)) == [
        "APPROVER",
        "REVIEWER",
    ]
    assert not user.has_usable_password()
    assert run("staff", "token", "rita@platform.example").startswith("grq_")


def test_demo_load_is_idempotent():
    run("demo", "load")
    counts = (Agency.objects.count(), LegalRequest.objects.count(), AuditEvent.objects.count())
    assert counts[1] >= 40
    assert Agency.objects.filter(name="Hong Kong Police Force").exists()
    assert Agency.objects.filter(name="Federal Bureau of Investigation").exists()
    assert Agency.objects.filter(name="Metropolitan Police Service").exists()
    kinds = set(LegalRequest.objects.values_list("kind", flat=True))
    assert kinds == {
        "SUBPOENA",
        "COURT_ORDER",
        "SEARCH_WARRANT",
        "EMERGENCY",
        "PRESERVATION",
        "MLAT",
        "OTHER",
    }
    years = {r.year for r in LegalRequest.objects.values_list("received_at", flat=True)}
    # 2019-2021, and this week's two disclosures whose packages can still be downloaded.
    assert years == {2019, 2020, 2021, timezone.now().year}
    assert "already loaded" in run("demo", "load")
    assert counts == (
        Agency.objects.count(),
        LegalRequest.objects.count(),
        AuditEvent.objects.count(),
    )
    run("audit", "verify")
