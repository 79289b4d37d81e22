"""Hypothesis drives the whole workflow with random actions by random people.

Whatever the sequence, every refused action is a domain error (never a crash or a database
error), and these invariants hold after every step:
- no request is APPROVED, or CLOSED after a disclosure decision, without two approvals by two
  different people other than the decider (and the human-rights officer's, where required);
- nothing leaves an active hold: every open request a hold in force covers is ON_HOLD, and no
  package was released or downloaded while a hold then in force covered its request;
- data leaves only as approved: every released production implements a current, approved
  disclosure decision (never a preservation), only the requesting agency downloads it, and a
  request is DELIVERED only after a download or a recorded delivery;
- a request is ON_HOLD exactly when it remembers the status it came from;
- the status history ends at the current status, and the audit chain verifies.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from govreq.agencies.services import officer_add
from govreq.audit.selectors import audit_chain_verify
from govreq.core.actors import Actor
from govreq.core.errors import DomainError
from govreq.disclosure.models import Production
from govreq.holds.models import JurisdictionHold
from govreq.holds.rules import excepted, in_force, in_scope
from govreq.holds.selectors import hold_spec, request_scope
from govreq.intake.models import LegalRequest, RequestStatus, StatusChange
from govreq.lifecycle import disclosing, reviewing
from govreq.lifecycle.receiving import request_withdraw
from govreq.lifecycle.transitions import request_transition
from govreq.lifecycle.workflow import FINAL_STATUSES
from govreq.review.models import ApprovalKind, Decision
from tests.conftest import SYSTEM, make_agency
from tests.hold_helpers import hold_lift, hold_place
from tests.review_helpers import EMERGENCY, HR_ASSESSMENT, ROLES, make_staff, submit

PEOPLE = [*ROLES, "root"]


def someone(*likely: str) -> st.SearchStrategy[str]:
    """Usually a person whose role fits, often anyone at all (wrong roles must be refused)."""
    return st.one_of(st.sampled_from(likely), st.sampled_from(PEOPLE))


KINDS = st.sampled_from(["COURT_ORDER", "EMERGENCY", "HUMAN_TRAFFICKING", "NATIONAL_SECURITY"])


class Workflow(RuleBasedStateMachine):
    requests = Bundle("requests")
    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.clock = timezone.now()
        self.staff = make_staff()
        hk = make_agency("Hong Kong Police Force", "HK", "police.gov.hk")
        us = make_agency("FBI", "US", "fbi.gov")
        self.officers = {
            "HK": officer_add(
                actor=SYSTEM, agency=hk, email="chan@police.gov.hk", name="Chan", now=self.clock
            ),
            "US": officer_add(
                actor=SYSTEM, agency=us, email="rivera@fbi.gov", name="Rivera", now=self.clock
            ),
        }

    def teardown(self) -> None:
        result = audit_chain_verify()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        assert result.ok, result.problem

    def tick(self) -> timezone.datetime:
        self.clock += timedelta(minutes=7)
        return self.clock

    def attempt(self, action, **kwargs) -> None:
        """Run an action; a refusal must be a domain error, and must leave nothing behind."""
        try:
            with transaction.atomic():
                action(now=self.tick(), **kwargs)
        except DomainError:
            pass

    @initialize(target=requests, kind=KINDS)
    def first_hong_kong_request(self, kind):
        return self.receive(jurisdiction="HK", kind=kind, document=True)

    @initialize(target=requests, kind=KINDS)
    def first_us_request(self, kind):
        return self.receive(jurisdiction="US", kind=kind, document=True)

    @rule(
        target=requests,
        jurisdiction=st.sampled_from(["HK", "US"]),
        kind=KINDS,
        document=st.booleans(),
    )
    def receive(self, jurisdiction, kind, document):
        overrides: dict = {}
        if kind == "EMERGENCY":
            overrides, document = dict(EMERGENCY), False
        elif kind != "COURT_ORDER":
            overrides = {"offence_category": kind}
        at = self.tick()
        overrides.setdefault("deadline_at", (at + timedelta(days=60)).isoformat())
        overrides.setdefault(
            "data_range",
            {
                "start": (at - timedelta(days=60)).date().isoformat(),
                "end": (at - timedelta(days=1)).date().isoformat(),
            },
        )
        request = submit(self.officers[jurisdiction], document=document, now=at, **overrides)
        return request.pk

    @rule(pk=requests)
    def advance(self, pk):
        """The next natural step by the right person, so runs reach deep states often."""
        request = LegalRequest.objects.get(pk=pk)
        rita = self.staff.actor("rita")
        if request.status == "RECEIVED":
            self.attempt(reviewing.request_start_review, actor=rita, request=request)
        elif request.status == "IN_REVIEW" and request.needs_human_rights_approval:
            self.attempt(reviewing.request_escalate, actor=rita, request=request, reason="HR")
        elif request.status in ("IN_REVIEW", "ESCALATED"):
            self.attempt(
                reviewing.decision_make, actor=rita, request=request, outcome="FULL", rationale="r"
            )
        elif request.status == "DECIDED":
            for name in ("alex", "ana", "hana"):
                self.attempt(
                    reviewing.approval_give,
                    actor=self.staff.actor(name),
                    request=request,
                    assessment=HR_ASSESSMENT if name == "hana" else None,
                )
                if LegalRequest.objects.get(pk=pk).status != "DECIDED":
                    break
        elif request.status == "APPROVED":
            production = Production.objects.filter(request=request).exclude(status="PURGED")
            waiting = production.filter(status__in=["PENDING", "FAILED"]).first()
            ready = production.filter(status="READY").first()
            if waiting is not None:
                ready = disclosing.production_collect_now(
                    actor=SYSTEM, production=waiting, now=self.tick()
                ).production
            if ready is not None and ready.status == "READY":
                self.attempt(
                    disclosing.production_release, actor=self.staff.actor("raj"), production=ready
                )
        # PRODUCED waits for the download rule, so holds and time can come in between.
        elif request.status == "DELIVERED":
            self.attempt(
                reviewing.request_close,
                actor=self.staff.actor("raj"),
                request=request,
                reason="delivered",
            )

    @rule()
    def advance_every_request(self):
        """Every request takes its next natural step (deep states in few steps)."""
        for pk in LegalRequest.objects.values_list("pk", flat=True):
            self.advance(pk)

    @rule(pk=requests, who=someone("rita", "raj"))
    def start_review(self, pk, who):
        self.attempt(
            reviewing.request_start_review,
            actor=self.staff.actor(who),
            request=LegalRequest.objects.get(pk=pk),
        )

    @rule(pk=requests, who=someone("rita", "raj"))
    def escalate(self, pk, who):
        self.attempt(
            reviewing.request_escalate,
            actor=self.staff.actor(who),
            request=LegalRequest.objects.get(pk=pk),
            reason="HR review",
        )

    @rule(
        pk=requests,
        who=st.sampled_from(PEOPLE),
        outcome=st.sampled_from(["FULL", "FULL", "NO_DATA", "REJECTED"]),
    )
    def decide(self, pk, who, outcome):
        self.attempt(
            reviewing.decision_make,
            actor=self.staff.actor(who),
            request=LegalRequest.objects.get(pk=pk),
            outcome=outcome,
            rationale="r",
            rejection_reasons=["OTHER"] if outcome == "REJECTED" else [],
        )

    @rule(
        pk=requests,
        who=st.sampled_from(PEOPLE),
        kind=st.sampled_from([None, ApprovalKind.STANDARD, ApprovalKind.HUMAN_RIGHTS]),
    )
    def approve(self, pk, who, kind):
        self.attempt(
            reviewing.approval_give,
            actor=self.staff.actor(who),
            request=LegalRequest.objects.get(pk=pk),
            kind=kind,
            assessment=HR_ASSESSMENT if who == "hana" else None,
        )

    @rule(pk=requests, who=st.sampled_from(PEOPLE))
    def send_back(self, pk, who):
        self.attempt(
            reviewing.request_return_to_review,
            actor=self.staff.actor(who),
            request=LegalRequest.objects.get(pk=pk),
            reason="again",
        )

    @rule(pk=requests)
    def collect(self, pk):
        """The worker collects whatever production waits (or retries a failed one)."""
        for production in Production.objects.filter(
            request_id=pk, status__in=["PENDING", "FAILED"]
        ):
            disclosing.production_collect_now(actor=SYSTEM, production=production, now=self.tick())

    @rule(pk=requests, who=someone("rita", "raj"))
    def release(self, pk, who):
        for production in Production.objects.filter(request_id=pk).exclude(status="PURGED"):
            self.attempt(
                disclosing.production_release, actor=self.staff.actor(who), production=production
            )

    @rule(pk=requests, jurisdiction=st.sampled_from(["HK", "US"]))
    def download(self, pk, jurisdiction):
        """An officer (of the requesting agency, or of another one) downloads a package."""
        for production in Production.objects.filter(request_id=pk).exclude(status="PURGED"):
            try:
                with transaction.atomic():
                    fetched = disclosing.package_download(
                        actor=Actor.for_officer(self.officers[jurisdiction]),
                        production=production,
                        channel="API",
                        client_address="192.0.2.1",
                        user_agent="hypothesis",
                        now=self.tick(),
                    )
                b"".join(fetched.chunks)
            except DomainError:
                pass

    @rule(days=st.integers(min_value=1, max_value=20))
    def time_passes(self, days):
        """Days go by; the worker purges expired packages."""
        self.clock += timedelta(days=days)
        disclosing.productions_purge_expired(actor=SYSTEM, now=self.tick())

    @rule(pk=requests, who=someone("rita", "raj"))
    def close(self, pk, who):
        self.attempt(
            reviewing.request_close,
            actor=self.staff.actor(who),
            request=LegalRequest.objects.get(pk=pk),
            reason="delivered",
        )

    @rule(pk=requests)
    def withdraw(self, pk):
        request = LegalRequest.objects.get(pk=pk)
        self.attempt(
            request_withdraw,
            actor=Actor.for_officer(request.officer),
            request=request,
            reason="no longer needed",
        )

    @rule(pk=requests, to=st.sampled_from(list(RequestStatus)))
    def bypass_attempt(self, pk, to):
        """Code that calls the low-level transition directly still cannot break a rule."""
        self.attempt(
            request_transition,
            actor=SYSTEM,
            request=LegalRequest.objects.get(pk=pk),
            to_status=to,
            reason="direct",
        )

    @precondition(lambda self: JurisdictionHold.objects.filter(lifted_at__isnull=True).count() < 2)
    @rule(
        target=holds,
        allow_emergency=st.booleans(),
        allow_trafficking=st.booleans(),
        offence=st.sampled_from([None, "NATIONAL_SECURITY"]),
    )
    def place_hold(self, allow_emergency, allow_trafficking, offence):
        placed = hold_place(
            actor=self.staff.actor("pat"),
            jurisdiction_code="HK",
            effective_from=self.clock - timedelta(days=1),
            reason="NSL",
            scope_offences=[offence] if offence else [],
            allow_emergency=allow_emergency,
            allow_offences=["HUMAN_TRAFFICKING"] if allow_trafficking else [],
            now=self.tick(),
        )
        return placed.hold.pk

    @rule(pk=consumes(holds))
    def lift_hold(self, pk):
        self.attempt(
            hold_lift,
            actor=self.staff.actor("pat"),
            hold=JurisdictionHold.objects.get(pk=pk),
            reason="lifted",
        )

    @invariant()
    def four_eyes(self):
        disclosed = ["APPROVED", "PRODUCED", "DELIVERED", "CLOSED"]
        for request in LegalRequest.objects.filter(status__in=disclosed):
            decision = Decision.objects.filter(request=request, superseded_at__isnull=True).first()
            assert decision is not None
            if decision.outcome not in ("FULL", "PARTIAL"):
                continue
            approvals = list(decision.approvals.all())
            standard = {a.approver_id for a in approvals if a.kind == "STANDARD"}
            assert len(standard) == 2
            assert decision.decided_by_id not in {a.approver_id for a in approvals}
            if decision.requires_human_rights_approval:
                assert any(a.kind == "HUMAN_RIGHTS" for a in approvals)

    @invariant()
    def nothing_leaves_an_active_hold(self):
        now = self.clock
        specs = [hold_spec(h) for h in JurisdictionHold.objects.all()]
        active = [s for s in specs if in_force(s, now)]
        for request in LegalRequest.objects.exclude(status__in=FINAL_STATUSES):
            scope = request_scope(request)
            if any(in_scope(s, scope) and not excepted(s, scope) for s in active):
                assert request.status == "ON_HOLD", (request.reference, request.status)

    @invariant()
    def data_leaves_only_as_approved(self):
        specs = [(h.created_at, hold_spec(h)) for h in JurisdictionHold.objects.all()]

        def held_at(request, moment):
            scope = request_scope(request)
            return any(
                placed <= moment
                and in_force(s, moment)
                and in_scope(s, scope)
                and not excepted(s, scope)
                for placed, s in specs
            )

        for production in Production.objects.filter(released_at__isnull=False):
            request, decision = production.request, production.decision
            assert production.purpose == "DISCLOSURE"
            assert decision.outcome in ("FULL", "PARTIAL")
            standard = {a.approver_id for a in decision.approvals.all() if a.kind == "STANDARD"}
            assert len(standard) == 2 and decision.decided_by_id not in standard
            assert not held_at(request, production.released_at), request.reference
            for download in production.downloads.all():
                assert download.officer.agency_id == request.agency_id
                assert not held_at(request, download.downloaded_at), request.reference
        for change in StatusChange.objects.filter(to_status="DELIVERED"):
            assert Production.objects.filter(
                request_id=change.request_id, delivered_at__lte=change.occurred_at
            ).exists()

    @invariant()
    def status_is_consistent(self):
        for request in LegalRequest.objects.all():
            assert (request.status == "ON_HOLD") == bool(request.status_before_hold)
            last = request.status_changes.order_by("-occurred_at", "-id").first()
            assert last is not None and last.to_status == request.status


@pytest.mark.django_db
def test_workflow_invariants(platform):
    Workflow.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    Workflow.TestCase().runTest()
