"""Schemathesis fuzzes every API operation from our own OpenAPI document.

Checks that no generated input (valid or not) produces a server error, that responses match the
documented schemas and status codes, and that errors keep the documented JSON shape.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
)

from govreq.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def officer_token(chan_token: str, rivera_token: str) -> Iterator[str]:
    # The real WSGI app closes the database connection around each request; the test's
    # transaction must survive it, as with Django's own test client.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield chan_token
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, officer_token):
    # Schema-valid bodies may still break business rules the schema cannot express (a deadline
    # in the past, a malformed phone number), which correctly answer 422.
    excluded = [positive_data_acceptance]
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        # The case was made invalid through its headers (no Authorization), but the token is
        # added to every call: what is sent is then valid, and may rightly be accepted.
        excluded += [negative_data_rejection, missing_required_header]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {officer_token}"}, excluded_checks=excluded
    )
