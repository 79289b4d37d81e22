"""Hypothesis drives the back half of the job: releases, holds placed and lifted, downloads by
the right and the wrong agency, time passing and packages expiring.

After every step: no package was released or downloaded while a hold then in force covered its
request; only the requesting agency ever downloaded; a request is DELIVERED exactly when its
production was downloaded; purged packages have no bytes left and are never downloaded again.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from govreq.agencies.services import officer_add
from govreq.core.actors import Actor
from govreq.core.errors import DomainError
from govreq.disclosure.models import PackageDownload, Production
from govreq.holds.models import JurisdictionHold
from govreq.holds.rules import excepted, in_force, in_scope
from govreq.holds.selectors import hold_spec, request_scope
from govreq.lifecycle import disclosing
from tests.conftest import SYSTEM, make_agency
from tests.hold_helpers import hold_lift, hold_place
from tests.review_helpers import approve, make_staff, submit


class Disclosure(RuleBasedStateMachine):
    productions = Bundle("productions")

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.clock = timezone.now()
        self.staff = make_staff()
        self.officers = {
            "HK": officer_add(
                actor=SYSTEM,
                agency=make_agency("Hong Kong Police Force", "HK", "police.gov.hk"),
                email="chan@police.gov.hk",
                name="Chan",
                now=self.clock,
            ),
            "US": officer_add(
                actor=SYSTEM,
                agency=make_agency("FBI", "US", "fbi.gov"),
                email="rivera@fbi.gov",
                name="Rivera",
                now=self.clock,
            ),
        }

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def tick(self):
        self.clock += timedelta(minutes=7)
        return self.clock

    def attempt(self, action, **kwargs):
        try:
            with transaction.atomic():
                return action(now=self.tick(), **kwargs)
        except DomainError:
            return None

    @initialize(target=productions)
    def an_approved_request(self):
        return self.another_approved_request()

    @rule(target=productions)
    def another_approved_request(self):
        request = approve(submit(self.officers["HK"]), self.staff)
        production = Production.objects.get(request=request, status="PENDING")
        disclosing.production_collect_now(actor=SYSTEM, production=production, now=self.tick())
        return production.pk

    @rule(pk=productions)
    def release(self, pk):
        self.attempt(
            disclosing.production_release,
            actor=self.staff.actor("rita"),
            production=Production.objects.get(pk=pk),
        )

    @rule(pk=productions, agency=st.sampled_from(["HK", "HK", "US"]))
    def download(self, pk, agency):
        try:
            with transaction.atomic():
                fetched = disclosing.package_download(
                    actor=Actor.for_officer(self.officers[agency]),
                    production=Production.objects.get(pk=pk),
                    channel="API",
                    client_address="192.0.2.1",
                    user_agent="hypothesis",
                    now=self.tick(),
                )
            b"".join(fetched.chunks)
        except DomainError:
            pass

    @rule(allow_trafficking=st.booleans())
    def place_hold(self, allow_trafficking):
        hold_place(
            actor=self.staff.actor("pat"),
            jurisdiction_code="HK",
            effective_from=self.clock,
            reason="NSL",
            allow_offences=["HUMAN_TRAFFICKING"] if allow_trafficking else [],
            now=self.tick(),
        )

    @rule()
    def lift_holds(self):
        for hold in JurisdictionHold.objects.filter(lifted_at__isnull=True):
            self.attempt(hold_lift, actor=self.staff.actor("pat"), hold=hold, reason="lifted")

    @rule(days=st.sampled_from([1, 1, 2, 15]))
    def time_passes(self, days):
        self.clock += timedelta(days=days)
        disclosing.productions_purge_expired(actor=SYSTEM, now=self.tick())

    @invariant()
    def nothing_leaves_under_a_hold_or_to_another_agency(self):
        specs = [(h.created_at, hold_spec(h)) for h in JurisdictionHold.objects.all()]

        def held_at(request, moment):
            scope = request_scope(request)
            return any(
                placed <= moment
                and in_force(spec, moment)
                and in_scope(spec, scope)
                and not excepted(spec, scope)
                for placed, spec in specs
            )

        for production in Production.objects.filter(released_at__isnull=False):
            assert not held_at(production.request, production.released_at)
        for download in PackageDownload.objects.select_related("production__request", "officer"):
            request = download.production.request
            assert download.officer.agency_id == request.agency_id
            assert not held_at(request, download.downloaded_at)
            assert download.production.purged_at is None or (
                download.downloaded_at < download.production.purged_at
            )

    @invariant()
    def delivered_exactly_when_downloaded(self):
        for production in Production.objects.select_related("request"):
            request = production.request
            delivered = request.status_changes.filter(to_status="DELIVERED").exists()
            assert delivered == (production.delivered_at is not None), request.reference
            if production.status == "PURGED":
                assert not (Path(django_settings.PACKAGES_DIR) / str(production.public_id)).exists()


@pytest.mark.django_db
def test_disclosure_invariants(platform):
    Disclosure.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    Disclosure.TestCase().runTest()
