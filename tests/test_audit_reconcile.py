"""`govreq audit reconcile`: the replayed trail against the stored requests. A row edited
directly in the database (no event) is named; a normal life is clean."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.lifecycle import reconciling, reviewing
from govreq.lifecycle.reconciling import (
    ApprovalRecord,
    DecisionRecord,
    RequestRecord,
    compare,
    replay,
    requests_reconcile,
)
from govreq.review.models import Approval, Decision
from tests.review_helpers import approve, deliver, make_staff, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return make_staff()


@pytest.fixture
def delivered(chan, staff, platform):
    """A request's whole life: submitted, reviewed, decided, approved twice, delivered, closed."""
    request = approve(submit(chan), staff)
    deliver(request, staff, chan)
    reviewing.request_close(
        actor=staff.actor("rita"), request=request, reason="Delivered", now=timezone.now()
    )
    request.refresh_from_db()
    assert request.status == "CLOSED"
    return request


def reconcile() -> str:
    out = StringIO()
    call_command("audit", "reconcile", stdout=out, stderr=StringIO())
    return out.getvalue()


def reconcile_fails() -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("audit", "reconcile", stdout=out, stderr=StringIO())
    assert error.value.returncode == 1
    return out.getvalue(), str(error.value)


def sql(statement: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_a_normal_life_reconciles(delivered, chan, staff):
    other = submit(chan)  # and one still open, in review
    reviewing.request_start_review(actor=staff.actor("rita"), request=other, now=timezone.now())
    assert "OK: 2 request(s) agree with the audit trail" in reconcile()


def test_a_decision_edited_in_sql_is_named(delivered):
    decision = Decision.objects.get(request=delivered)
    sql("UPDATE review_decision SET outcome = %s WHERE id = %s", ["NO_DATA", decision.pk])
    out, error = reconcile_fails()
    assert f"{delivered.reference}: decision #{decision.pk}: outcome is 'NO_DATA', " in out
    assert "the trail says 'FULL'" in out
    assert "1 of 1 request(s) disagree" in error


def test_a_decision_scope_widened_in_sql_is_named(chan, staff, platform):
    request = approve(submit(chan), staff)
    decision = Decision.objects.get(request=request)
    Decision.objects.filter(pk=decision.pk).update(approved_categories=["CONTENT"])
    out, _error = reconcile_fails()
    assert f"{request.reference}: decision #{decision.pk}: approved_categories" in out


def test_a_status_edited_in_sql_is_named(delivered):
    sql("UPDATE intake_legalrequest SET status = %s WHERE id = %s", ["APPROVED", delivered.pk])
    out, _error = reconcile_fails()
    assert f"{delivered.reference}: status is APPROVED, the trail says CLOSED" in out


def test_an_approval_moved_to_another_approver_is_named(chan, staff, platform):
    request = approve(submit(chan), staff)
    approval = Approval.objects.filter(decision__request=request).first()
    # The decider "approves" their own decision: four eyes broken behind the trail's back.
    Approval.objects.filter(pk=approval.pk).update(approver=staff.users["rita"])
    out, _error = reconcile_fails()
    assert f"{request.reference}: approval #{approval.pk}: approver is " in out


def test_an_approval_inserted_or_deleted_is_named(chan, staff, platform):
    request = approve(submit(chan), staff)
    approval = Approval.objects.filter(decision__request=request).first()
    approval_pk = approval.pk
    Approval.objects.filter(pk=approval_pk).delete()
    out, _error = reconcile_fails()
    assert (
        f"approval #{approval_pk} (of decision #{approval.decision_id}) in the trail is gone" in out
    )


def test_a_lapsed_decision_revived_in_sql_is_named(chan, staff):
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="Valid and narrow",
        now=timezone.now(),
    )
    first = Decision.objects.get(request=request)
    # Back to review: the decision lapses (the trail records it on the status change).
    reviewing.request_return_to_review(
        actor=staff.actor("rita"), request=request, reason="Look again", now=timezone.now()
    )
    first.refresh_from_db()
    assert first.superseded_at is not None
    assert "OK: 1 request(s)" in reconcile()
    Decision.objects.filter(pk=first.pk).update(superseded_at=None)
    out, _error = reconcile_fails()
    assert f"decision #{first.pk}: current is True, the trail says False" in out


