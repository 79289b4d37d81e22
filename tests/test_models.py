"""Database constraints hold even when Python validation is bypassed."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from govreq.accounts.models import ApiToken
from govreq.intake.models import LegalRequest, Target
from govreq.jurisdictions.models import Jurisdiction

pytestmark = pytest.mark.django_db


def test_every_iso_country_and_territory_is_loaded():
    codes = set(Jurisdiction.objects.values_list("code", flat=True))
    assert len(codes) == 249
    assert {"HK", "MO", "TW", "US", "GB", "AU", "CN"} <= codes
    assert Jurisdiction.objects.get(code="HK").name == "Hong Kong"


@pytest.fixture
def request_row(api_as, chan_token):
    from tests.conftest import valid_submission

    created = api_as(chan_token).post("/requests", valid_submission()).json()
    return LegalRequest.objects.get(public_id=created["id"])


def _violates(callable_) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


def _update(row, **fields):
    return lambda: LegalRequest.objects.filter(pk=row.pk).update(**fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "FISHING"},
        {"status": "LOST"},
        {"offence_category": "JAYWALKING"},
        {"channel": "PIGEON"},
        {"status": "ON_HOLD"},  # without remembering the previous status
        {"status_before_hold": "IN_REVIEW"},  # remembered but not on hold
        {"data_from": date(2020, 2, 1), "data_to": date(2020, 1, 1)},
        {"data_from": date(2020, 2, 1), "data_to": None},
        {"gag_order": True, "gag_expires_on": None},
        {"gag_order": False, "gag_expires_on": date(2030, 1, 1)},
        {"data_categories": []},
        {"narrative": ""},
    ],
)
def test_request_constraints(request_row, fields):
    _violates(_update(request_row, **fields))


def test_on_hold_with_previous_status_is_accepted(request_row):
    _update(request_row, status="ON_HOLD", status_before_hold="RECEIVED")()


def test_reference_is_unique(request_row):
    other = LegalRequest.objects.exclude(pk=request_row.pk)
    assert not other.exists()
    clone = LegalRequest.objects.get(pk=request_row.pk)
    clone.pk = None
    clone.public_id = None
    _violates(lambda: LegalRequest.objects.bulk_create([clone]))


def test_target_constraints(request_row):
    target = request_row.targets.first()
    _violates(
        lambda: Target.objects.create(
            request=request_row, type=target.type, value=target.value, raw_value="dup"
        )
    )
    _violates(
        lambda: Target.objects.create(request=request_row, type="SSN", value="1", raw_value="")
    )
    _violates(
        lambda: Target.objects.create(request=request_row, type="EMAIL", value="", raw_value="")
    )


def test_jurisdiction_code_must_be_two_upper_letters():
    _violates(lambda: Jurisdiction.objects.create(code="hk", name="lower"))
    _violates(lambda: Jurisdiction.objects.create(code="X", name="short"))


def test_officer_email_must_be_lower_case(chan):
    from govreq.agencies.models import Officer

    _violates(lambda: Officer.objects.filter(pk=chan.pk).update(email="Chan@police.gov.hk"))


def test_token_has_exactly_one_owner(chan):
    _violates(
        lambda: ApiToken.objects.create(prefix="p1", token_hash="x", created_at=timezone.now())
    )


def test_audit_events_cannot_be_changed_through_the_orm(chan):
    from govreq.audit.models import AuditEvent

    event = AuditEvent.objects.first()
    event.action = "tampered"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
