"""Look-alike domains wherever a domain enters (access requests, agency add, added domains,
officers), the override that grants access anyway, and one identifier per internationalised
address (agencies, officers, targets)."""

from __future__ import annotations

from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from govreq.agencies.models import AccessRequest, AgencyDomain, AgencyStatus, Officer
from govreq.agencies.services import (
    access_request_approve,
    access_request_refuse,
    access_request_submit,
    agency_add,
    agency_domain_add,
    officer_add,
)
from govreq.audit.models import AuditEvent
from govreq.core.errors import ValidationFailed
from govreq.intake.models import Target
from govreq.lifecycle.rechecking import access_request_grant
from tests.conftest import SYSTEM, make_agency
from tests.review_helpers import submit

pytestmark = pytest.mark.django_db

IMPOSTOR = "inspector.wong@p\u043elice.gov.hk"  # a Cyrillic "o"
IMPOSTOR_ASCII = "inspector.wong@xn--plice-jye.gov.hk"


def ask(email: str, **overrides) -> AccessRequest:
    fields = {
        "name": "Wong",
        "email": email,
        "agency_name": "Hong Kong Police Force",
        "jurisdiction_code": "HK",
        "agency_kind": "POLICE",
        "now": timezone.now(),
    }
    fields.update(overrides)
    return access_request_submit(**fields)


def refusal(raised: pytest.ExceptionInfo[ValidationFailed]) -> str:
    assert raised.value.code == "lookalike_override_required"
    return raised.value.message


# --- access requests ---------------------------------------------------------------------------


def test_an_access_request_from_a_lookalike_names_the_imitated_agency(hkpf, fbi):
    access = ask(IMPOSTOR)
    assert access.email == IMPOSTOR_ASCII
    [found] = access.lookalikes
    assert found["agency"] == hkpf.pk
    assert found["name"] == "Hong Kong Police Force"
    assert found["domain"] == "police.gov.hk"
    assert found["kind"] == "CONFUSABLE"
    assert "Cyrillic small letter o" in found["why"]
    event = AuditEvent.objects.get(action="access.requested")
    assert event.data["lookalikes"] == [hkpf.pk]


def test_an_access_request_from_an_unknown_clean_domain_has_no_lookalikes(hkpf):
    assert ask("lee@newpolice.gov.example", agency_name="New Police").lookalikes == []


def test_granting_a_lookalike_without_an_override_is_refused(hkpf):
    access = ask(IMPOSTOR, agency_name="HK Police Cyber Unit")
    unit = agency_add(
        actor=SYSTEM,
        name="HK Police Cyber Unit",
        jurisdiction_code="HK",
        kind="POLICE",
        domains=["p\u043elice.gov.hk"],
        lookalike_override="test: the unit's domain, checked with the HKPF switchboard",
        now=timezone.now(),
    )
    with pytest.raises(ValidationFailed) as raised:
        access_request_approve(
            actor=SYSTEM, access=access, agency=unit, method="call-back", now=timezone.now()
        )
    message = refusal(raised)
    assert raised.value.errors[0].field == "lookalike_override"
    assert "Hong Kong Police Force" in message and "police.gov.hk" in message
    access.refresh_from_db()
    assert access.status == "PENDING"
    assert not Officer.objects.filter(email=IMPOSTOR_ASCII).exists()
    unit.refresh_from_db()
    assert unit.status == AgencyStatus.PENDING  # nothing verified on the way

    officer = access_request_approve(
        actor=SYSTEM,
        access=access,
        agency=unit,
        method="call-back",
        lookalike_override="  Confirmed with the HKPF switchboard: the unit's own domain.  ",
        now=timezone.now(),
    )
    access.refresh_from_db()
    assert access.status == "APPROVED" and access.officer == officer
    assert access.lookalike_override_reason == (
        "Confirmed with the HKPF switchboard: the unit's own domain."
    )
    event = AuditEvent.objects.get(action="access.approved")
    assert event.data["lookalike_override"] == access.lookalike_override_reason
    assert [found["agency"] for found in event.data["lookalikes"]] == [hkpf.pk]


def test_a_lookalike_found_only_after_arrival_still_needs_an_override(db):
    """An agency verified after the request arrived is compared at the decision too."""
    access = ask("wong@po1ice.gov.hk")
    assert access.lookalikes == []
    hkpf = make_agency("Hong Kong Police Force", "HK", "police.gov.hk")
    new = agency_add(
        actor=SYSTEM,
        name="Other",
        jurisdiction_code="HK",
        kind="POLICE",
        domains=["example.org"],
        now=timezone.now(),
    )
    with pytest.raises(ValidationFailed) as raised:
        access_request_approve(
            actor=SYSTEM, access=access, agency=new, method="call-back", now=timezone.now()
        )
    assert f"agency {hkpf.pk}" in refusal(raised)


