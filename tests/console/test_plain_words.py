"""The console in plain words: no stored code where a person reads, audit events as sentences
with links, a date filter and a CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

import govreq
from govreq.accounts.models import StaffRole
from govreq.agencies import models as agencies
from govreq.audit.models import AuditEvent
from govreq.console.labels import AUDIT_VERBS, CHECK_ADVICE, CHECK_NAMES, LABELS
from govreq.disclosure import models as disclosure
from govreq.holds import models as holds
from govreq.intake import models as intake
from govreq.notices import models as notices
from govreq.review import models as review
from govreq.review.checks import CHECKS
from tests.console.test_console import signed_in, staff  # noqa: F401 (fixture)
from tests.review_helpers import submit

pytestmark = pytest.mark.django_db

SOURCES = {
    "kind": intake.RequestKind,
    "offence": intake.OffenceCategory,
    "category": intake.DataCategory,
    "status": intake.RequestStatus,
    "channel": intake.Channel,
    "target": intake.TargetType,
    "outcome": review.CheckOutcome,
    "trigger": review.CheckTrigger,
    "decision": review.DecisionOutcome,
    "rejection": review.RejectionReason,
    "approval": review.ApprovalKind,
    "assessment": review.AssessmentConclusion,
    "call_back": review.CallBackOutcome,
    "agency_kind": agencies.AgencyKind,
    "agency_status": agencies.AgencyStatus,
    "officer_status": agencies.OfficerStatus,
    "access": agencies.AccessRequestStatus,
    "contact": agencies.ContactKind,
    "fraud": agencies.FraudFlagKind,
    "purpose": disclosure.ProductionPurpose,
    "production": disclosure.ProductionStatus,
    "re_review": holds.ReReviewResolution,
    "hold_change": holds.HoldChangeKind,
    "hold_change_state": holds.HoldChangeState,
    "notice": notices.NoticeStatus,
    "delay": notices.DelayReason,
    "extension": notices.ExtensionStatus,
    "role": StaffRole,
}
ALL_CODES = sorted({code for choices in SOURCES.values() for code in choices.values})


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def raw_codes_in(html: str) -> set[str]:
    text = visible_text(html)
    # MLAT is an acronym a label uses ("MLAT / letters rogatory"), not a code.
    codes = [c for c in ALL_CODES if len(c) > 3 and c != "MLAT"]
    return {c for c in codes if re.search(rf"\b{c}\b", text)}


@pytest.mark.parametrize("group", sorted(SOURCES))
def test_every_choice_has_a_label(group):
    assert set(SOURCES[group].values) <= set(LABELS[group])


def test_every_check_has_a_name_and_advice():
    source = Path(govreq.__file__).parent / "review" / "checks.py"
    codes = set(re.findall(r'^    code = "([A-Z_]+)"', source.read_text("utf-8"), re.M))
    assert len(codes) == len(CHECKS)
    assert codes == set(CHECK_NAMES) == set(CHECK_ADVICE)


def test_every_recorded_audit_action_has_words():
    source = Path(govreq.__file__).parent
    recorded = {
        action
        for path in source.rglob("*.py")
        for action in re.findall(r'action="([a-z_]+\.[a-z_.]+)"', path.read_text("utf-8"))
    }
    assert recorded and recorded <= set(AUDIT_VERBS), recorded - set(AUDIT_VERBS)


def test_the_case_page_shows_labels_not_codes(staff, chan):  # noqa: F811
    request = submit(chan)
    rita = signed_in(staff, "rita")
    rita.post(f"/console/requests/{request.public_id}/start_review")
    page = rita.get(f"/console/requests/{request.public_id}").content.decode()
    assert raw_codes_in(page) == set(), raw_codes_in(page)
    assert "In review" in visible_text(page) and "Basic subscriber information" in page
    # Each check reads as a statement with a yes/no answer, grouped by outcome.
    assert "Agency verified: yes" in page
    assert 'data-testid="check-group"' in page
    assert (
        rita.post(
            f"/console/requests/{request.public_id}/decide",
            {"outcome": "FULL", "rationale": "Valid and narrow"},
        ).status_code
        == 302
    )
    page = signed_in(staff, "alex").get(f"/console/requests/{request.public_id}").content.decode()
    assert raw_codes_in(page) == set(), raw_codes_in(page)
    assert "Still needed: Approval, Approval" in visible_text(page)
    assert "Disclose in full" in visible_text(page)


def test_the_queue_counts_statuses_in_words(staff, chan):  # noqa: F811
    submit(chan)
    page = signed_in(staff, "rita").get("/console/").content.decode()
    assert raw_codes_in(page) == set(), raw_codes_in(page)
    assert "Received: 1" in visible_text(page)


def test_audit_events_are_sentences_with_links_filtered_by_date_and_exported(staff, chan):  # noqa: F811
    request = submit(chan)
    aud = signed_in(staff, "aud")
    page = aud.get("/console/audit", {"object_id": str(request.public_id)}).content.decode()
    link = f'<a href="/console/requests/{request.public_id}">request {request.reference}</a>'
    assert f"received {link}" in page
    assert "{" not in visible_text(page).split("Recorded data")[0].split("What happened")[1]
    # The case page links to its own trail for those who may read it.
    case = aud.get(f"/console/requests/{request.public_id}").content.decode()
    assert f"/console/audit?object_id={request.public_id}" in case
    # Dates: yesterday excludes today's events; today includes them; a reversed range is a 422.
    today = timezone.localdate()
    before = aud.get("/console/audit", {"until": (today - timedelta(days=1)).isoformat()})
    assert 'data-testid="audit-event"' not in before.content.decode()
    during = aud.get("/console/audit", {"since": today.isoformat(), "until": today.isoformat()})
    assert f"received {link}" in during.content.decode()
    wrong = aud.get("/console/audit", {"since": today.isoformat(), "until": "2000-01-01"})
    assert wrong.status_code == 422 and "The end date comes before" in wrong.content.decode()
    # CSV: the filtered events as sentences, and the export is itself recorded.
    exported = aud.get("/console/audit", {"object_id": str(request.public_id), "format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][2] == "Event" and len(rows) > 2
    assert all(row[6] == str(request.public_id) for row in rows[1:])
    assert any(row[2].endswith(f"received request {request.reference}") for row in rows[1:])
    assert AuditEvent.objects.filter(action="audit.exported").count() == 1
