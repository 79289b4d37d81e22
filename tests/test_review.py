"""Case-by-case review: workflow, holds, decisions, four-eyes approval, roles."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.core.errors import Conflict, PermissionDenied
from govreq.holds.models import HoldReReview
from govreq.intake.models import LegalRequest
from govreq.lifecycle import reviewing
from govreq.review.models import Approval, CheckRun
from tests.conftest import field_errors
from tests.hold_helpers import hold_lift, hold_place, second_admin
from tests.review_helpers import (
    EMERGENCY,
    HR_ASSESSMENT,
    confirm_by_call_back,
    deliver,
    make_staff,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return make_staff()


def reviewed(request, staff):
    return reviewing.request_start_review(
        actor=staff.actor("rita"), request=request, now=timezone.now()
    )


def decided_full(request, staff):
    reviewed(request, staff)
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="Valid and narrow",
        now=timezone.now(),
    )
    request.refresh_from_db()
    return request


def hk_hold(staff, **kwargs):
    return hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=kwargs.pop("effective_from", timezone.now() - timedelta(days=1)),
        reason="National Security Law: pending human-rights due diligence",
        now=timezone.now(),
        **kwargs,
    )


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- workflow ---------------------------------------------------------------------------------


def test_full_path_to_closed(chan, staff, platform):
    request = decided_full(submit(chan), staff)
    assert request.status == "DECIDED"
    reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    request.refresh_from_db()
    assert request.status == "DECIDED"
    reviewing.approval_give(actor=staff.actor("ana"), request=request, now=timezone.now())
    request.refresh_from_db()
    assert request.status == "APPROVED"
    deliver(request, staff, chan)  # collected, released, downloaded by the agency
    reviewing.request_close(
        actor=staff.actor("rita"), request=request, reason="Delivered", now=timezone.now()
    )
    request.refresh_from_db()
    statuses = [c.to_status for c in request.status_changes.order_by("occurred_at", "id")]
    assert statuses == [
        "RECEIVED",
        "IN_REVIEW",
        "DECIDED",
        "APPROVED",
        "PRODUCED",
        "DELIVERED",
        "CLOSED",
    ]
    actions = set(
        AuditEvent.objects.filter(object_id=str(request.public_id)).values_list("action", flat=True)
    )
    assert {
        "request.received",
        "checks.ran",
        "decision.made",
        "approval.given",
        "request.status_changed",
    } <= actions


def test_illegal_transition_is_409_with_stable_code(api_as, chan, staff):
    request = submit(chan)
    staff_api = api_as(staff.tokens["rita"])
    response = staff_api.post(f"/staff/requests/{request.public_id}/transitions", {"to": "CLOSED"})
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    response = staff_api.post(f"/staff/requests/{request.public_id}/approvals", {})
    assert response.status_code == 403  # rita is not an approver


def test_illegal_transition_on_the_cli_exits_non_zero(chan, staff):
    request = submit(chan)
    with pytest.raises(CommandError, match="only an approved request") as error:
        run("request", "close", request.reference, "--as", "rita@platform.example")
    assert error.value.returncode == 1


def test_no_data_decision_closes_without_approvals(chan, staff):
    request = reviewed(submit(chan), staff)
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="NO_DATA",
        rationale="No such account",
        now=timezone.now(),
    )
    request.refresh_from_db()
    assert request.status == "CLOSED"


def test_rejection_needs_reasons_and_ends_the_request(chan, staff):
    request = reviewed(submit(chan), staff)
    with pytest.raises(Exception, match="rejection_reasons"):
        reviewing.decision_make(
            actor=staff.actor("rita"),
            request=request,
            outcome="REJECTED",
            rationale="No",
            now=timezone.now(),
        )
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="REJECTED",
        rationale="Overbroad",
        rejection_reasons=["OVERBROAD"],
        letter="Please narrow it.",
        now=timezone.now(),
    )
    request.refresh_from_db()
    assert request.status == "REJECTED"


def test_partial_decision_names_targets_and_categories(chan, staff):
    request = reviewed(submit(chan), staff)
    first = request.targets.order_by("id").first()
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="PARTIAL",
        rationale="Only the scammer's subscriber data",
        approved_target_ids=[first.pk],
        approved_categories=["BASIC_SUBSCRIBER"],
        now=timezone.now(),
    )
    with pytest.raises(Exception, match="approved_categories"):
        other = submit(chan)
        reviewed(other, staff)
        reviewing.decision_make(
            actor=staff.actor("rita"),
            request=other,
            outcome="PARTIAL",
            rationale="x",
            approved_target_ids=[other.targets.first().pk],
            approved_categories=["CONTENT"],
            now=timezone.now(),
        )


def test_blocking_checks_prevent_a_disclosure_decision(chan, staff):
    request = reviewed(submit(chan, document=False), staff)  # NO_LEGAL_DOCUMENT blocks
    with pytest.raises(Conflict) as error:
        reviewing.decision_make(
            actor=staff.actor("rita"),
            request=request,
            outcome="FULL",
            rationale="x",
            now=timezone.now(),
        )
    assert error.value.code == "blocked_by_checks"
    assert "NO_LEGAL_DOCUMENT" in error.value.message


def test_us_subpoena_for_content_is_blocked_naming_content(api_as, rivera_token, staff):
    body = {
        "kind": "SUBPOENA",
        "legal_basis": "18 U.S.C. 2703(c)(2)",
        "offence_category": "FRAUD",
        "narrative": "Romance scam.",
        "data_categories": ["BASIC_SUBSCRIBER", "CONTENT"],
        "targets": [{"type": "USERNAME", "value": "lover"}],
    }
    created = api_as(rivera_token).post("/requests", body).json()
    case = api_as(staff.tokens["rita"]).get(f"/staff/requests/{created['id']}").json()
    process = next(c for c in case["checks"] if c["code"] == "PROCESS_INSUFFICIENT")
    assert process["outcome"] == "BLOCK"
    assert "cannot compel stored content" in process["message"]  # words for a person
    assert process["details"]["excess"] == ["CONTENT"]  # codes for a program
    assert case["checks"][0]["outcome"] == "BLOCK"  # BLOCKs first
    assert case["check_outcome"] == "BLOCK"


# --- four eyes --------------------------------------------------------------------------------


def test_decider_cannot_approve(chan, staff):
    from govreq.accounts.services import staff_add

    both = staff_add(
        actor=staff.actor("root"),
        email="both@platform.example",
        name="Both",
        roles=["REVIEWER", "APPROVER"],
        now=timezone.now(),
    )
    from govreq.core.actors import Actor

    request = reviewed(submit(chan), staff)
    reviewing.decision_make(
        actor=Actor.for_user(both),
        request=request,
        outcome="FULL",
        rationale="ok",
        now=timezone.now(),
    )
    with pytest.raises(Conflict) as error:
        reviewing.approval_give(actor=Actor.for_user(both), request=request, now=timezone.now())
    assert error.value.code == "four_eyes"


def test_one_person_cannot_give_both_approvals(chan, staff):
    request = decided_full(submit(chan), staff)
    reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    with pytest.raises(Conflict) as error:
        reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    assert error.value.code == "four_eyes"
    request.refresh_from_db()
    assert request.status == "DECIDED"
    assert Approval.objects.count() == 1


def test_approvals_over_the_api_and_cli(api_as, chan, staff):
    request = decided_full(submit(chan), staff)
    response = api_as(staff.tokens["alex"]).post(
        f"/staff/requests/{request.public_id}/approvals", {}
    )
    assert response.status_code == 200, response.content
    assert response.json()["decisions"][0]["approvals_missing"] == ["STANDARD"]
    again = api_as(staff.tokens["alex"]).post(f"/staff/requests/{request.public_id}/approvals", {})
    assert again.status_code == 409
    assert again.json()["code"] == "four_eyes"
    assert "is now APPROVED" in run(
        "request", "approve", request.reference, "--as", "ana@platform.example"
    )


def test_decide_on_the_cli(chan, staff):
    request = reviewed(submit(chan), staff)
    out = run(
        "request", "decide", request.reference, "--outcome", "FULL", "--as", "rita@platform.example"
    )
    assert "DECIDED" in out


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_approvals_at_the_same_moment_never_double(chan):
    staff = make_staff()
    request = decided_full(submit(chan), staff)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(name: str) -> None:
        try:
            barrier.wait()
            reviewing.approval_give(actor=staff.actor(name), request=request, now=timezone.now())
            outcomes.append("ok")
        except Conflict as refused:
            outcomes.append(refused.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(n,)) for n in ("alex", "ana")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    approvals = list(Approval.objects.filter(decision__request=request))
    assert len(approvals) == outcomes.count("ok")
    assert len({a.approver_id for a in approvals}) == len(approvals)
    assert sorted(a.slot for a in approvals) == list(range(1, len(approvals) + 1))
    request.refresh_from_db()
    assert request.status == ("APPROVED" if len(approvals) == 2 else "DECIDED")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_same_approver_twice_at_the_same_moment_is_one_approval(chan):
    staff = make_staff()
    request = decided_full(submit(chan), staff)
    barrier = threading.Barrier(2)

    def approve() -> None:
        try:
            barrier.wait()
            reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
        except Conflict:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Approval.objects.filter(decision__request=request).count() == 1


# --- holds ------------------------------------------------------------------------------------


def cli_place_hold(*args: str) -> str:
    """``govreq hold add`` as pat, then ``govreq hold confirm`` as a second policy admin."""
    proposed = run("hold", "add", *args, "--as", "pat@platform.example")
    change_id = proposed.split()[3].rstrip(":")
    second = second_admin().user.email
    return run("hold", "confirm", change_id, "--as", second)


def test_request_after_hold_arrives_on_hold_and_nobody_can_decide(chan, staff, api_as):
    cli_place_hold(
        "--jurisdiction",
        "HK",
        "--from",
        "2020-06-30 23:00 Asia/Hong_Kong",
        "--reason",
        "National Security Law",
    )
    request = submit(chan)
    assert request.status == "ON_HOLD"
    assert request.status_before_hold == "RECEIVED"
    for name in ("rita", "raj", "alex", "ana", "hana", "pat", "aud", "ivy", "nobody", "root"):
        with pytest.raises((Conflict, PermissionDenied)):
            reviewing.decision_make(
                actor=staff.actor(name),
                request=request,
                outcome="FULL",
                rationale="x",
                now=timezone.now(),
            )
        with pytest.raises((Conflict, PermissionDenied)):
            reviewing.approval_give(actor=staff.actor(name), request=request, now=timezone.now())
    # The superuser holds every role, and is refused by the hold itself, with a clear message.
    with pytest.raises(Conflict, match="on hold") as error:
        reviewing.decision_make(
            actor=staff.actor("root"),
            request=request,
            outcome="FULL",
            rationale="x",
            now=timezone.now(),
        )
    assert error.value.code == "on_hold"
    response = api_as(staff.tokens["root"]).post(
        f"/staff/requests/{request.public_id}/decision", {"outcome": "FULL", "rationale": "x"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "on_hold"
    with pytest.raises(CommandError, match="on hold"):
        run(
            "request",
            "decide",
            request.reference,
            "--outcome",
            "FULL",
            "--as",
            "root@platform.example",
        )


def test_hold_moves_open_requests_and_lifting_restores_them(chan, staff, rivera):
    received = submit(chan)
    in_review = reviewed(submit(chan), staff)
    decided = decided_full(submit(chan), staff)
    american = submit(rivera)
    placed = hk_hold(staff)
    assert set(placed.put_on_hold) == {received.reference, in_review.reference, decided.reference}
    for request, before in ((received, "RECEIVED"), (in_review, "IN_REVIEW"), (decided, "DECIDED")):
        request.refresh_from_db()
        assert (request.status, request.status_before_hold) == ("ON_HOLD", before)
        assert request.check_outcome == "BLOCK"
    american.refresh_from_db()
    assert american.status == "RECEIVED"
    with pytest.raises(Conflict):
        reviewing.approval_give(actor=staff.actor("alex"), request=decided, now=timezone.now())
    lifted = hold_lift(
        actor=staff.actor("pat"), hold=placed.hold, reason="Due diligence done", now=timezone.now()
    )
    assert set(lifted.released) == set(placed.put_on_hold)
    for request, before in ((received, "RECEIVED"), (in_review, "IN_REVIEW"), (decided, "DECIDED")):
        request.refresh_from_db()
        assert (request.status, request.status_before_hold) == (before, "")
        assert CheckRun.objects.filter(request=request, trigger="HOLD_LIFTED").exists()
    reviewing.approval_give(actor=staff.actor("alex"), request=decided, now=timezone.now())


def test_lift_on_the_cli(chan, staff):
    out = cli_place_hold(
        "--jurisdiction", "HK", "--from", "2020-06-30T23:00+08:00", "--reason", "NSL"
    )
    assert "0 open request(s) put on hold" in out
    request = submit(chan)
    hold_id = out.split()[2]
    proposed = run("hold", "lift", hold_id, "--reason", "done", "--as", "pat@platform.example")
    assert request.reference in proposed  # the preview of what it releases
    request.refresh_from_db()
    assert request.status == "ON_HOLD"  # nothing happens before a second admin confirms
    change_id = proposed.split()[3].rstrip(":")
    with pytest.raises(CommandError, match="second policy admin"):
        run("hold", "confirm", change_id, "--as", "pat@platform.example")
    assert "1 request(s) returned" in run(
        "hold", "confirm", change_id, "--as", second_admin().user.email
    )
    request.refresh_from_db()
    assert request.status == "RECEIVED"
    assert "lifted" in run("hold", "list")


def test_a_request_held_by_two_holds_stays_until_both_lift(chan, staff):
    first = hk_hold(staff)
    second = hk_hold(staff, scope_offences=["FRAUD"])
    request = submit(chan)
    hold_lift(actor=staff.actor("pat"), hold=first.hold, reason="x", now=timezone.now())
    request.refresh_from_db()
    assert request.status == "ON_HOLD"
    hold_lift(actor=staff.actor("pat"), hold=second.hold, reason="x", now=timezone.now())
    request.refresh_from_db()
    assert request.status == "RECEIVED"


def test_hold_scope_by_legal_basis(chan, staff):
    hk_hold(staff, scope_legal_basis="National Security Law")
    ordinary = submit(chan)
    nsl = submit(chan, legal_basis="Implementation Rules for Article 43, National Security Law")
    assert ordinary.status == "RECEIVED"
    assert nsl.status == "ON_HOLD"


def test_emergency_exception_needs_the_human_rights_officer(chan, staff):
    hk_hold(staff, allow_emergency=True)
    request = submit(chan, document=False, **EMERGENCY)
    assert request.status == "RECEIVED"
    assert request.needs_human_rights_approval
    reviewed(request, staff)
    with pytest.raises(Conflict) as error:
        reviewing.decision_make(
            actor=staff.actor("rita"),
            request=request,
            outcome="FULL",
            rationale="Danger to life",
            now=timezone.now(),
        )
    assert error.value.code == "escalation_required"
    reviewing.request_escalate(
        actor=staff.actor("rita"), request=request, reason="Hold exception", now=timezone.now()
    )
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="Danger to life",
        now=timezone.now(),
    )
    with pytest.raises(Conflict) as unconfirmed:  # is this really the agency?
        reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    assert unconfirmed.value.code == "callback_required"
    confirm_by_call_back(request, staff)
    for name in ("alex", "ana"):
        reviewing.approval_give(actor=staff.actor(name), request=request, now=timezone.now())
    request.refresh_from_db()
    assert request.status == "DECIDED"  # two approvals are not enough
    with pytest.raises(PermissionDenied):
        reviewing.approval_give(actor=staff.actor("raj"), request=request, now=timezone.now())
    reviewing.approval_give(
        actor=staff.actor("hana"), request=request, assessment=HR_ASSESSMENT, now=timezone.now()
    )
    request.refresh_from_db()
    assert request.status == "APPROVED"
    kinds = sorted(
        Approval.objects.filter(decision__request=request).values_list("kind", flat=True)
    )
    assert kinds == ["HUMAN_RIGHTS", "STANDARD", "STANDARD"]


def test_hold_without_the_exception_holds_emergencies(chan, staff):
    hk_hold(staff)
    assert submit(chan, document=False, **EMERGENCY).status == "ON_HOLD"


def test_retroactive_hold_flags_approvals_since_it_started(chan, staff, platform):
    request = decided_full(submit(chan), staff)
    for name in ("alex", "ana"):
        reviewing.approval_give(actor=staff.actor(name), request=request, now=timezone.now())
    deliver(request, staff, chan)
    reviewing.request_close(
        actor=staff.actor("rita"), request=request, reason="Delivered", now=timezone.now()
    )
    placed = hk_hold(staff, effective_from=timezone.now() - timedelta(days=30))
    assert placed.flagged == [request.reference]
    assert HoldReReview.objects.filter(hold=placed.hold, request=request).exists()
    assert request.reference in run("hold", "show", str(placed.hold.pk))


def test_hold_refuses_bad_input(staff):
    with pytest.raises(Exception) as error:
        hold_place(
            actor=staff.actor("pat"),
            jurisdiction_code="ZZ",
            effective_from=timezone.now() + timedelta(days=1),
            effective_to=timezone.now(),
            reason="",
            scope_kinds=["NOPE"],
            now=timezone.now(),
        )
    fields = {e.field for e in error.value.errors}
    # A hold may start in the future (it starts by itself): tests/worker.
    assert {"jurisdiction", "effective_to", "reason", "scope_kinds"} <= fields


def test_holds_over_the_api(api_as, chan, staff):
    request = submit(chan)
    pat = api_as(staff.tokens["pat"])
    response = pat.post(
        "/staff/holds",
        {
            "jurisdiction": "HK",
            "effective_from": (timezone.now() - timedelta(hours=1)).isoformat(),
            "reason": "NSL",
            "reason_zh_hant": " 國安法 ",
            "allow_offences": ["HUMAN_TRAFFICKING"],
        },
    )
    assert response.status_code == 202, response.content
    assert response.json()["terms"]["reason_zh_hant"] == "國安法"
    assert response.json()["preview"]["would_hold"] == [request.reference]
    change_id = response.json()["id"]
    refused = pat.post(f"/staff/holds/changes/{change_id}/confirm", {})
    assert (refused.status_code, refused.json()["code"]) == (409, "four_eyes")
    confirmed = api_as(staff.tokens["root"]).post(f"/staff/holds/changes/{change_id}/confirm", {})
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["put_on_hold"] == [request.reference]
    hold_id = confirmed.json()["hold"]["id"]
    assert confirmed.json()["hold"]["reason_zh_hant"] == "國安法"
    placed = AuditEvent.objects.get(action="hold.placed", object_id=str(hold_id))
    assert placed.data["reason_zh_hant"] == "國安法"
    assert pat.get(f"/staff/holds/{hold_id}").json()["on_hold"][0]["reference"] == request.reference
    assert pat.get("/staff/holds").json()["count"] == 1
    case = pat.get(f"/staff/requests/{request.public_id}").json()
    assert case["holds"][0]["id"] == hold_id and not case["holds"][0]["excepted"]
    proposed = pat.post(f"/staff/holds/{hold_id}/lift", {"reason": "done"})
    assert proposed.status_code == 202
    assert proposed.json()["preview"]["would_release"] == [request.reference]
    assert pat.post(f"/staff/holds/{hold_id}/lift", {"reason": "again"}).status_code == 409
    lifted = api_as(staff.tokens["root"]).post(
        f"/staff/holds/changes/{proposed.json()['id']}/confirm", {}
    )
    assert lifted.json()["released"] == [request.reference]
    assert pat.post(f"/staff/holds/{hold_id}/lift", {"reason": "again"}).status_code == 409


# --- clarifications and escalation ------------------------------------------------------------


def test_clarification_round_trip(api_as, chan, chan_token, staff):
    request = reviewed(submit(chan), staff)
    staff_api = api_as(staff.tokens["rita"])
    asked = staff_api.post(
        f"/staff/requests/{request.public_id}/clarifications", {"question": "Which dates exactly?"}
    )
    assert asked.json()["status"] == "NEEDS_CLARIFICATION"
    question = asked.json()["clarifications"][0]
    officer = api_as(chan_token)
    seen = officer.get(f"/requests/{request.public_id}").json()
    assert seen["clarifications"][0]["question"] == "Which dates exactly?"
    answered = officer.post(
        f"/requests/{request.public_id}/clarifications/{question['id']}/answer",
        {"answer": "1 to 31 March only."},
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "IN_REVIEW"
    assert CheckRun.objects.filter(request=request, trigger="CLARIFICATION_ANSWERED").exists()
    again = officer.post(
        f"/requests/{request.public_id}/clarifications/{question['id']}/answer", {"answer": "again"}
    )
    assert again.status_code == 409


def test_other_agency_cannot_answer(api_as, chan, rivera_token, staff):
    request = reviewed(submit(chan), staff)
    clarification = reviewing.clarification_ask(
        actor=staff.actor("rita"), request=request, question="?", now=timezone.now()
    )
    response = api_as(rivera_token).post(
        f"/requests/{request.public_id}/clarifications/{clarification.pk}/answer", {"answer": "x"}
    )
    assert response.status_code == 404


def test_human_rights_risk_requires_escalation(chan, staff):
    request = reviewed(
        submit(
            chan,
            offence_category="PUBLIC_ORDER",
            narrative="Identify the organisers of the protest in Mong Kok.",
        ),
        staff,
    )
    assert request.needs_human_rights_approval
    with pytest.raises(Conflict, match="escalate"):
        reviewing.decision_make(
            actor=staff.actor("rita"),
            request=request,
            outcome="FULL",
            rationale="x",
            now=timezone.now(),
        )


def test_sending_a_decision_back_supersedes_it(chan, staff):
    request = decided_full(submit(chan), staff)
    reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    reviewing.request_return_to_review(
        actor=staff.actor("ana"), request=request, reason="Too broad", now=timezone.now()
    )
    request.refresh_from_db()
    assert request.status == "IN_REVIEW"
    assert request.decisions.get().superseded_at is not None
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="Narrowed",
        now=timezone.now(),
    )
    reviewing.approval_give(actor=staff.actor("alex"), request=request, now=timezone.now())
    request.refresh_from_db()
    assert request.status == "DECIDED"  # the old approval does not count


# --- policy -----------------------------------------------------------------------------------


def test_policy_change_is_versioned_audited_and_rechecks(api_as, chan, staff):
    request = submit(chan)
    pat = api_as(staff.tokens["pat"])
    current = pat.get("/staff/policy").json()
    document = current["document"]
    document["thresholds"]["max_accounts"] = 2
    response = pat.post("/staff/policy", {"document": document, "note": "Stricter"})
    assert response.status_code == 201, response.content
    assert response.json()["version"] == current["version"] + 1
    assert AuditEvent.objects.filter(action="policy.changed").count() == 1
    run_ = CheckRun.objects.filter(request=request).order_by("-id").first()
    assert run_.trigger == "POLICY_CHANGED"
    assert run_.results.get(code="OVERBROAD").outcome == "WARN"
    bad = pat.post("/staff/policy", {"document": {"thresholds": {"max_accounts": 0}}, "note": "x"})
    assert bad.status_code == 422
    assert "thresholds.max_accounts" in field_errors(bad)
    assert (
        api_as(staff.tokens["rita"])
        .post("/staff/policy", {"document": document, "note": "x"})
        .status_code
        == 403
    )


# --- roles ------------------------------------------------------------------------------------

MUTATIONS = [
    ("transitions", {"to": "IN_REVIEW"}, {"ivy", "rita", "raj", "root"}),
    ("assign", {"assignee": "rita@platform.example"}, {"ivy", "rita", "raj", "root"}),
    ("clarifications", {"question": "?"}, {"rita", "raj", "root"}),
    ("decision", {"outcome": "NO_DATA", "rationale": "none"}, {"rita", "raj", "root"}),
    ("approvals", {}, {"alex", "ana", "hana", "root"}),
    ("checks", None, {"ivy", "rita", "raj", "hana", "root"}),
]
ALL_STAFF = ["ivy", "rita", "raj", "alex", "ana", "hana", "pat", "aud", "nobody", "root"]


@pytest.mark.parametrize(("endpoint", "body", "allowed"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_every_wrong_role_is_refused(api_as, chan, chan_token, staff, endpoint, body, allowed):
    request = submit(chan)
    if endpoint == "decision":
        reviewed(request, staff)
    for name in ALL_STAFF:
        if name in allowed:
            continue
        before = AuditEvent.objects.count()
        response = api_as(staff.tokens[name]).post(
            f"/staff/requests/{request.public_id}/{endpoint}", body
        )
        assert response.status_code == 403, (name, response.content)
        assert response.json()["code"] in ("role_required", "permission_denied")
        assert AuditEvent.objects.count() == before
    officer = api_as(chan_token).post(f"/staff/requests/{request.public_id}/{endpoint}", body)
    assert officer.status_code == 403


@pytest.mark.parametrize("name", [n for n in ALL_STAFF if n != "pat"])
def test_only_policy_admins_place_holds(api_as, staff, name):
    response = api_as(staff.tokens[name]).post(
        "/staff/holds",
        {
            "jurisdiction": "HK",
            "effective_from": timezone.now().isoformat(),
            "reason": "x",
        },
    )
    expected = 202 if name == "root" else 403
    assert response.status_code == expected


def test_reads_need_a_role(api_as, chan, staff, chan_token):
    request = submit(chan)
    assert (
        api_as(staff.tokens["aud"]).get(f"/staff/requests/{request.public_id}").status_code == 200
    )
    assert api_as(staff.tokens["aud"]).get("/staff/requests").status_code == 200
    assert api_as(staff.tokens["nobody"]).get("/staff/requests").status_code == 403
    assert api_as(chan_token).get("/staff/requests").status_code == 403
    assert api_as(staff.tokens["aud"]).get("/staff/audit/verify").json()["ok"] is True
    assert api_as(staff.tokens["rita"]).get("/staff/audit/verify").status_code == 403


def test_queue_puts_emergencies_first_and_filters(api_as, chan, staff):
    ordinary = submit(chan, deadline_at=(timezone.now() + timedelta(days=2)).isoformat())
    emergency = submit(chan, document=False, **EMERGENCY)
    queue = api_as(staff.tokens["rita"]).get("/staff/requests").json()
    assert [i["reference"] for i in queue["items"]][:2] == [emergency.reference, ordinary.reference]
    assert queue["counts_by_status"]["RECEIVED"] == 2
    only = api_as(staff.tokens["rita"]).get("/staff/requests", kind="EMERGENCY").json()
    assert [i["reference"] for i in only["items"]] == [emergency.reference]
    mine = api_as(staff.tokens["rita"]).get("/staff/requests", assigned_to_me="true").json()
    assert mine["count"] == 0
    reviewed(ordinary, staff)
    mine = api_as(staff.tokens["rita"]).get("/staff/requests", assigned_to_me="true").json()
    assert [i["reference"] for i in mine["items"]] == [ordinary.reference]


def test_unverified_agency_blocks(db, staff):
    from govreq.agencies.services import officer_add
    from tests.conftest import SYSTEM, make_agency

    agency = make_agency("DoJ HK", "HK", "doj.gov.hk", verified=False)
    officer = officer_add(
        actor=SYSTEM, agency=agency, email="pp@doj.gov.hk", name="PP", now=timezone.now()
    )
    request = submit(officer)
    assert request.check_outcome == "BLOCK"
    assert LegalRequest.objects.get(pk=request.pk).status == "RECEIVED"