def test_granting_a_clean_request_needs_no_override(hkpf):
    access = ask("lee@newpolice.gov.example", agency_name="New Police", jurisdiction_code="SG")
    officer = access_request_grant(
        actor=SYSTEM,
        access=access,
        agency=None,
        new_agency_kind="POLICE",
        new_agency_domain="newpolice.gov.example",
        method="call-back",
        now=timezone.now(),
    )
    assert officer.agency.status == AgencyStatus.VERIFIED
    access.refresh_from_db()
    assert access.lookalike_override_reason == ""
    assert "lookalikes" not in AuditEvent.objects.get(action="access.approved").data


def test_a_new_agency_needs_its_domain_typed_not_taken_from_the_request(hkpf):
    access = ask("lee@newpolice.gov.example", agency_name="New Police", jurisdiction_code="SG")
    with pytest.raises(ValidationFailed) as raised:
        access_request_grant(
            actor=SYSTEM,
            access=access,
            agency=None,
            new_agency_kind="POLICE",
            new_agency_domain=" ",
            method="call-back",
            now=timezone.now(),
        )
    assert raised.value.errors[0].field == "new_agency_domain"


def test_granting_a_new_agency_at_a_lookalike_domain_is_refused_then_overridden(hkpf):
    access = ask(IMPOSTOR, agency_name="HK Police Cyber Unit")
    grant = {
        "actor": SYSTEM,
        "access": access,
        "agency": None,
        "new_agency_kind": "POLICE",
        "new_agency_domain": "xn--plice-jye.gov.hk",
        "method": "call-back",
        "now": timezone.now(),
    }
    with pytest.raises(ValidationFailed) as raised:
        access_request_grant(**grant)
    assert raised.value.errors[0].field == "domains[0]"
    assert "Hong Kong Police Force" in refusal(raised)
    officer = access_request_grant(**grant, lookalike_override="Confirmed in person")
    assert officer.email == IMPOSTOR_ASCII
    domain = AgencyDomain.objects.get(domain="xn--plice-jye.gov.hk")
    assert domain.lookalike_override_reason == "Confirmed in person"


def test_refusing_a_lookalike_records_what_it_imitated(hkpf):
    access = ask(IMPOSTOR)
    access_request_refuse(actor=SYSTEM, access=access, reason="impostor", now=timezone.now())
    assert AuditEvent.objects.get(action="access.refused").data["lookalikes"] == [hkpf.pk]


# --- agency add, domain add, officer add ---------------------------------------------------------


def test_agency_add_refuses_a_lookalike_domain_without_an_override(hkpf):
    fields = {
        "actor": SYSTEM,
        "name": "Police",
        "jurisdiction_code": "HK",
        "kind": "POLICE",
        "domains": ["example.org", "police.gov.hk.example.com"],
        "now": timezone.now(),
    }
    with pytest.raises(ValidationFailed) as raised:
        agency_add(**fields)
    assert raised.value.errors[0].field == "domains[1]"
    assert "belongs to example.com" in refusal(raised)
    agency = agency_add(**fields, lookalike_override="the police's test domain, confirmed")
    overrides = dict(agency.domains.values_list("domain", "lookalike_override_reason"))
    assert overrides == {
        "example.org": "",
        "police.gov.hk.example.com": "the police's test domain, confirmed",
    }
    event = AuditEvent.objects.get(action="agency.added", object_id=str(agency.pk))
    assert event.data["lookalike_override"] == "the police's test domain, confirmed"
    assert list(event.data["lookalikes"]) == ["police.gov.hk.example.com"]


def test_a_pending_agency_is_not_a_domain_to_imitate(db):
    make_agency("Hong Kong Police Force", "HK", "police.gov.hk", verified=False)
    make_agency("Lookalike", "HK", "po1ice.gov.hk", verified=False)


def test_agency_domain_add(hkpf, fbi):
    with pytest.raises(ValidationFailed) as raised:
        agency_domain_add(actor=SYSTEM, agency=fbi, domain="police.hk", now=timezone.now())
    assert raised.value.errors[0].field == "domain"
    assert "without its label 'gov'" in refusal(raised)
    # Like the agency's own domain: not an imitation.
    added = agency_domain_add(actor=SYSTEM, agency=hkpf, domain="Police.HK", now=timezone.now())
    assert added.domain == "police.hk" and added.lookalike_override_reason == ""
    unicode = agency_domain_add(
        actor=SYSTEM,
        agency=fbi,
        domain="p\u043elice.gov.hk",
        lookalike_override="x",
        now=timezone.now(),
    )
    assert unicode.domain.startswith("xn--")
    with pytest.raises(ValidationFailed):
        agency_domain_add(actor=SYSTEM, agency=fbi, domain="POLICE.hk", now=timezone.now())
    # Like the FBI's own domain: not an imitation.
    own = agency_domain_add(actor=SYSTEM, agency=fbi, domain="fb\u0456.gov", now=timezone.now())
    assert own.domain.startswith("xn--")
    events = AuditEvent.objects.filter(action="agency.domain_added").order_by("pk")
    assert [event.data.get("lookalike_override") for event in events] == [None, "x", None]


