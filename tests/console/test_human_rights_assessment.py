"""The human-rights officer's approval is a structured assessment (risk found, standards
applied, conclusion, conditions), required by the service, stored with the approval, and shown
to everyone who reviews the request later."""

from __future__ import annotations

import pytest
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.core.errors import ValidationFailed
from govreq.lifecycle import reviewing
from govreq.review.models import Approval, HumanRightsAssessment
from tests.console.test_console import signed_in, staff  # noqa: F401 (fixture)
from tests.review_helpers import HR_ASSESSMENT, submit

pytestmark = pytest.mark.django_db


def decided_needing_hr(staff, chan):  # noqa: F811
    request = submit(chan, offence_category="NATIONAL_SECURITY")
    rita = staff.actor("rita")
    reviewing.request_start_review(actor=rita, request=request, now=timezone.now())
    reviewing.request_escalate(actor=rita, request=request, reason="Political", now=timezone.now())
    reviewing.decision_make(
        actor=rita, request=request, outcome="FULL", rationale="Narrow", now=timezone.now()
    )
    request.refresh_from_db()
    assert request.status == "DECIDED" and request.needs_human_rights_approval
    return request


def test_the_service_requires_a_complete_assessment(staff, chan):  # noqa: F811
    request = decided_needing_hr(staff, chan)
    hana = staff.actor("hana")
    with pytest.raises(ValidationFailed) as missing:
        reviewing.approval_give(actor=hana, request=request, now=timezone.now())
    assert {e.field for e in missing.value.errors} == {
        "assessment.risk_found",
        "assessment.standards_applied",
        "assessment.conclusion",
    }
    mitigated = {**HR_ASSESSMENT, "conclusion": "RISK_MITIGATED", "conditions": " "}
    with pytest.raises(ValidationFailed) as no_conditions:
        reviewing.approval_give(
            actor=hana, request=request, assessment=mitigated, now=timezone.now()
        )
    assert [e.field for e in no_conditions.value.errors] == ["assessment.conditions"]
    # A standard approval carries none.
    with pytest.raises(ValidationFailed):
        reviewing.approval_give(
            actor=staff.actor("alex"), request=request, assessment=HR_ASSESSMENT, now=timezone.now()
        )
    assert not Approval.objects.exists()
    approval = reviewing.approval_give(
        actor=hana, request=request, assessment=HR_ASSESSMENT, now=timezone.now()
    )
    stored = HumanRightsAssessment.objects.get(approval=approval)
    assert stored.risk_found == HR_ASSESSMENT["risk_found"]
    event = AuditEvent.objects.get(action="approval.given")
    assert event.data["assessment"]["conclusion"] == "NO_SIGNIFICANT_RISK"


def test_the_officer_fills_it_in_the_console_and_later_reviewers_read_it(staff, chan):  # noqa: F811
    request = decided_needing_hr(staff, chan)
    hana = signed_in(staff, "hana")
    page = hana.get(f"/console/requests/{request.public_id}").content.decode()
    assert 'data-testid="assessment-form"' in page
    # Refused without the assessment: the note typed stays, each missing part is named.
    refused = hana.post(
        f"/console/requests/{request.public_id}/approve",
        {"note": "Weighed carefully", "conclusion": "RISK_MITIGATED"},
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Weighed carefully" in html
    assert html.count("Required for the human-rights approval.") == 2
    assert "A risk accepted under conditions needs them." in html
    done = hana.post(
        f"/console/requests/{request.public_id}/approve",
        {
            "note": "Weighed carefully",
            "risk_found": "The account may belong to a protest organiser.",
            "standards_applied": "UNGP principle 17; ICCPR article 19.",
            "conclusion": "RISK_MITIGATED",
            "conditions": "Subscriber data only; no content, no location.",
        },
    )
    assert done.status_code == 302
    later = signed_in(staff, "alex").get(f"/console/requests/{request.public_id}").content.decode()
    shown = later.split('data-testid="assessment"')[1].split("</dl>")[0]
    assert "protest organiser" in shown and "ICCPR article 19" in shown
    assert "Risk acceptable under the conditions stated" in shown
    assert "Subscriber data only" in shown
    assert 'data-testid="assessment-form"' not in later  # alex is no human-rights officer
