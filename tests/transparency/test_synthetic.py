"""The synthetic history: coherent rows, the real mix, and the SQL counting checked against a
plain per-request reading of the same rows (an independent oracle)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.audit.selectors import audit_chain_verify
from govreq.core.errors import Conflict, ValidationFailed
from govreq.demo.loader import HK_HOLD_AT
from govreq.demo.synthetic import synthetic_generate
from govreq.intake.models import LegalRequest, StatusChange, Target
from govreq.review.models import Approval, Decision
from govreq.transparency.counting import report_compute
from govreq.transparency.periods import Period, parse_period

pytestmark = pytest.mark.django_db
N = 1500


@pytest.fixture
def synthetic() -> Any:
    return synthetic_generate(count=N, seed=7, now=timezone.now(), batch_size=400)


def oracle(period: Period, bands: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The report's headline numbers computed the slow, obvious way: one request at a time."""
    cutoff = min(period.end, timezone.now())
    history: dict[int, list[StatusChange]] = defaultdict(list)
    for change in StatusChange.objects.filter(occurred_at__lt=cutoff).order_by("occurred_at", "id"):
        history[change.request_id].append(change)
    decisions: dict[int, Decision] = {}
    for decision in Decision.objects.filter(decided_at__lt=cutoff).order_by("decided_at", "id"):
        if decision.superseded_at is None or decision.superseded_at >= cutoff:
            decisions[decision.request_id] = decision
    targets = Counter(
        Target.objects.values_list("request_id", flat=True).order_by()  # one row per target
    )
    result: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "requests": 0,
            "accounts": 0,
            "produced": 0,
            "preservation": 0,
            "outcomes": Counter(),
        }
    )
    for request in LegalRequest.objects.filter(
        received_at__gte=period.start, received_at__lt=cutoff
    ):
        code = request.jurisdiction_id
        if code in bands and request.offence_category == "NATIONAL_SECURITY":
            continue
        entry = result[code]
        if request.kind == "PRESERVATION":
            entry["preservation"] += 1
            continue
        changes = history.get(request.pk, [])
        status = changes[-1].to_status if changes else "RECEIVED"
        decision = decisions.get(request.pk)
        outcome = decision.outcome if decision else ""
        if status == "WITHDRAWN":
            label = "WITHDRAWN"
        elif status == "REJECTED":
            label = "REJECTED"
        elif outcome in ("FULL", "PARTIAL") and any(c.to_status == "DELIVERED" for c in changes):
            label = outcome  # data produced means delivered
        elif status == "CLOSED":
            label = "NO_DATA"
        else:
            label = "PENDING"
        entry["requests"] += 1
        entry["accounts"] += targets[request.pk]
        entry["produced"] += label in ("FULL", "PARTIAL")
        entry["outcomes"][label] += 1
    return result


@pytest.mark.parametrize("label", ["2020-H2", "2021-H2", "2020"])
def test_sql_counting_matches_the_oracle(synthetic, label):
    period = parse_period(label)
    body = report_compute(period=period, now=timezone.now())
    expected = oracle(period, body["national_security_bands"])
    got = {
        entry["code"]: {
            "requests": entry["requests"],
            "accounts": entry["accounts"],
            "produced": entry["data_produced"],
            "preservation": entry["preservation"]["requests"],
            "outcomes": Counter({k: v for k, v in entry["outcomes"].items() if v}),
        }
        for entry in body["jurisdictions"]
    }
    # A jurisdiction without requests is listed only for its hold.
    listed_for_hold = {e["code"] for e in body["jurisdictions"] if e["holds"]}
    empty = {code for code, v in got.items() if not v["requests"] and not v["preservation"]}
    assert empty <= listed_for_hold
    got = {code: values for code, values in got.items() if code not in empty}
    assert got == {code: dict(values) for code, values in expected.items()}
    assert body["total"]["requests"] == sum(v["requests"] for v in expected.values())


