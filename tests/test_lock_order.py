"""One lock order everywhere: the request row(s) first, in primary-key order, the audit-chain lock
last. Placing and lifting holds while approvals and clarification answers are in flight must
never deadlock (PostgreSQL detects a deadlock and kills one side, which the API answered 500).

The test runs on both databases; on SQLite writes are serialised by the database, so it checks
only that nothing fails, while on PostgreSQL it is the real test of the lock order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.core.errors import Conflict
from govreq.holds.models import JurisdictionHold
from govreq.intake.models import LegalRequest
from govreq.lifecycle import reviewing
from tests.hold_helpers import hold_lift, hold_place
from tests.review_helpers import make_staff, submit

ROUNDS = 3


def _decided(request: LegalRequest, staff) -> LegalRequest:
    now = timezone.now()
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=now)
    reviewing.decision_make(
        actor=staff.actor("rita"), request=request, outcome="FULL", rationale="Narrow", now=now
    )
    return request


def _asked(request: LegalRequest, staff) -> int:
    now = timezone.now()
    reviewing.request_start_review(actor=staff.actor("raj"), request=request, now=now)
    return reviewing.clarification_ask(
        actor=staff.actor("raj"), request=request, question="Which account exactly?", now=now
    ).pk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_holds_placed_and_lifted_while_approvals_and_answers_are_in_flight(chan):
    staff = make_staff()
    decided = [_decided(submit(chan), staff) for _ in range(6)]
    asked = [(r, _asked(r, staff)) for r in (submit(chan, document=False) for _ in range(4))]
    failures: list[BaseException] = []
    refusals: list[str] = []
    start = threading.Barrier(4)

    def worker(body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                start.wait()
                body()
            except BaseException as error:  # a deadlock is a DatabaseError: record it
                failures.append(error)
            finally:
                connection.close()

        return run

    def attempt(call: Callable[[], object]) -> None:
        try:
            call()
        except Conflict as refused:  # on hold, nothing to approve: the rules answering
            refusals.append(refused.code)

    def approvals(name: str) -> Callable[[], None]:
        def body() -> None:
            for _ in range(ROUNDS):
                for request in decided:
                    attempt(
                        lambda request=request: reviewing.approval_give(
                            actor=staff.actor(name), request=request, now=timezone.now()
                        )
                    )

        return body

    def answers() -> None:
        officer = Actor.for_officer(chan)
        for request, question in asked:
            attempt(
                lambda request=request, question=question: reviewing.clarification_answer(
                    actor=officer,
                    request=request,
                    clarification_id=question,
                    answer="The account @Scammer_HK only.",
                    now=timezone.now(),
                )
            )

    def holds() -> None:
        admin = staff.actor("pat")
        for round_ in range(ROUNDS):
            placed = hold_place(
                actor=admin,
                jurisdiction_code="HK",
                effective_from=timezone.now() - timedelta(seconds=1),
                reason=f"Round {round_}: assessing the new law",
                now=timezone.now(),
            )
            hold_lift(actor=admin, hold=placed.hold, reason="Assessment done", now=timezone.now())

    threads = [
        threading.Thread(target=worker(body))
        for body in (approvals("alex"), approvals("ana"), answers, holds)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck waiting on a lock"
    assert failures == []
    assert JurisdictionHold.objects.count() == ROUNDS
    assert set(refusals) <= {"on_hold", "nothing_to_approve", "four_eyes", "already_approved"}
    # Every hold was lifted, so nothing stays on hold; each decided request reached APPROVED or
    # is still waiting for its approvals, never in between.
    statuses = set(LegalRequest.objects.values_list("status", flat=True))
    assert statuses <= {"DECIDED", "APPROVED", "IN_REVIEW"}