def test_a_row_the_trail_never_saw_is_named(chan, staff):
    request = submit(chan)
    sql("UPDATE intake_legalrequest SET public_id = %s WHERE id = %s", [_other_uuid(), request.pk])
    out, _error = reconcile_fails()
    assert f"{request.reference}: no request.received event records it" in out
    assert "the trail records this request, but its row is gone" in out


def _other_uuid() -> str:
    value = uuid.uuid4()
    return value.hex if connection.vendor == "sqlite" else str(value)


# --- the pure core ------------------------------------------------------------------------------


def _decision(**overrides):
    fields = {
        "outcome": "FULL",
        "rejection_reasons": [],
        "approved_target_ids": [],
        "approved_categories": [],
        "approved_range": None,
        "requires_human_rights_approval": False,
        "decided_by": "7",
    }
    return DecisionRecord(**{**fields, **overrides})


def test_replay_folds_each_requests_events_in_order():
    events = [
        ("a", "request.received", "1", {"reference": "GR-1"}),
        ("a", "request.status_changed", "", {"from": "RECEIVED", "to": "IN_REVIEW"}),
        ("a", "decision.made", "7", {"decision": 3, "outcome": "FULL"}),
        ("a", "approval.given", "8", {"decision": 3, "approval": 4, "kind": "STANDARD", "slot": 1}),
        (
            "a",
            "request.status_changed",
            "",
            {"from": "DECIDED", "to": "IN_REVIEW", "superseded_decisions": [3]},
        ),
        ("b", "request.received", "1", {"reference": "GR-2"}),
    ]
    a, b = list(replay(events))
    assert (a.reference, a.status, b.reference, b.status) == (
        "GR-1",
        "IN_REVIEW",
        "GR-2",
        "RECEIVED",
    )
    assert a.decisions == {3: _decision(current=False)}
    assert a.approvals == {4: ApprovalRecord(decision=3, kind="STANDARD", slot=1, approver="8")}


def test_compare_names_every_difference():
    said = RequestRecord(
        public_id="a",
        status="APPROVED",
        decisions={3: _decision()},
        approvals={4: ApprovalRecord(decision=3, kind="STANDARD", slot=1, approver="8")},
    )
    same = RequestRecord(
        public_id="a",
        status="APPROVED",
        decisions={3: _decision()},
        approvals={4: ApprovalRecord(decision=3, kind="STANDARD", slot=1, approver="8")},
    )
    assert compare(said, same) == []
    edited = RequestRecord(
        public_id="a",
        status="DELIVERED",
        decisions={3: _decision(outcome="PARTIAL"), 9: _decision()},
        approvals={},
    )
    assert compare(said, edited) == [
        "status is DELIVERED, the trail says APPROVED",
        "decision #3: outcome is 'PARTIAL', the trail says 'FULL'",
        "decision #9 (FULL) has no event",
        "approval #4 (of decision #3) in the trail is gone",
    ]
    assert compare(said, None) == ["the trail records this request, but its row is gone"]


def test_requests_reconcile_counts_requests(delivered):
    result = requests_reconcile()
    assert result.ok and result.requests == 1


def test_a_change_committed_during_the_replay_is_replayed_again_not_reported(
    chan, staff, monkeypatch
):
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    # The replay began before the review started: the events it read say RECEIVED, the row it
    # reads later says IN_REVIEW, as if the change committed in between.
    started = AuditEvent.objects.get(action="request.status_changed", object_id=request.public_id)
    monkeypatch.setattr(reconciling, "audit_chain_head", lambda: (started.seq - 1, ""))
    assert requests_reconcile().ok
    # A real disagreement is still reported after the second look.
    sql("UPDATE intake_legalrequest SET status = %s WHERE id = %s", ["APPROVED", request.pk])
    (finding,) = requests_reconcile().findings
    assert finding.problems == ["status is APPROVED, the trail says IN_REVIEW"]