def test_the_history_is_coherent_and_follows_the_mix(synthetic):
    assert synthetic.requests == N
    assert LegalRequest.objects.count() == N
    assert Target.objects.count() == synthetic.targets >= N
    assert StatusChange.objects.count() == synthetic.status_changes
    assert Decision.objects.count() == synthetic.decisions
    assert Approval.objects.count() == synthetic.approvals
    # Every request's current status is the last one in its history.
    last = {}
    for change in StatusChange.objects.order_by("occurred_at", "id"):
        last[change.request_id] = change.to_status
    assert all(last[r.pk] == r.status for r in LegalRequest.objects.all())
    # Every produced request has its approvals: two standard, plus the HR officer's if needed.
    for decision in Decision.objects.filter(
        superseded_at__isnull=True, outcome__in=["FULL", "PARTIAL"], request__status="CLOSED"
    ).prefetch_related("approvals"):
        kinds = sorted(a.kind for a in decision.approvals.all())
        expected = ["STANDARD", "STANDARD"]
        if decision.requires_human_rights_approval:
            expected = ["HUMAN_RIGHTS", *expected]
        assert kinds == expected
    by_country = Counter(LegalRequest.objects.values_list("jurisdiction_id", flat=True))
    assert by_country.most_common(1)[0][0] == "US"  # as in Meta's numbers
    assert by_country["US"] > by_country["IN"] > by_country["GB"]


def test_hong_kong_after_the_hold_produces_only_through_exceptions(db):
    synthetic_generate(count=600, seed=3, now=timezone.now(), jurisdictions=frozenset({"HK"}))
    assert set(LegalRequest.objects.values_list("jurisdiction_id", flat=True)) == {"HK"}
    after = LegalRequest.objects.filter(jurisdiction_id="HK", received_at__gte=HK_HOLD_AT)
    assert after.exists()
    produced = after.filter(
        status__in=["APPROVED", "PRODUCED", "DELIVERED", "CLOSED"], decisions__outcome="FULL"
    )
    assert all(r.needs_human_rights_approval for r in produced)
    assert all(r.kind == "EMERGENCY" or r.offence_category == "HUMAN_TRAFFICKING" for r in produced)
    assert produced.exists()
    assert after.filter(status="ON_HOLD").count() > produced.count()
    before = LegalRequest.objects.filter(jurisdiction_id="HK", received_at__lt=HK_HOLD_AT)
    assert before.filter(status="CLOSED", needs_human_rights_approval=False).exists()
    with pytest.raises(ValidationFailed, match="the mix has only"):
        synthetic_generate(count=1, seed=1, now=timezone.now(), jurisdictions=frozenset({"ZZ"}))


def test_refuses_a_database_with_requests_unless_appending(synthetic):
    with pytest.raises(Conflict, match="use --append"):
        synthetic_generate(count=10, seed=1, now=timezone.now())
    synthetic_generate(count=10, seed=1, now=timezone.now(), append=True)
    assert LegalRequest.objects.count() == N + 10
    assert len(set(LegalRequest.objects.values_list("reference", flat=True))) == N + 10


def test_the_audit_chain_records_the_run_and_stays_valid(synthetic):
    event = AuditEvent.objects.get(action="synthetic.generated")
    assert event.data["requests"] == N and event.data["seed"] == 7
    assert audit_chain_verify().ok


def test_refused_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(Conflict, match="production"):
        synthetic_generate(count=10, seed=1, now=timezone.now())


def test_command_shows_progress_on_stderr(db):
    out, err = StringIO(), StringIO()
    call_command("synthetic", "300", "--batch-size", "100", stdout=out, stderr=err)
    assert "Added 300 synthetic requests" in out.getvalue()
    lines = err.getvalue().strip().splitlines()
    assert lines[-1].startswith("[" + "#" * 30 + "] 100.0% 300/300 requests")
    with pytest.raises(CommandError, match="use --append"):
        call_command("synthetic", "5", "--quiet", stdout=StringIO(), stderr=StringIO())


def test_generated_rows_read_back_as_django_would_write_them(synthetic):
    """Raw inserts must store datetimes, UUIDs and JSON exactly as the ORM does."""
    request = LegalRequest.objects.order_by("pk").first()
    assert request is not None
    assert isinstance(request.received_at, datetime) and request.received_at.tzinfo is not None
    assert LegalRequest.objects.get(public_id=request.public_id) == request
    assert isinstance(request.data_categories, list) and request.data_categories
    assert LegalRequest.objects.filter(pk=request.pk, received_at=request.received_at).exists()