def test_officer_at_a_lookalike_domain_needs_an_override_unless_one_is_on_record(hkpf):
    legacy = make_agency("Legacy", "HK", "example.net", verified=False)
    AgencyDomain.objects.create(agency=legacy, domain="p0lice.gov.hk")  # added before the check
    with pytest.raises(ValidationFailed) as raised:
        officer_add(
            actor=SYSTEM, agency=legacy, email="a@p0lice.gov.hk", name="A", now=timezone.now()
        )
    assert raised.value.errors[0].field == "email"
    assert "Hong Kong Police Force" in refusal(raised)
    officer_add(
        actor=SYSTEM,
        agency=legacy,
        email="a@p0lice.gov.hk",
        name="A",
        lookalike_override="checked",
        now=timezone.now(),
    )
    recorded = agency_add(
        actor=SYSTEM,
        name="Recorded",
        jurisdiction_code="HK",
        kind="POLICE",
        domains=["polise.gov.hk"],
        lookalike_override="checked when added",
        now=timezone.now(),
    )
    officer_add(
        actor=SYSTEM, agency=recorded, email="b@polise.gov.hk", name="B", now=timezone.now()
    )


def test_an_officer_address_is_one_identifier_in_unicode_and_punycode(db):
    agency = make_agency("B\u00fccherpolizei", "DE", "B\u00fccher.example")
    assert list(agency.domains.values_list("domain", flat=True)) == ["xn--bcher-kva.example"]
    officer = officer_add(
        actor=SYSTEM,
        agency=agency,
        email="Anna@B\u00dcCHER.example",
        name="Anna",
        now=timezone.now(),
    )
    assert officer.email == "anna@xn--bcher-kva.example"
    with pytest.raises(ValidationFailed) as raised:
        officer_add(
            actor=SYSTEM,
            agency=agency,
            email="anna@xn--bcher-kva.example",
            name="Anna",
            now=timezone.now(),
        )
    assert raised.value.errors[0].message == "an officer with it exists"


# --- CLI -----------------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_cli_agency_add_and_domain_add_need_an_override_for_a_lookalike(hkpf):
    add = ["agency", "add", "--name", "Fake", "--jurisdiction", "HK", "--kind", "POLICE"]
    with pytest.raises(CommandError, match="Hong Kong Police Force"):
        run(*add, "--domain", "police-gov.hk")
    assert "Added agency" in run(*add, "--domain", "police-gov.hk", "--override-lookalike", "ok")
    agency = AgencyDomain.objects.get(domain="police-gov.hk").agency
    with pytest.raises(CommandError, match=r"police\.gov\.hk"):
        run("agency", "domain-add", str(agency.pk), "--domain", "police.gov.hk.co")
    out = run(
        "agency",
        "domain-add",
        str(agency.pk),
        "--domain",
        "police.gov.hk.co",
        "--override-lookalike",
        "also theirs",
    )
    assert "Added domain police.gov.hk.co" in out


# --- targets -------------------------------------------------------------------------------------


def test_a_target_email_and_its_punycode_form_count_as_one_account(chan):
    both = [
        {"type": "EMAIL", "value": "Victim@B\u00fccher.example"},
        {"type": "EMAIL", "value": "victim@xn--bcher-kva.example"},
    ]
    first = submit(chan, targets=both)
    assert list(Target.objects.filter(request=first).values_list("value", flat=True)) == [
        "victim@xn--bcher-kva.example"
    ]
    second = submit(chan, targets=[{"type": "EMAIL", "value": "VICTIM@b\u00fccher.EXAMPLE"}])
    duplicate = second.check_runs.first().results.get(code="DUPLICATE")
    assert duplicate.outcome == "WARN"
    assert first.reference in duplicate.message


def test_cli_officer_add_needs_an_override_at_a_lookalike_domain(hkpf):
    legacy = make_agency("Legacy", "HK", "example.net", verified=False)
    AgencyDomain.objects.create(agency=legacy, domain="p0lice.gov.hk")  # added before the check
    add = ["officer", "add", "--agency", str(legacy.pk), "--email", "a@p0lice.gov.hk"]
    with pytest.raises(CommandError, match="Hong Kong Police Force"):
        run(*add, "--name", "A")
    assert "Added officer" in run(*add, "--name", "A", "--override-lookalike", "checked")


def test_the_migration_gives_existing_addresses_their_punycode_form(hkpf):
    migration = import_module("govreq.agencies.migrations.0004_agency_domain_lookalike_override")
    old = Officer.objects.create(
        agency=hkpf, email="anna@b\u00fccher.example", name="Anna", created_at=timezone.now()
    )
    access = ask("Lee@B\u00fccher.example")
    AccessRequest.objects.filter(pk=access.pk).update(email="lee@b\u00fccher.example")
    migration.canonical_addresses(apps, None)
    old.refresh_from_db()
    access.refresh_from_db()
    assert old.email == "anna@xn--bcher-kva.example"
    assert access.email == "lee@xn--bcher-kva.example"
