"""The decision panel: only the chosen outcome's fields, only what the rules allow now (and why
not the rest), nothing typed lost on a refusal, approvals with who, when and their note."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.console.test_console import signed_in, staff  # noqa: F401 (fixture)
from tests.hold_helpers import hold_place
from tests.review_helpers import submit

pytestmark = pytest.mark.django_db


def case_url(request, tail: str = "") -> str:
    return f"/console/requests/{request.public_id}{tail}"


def test_a_refused_decision_keeps_what_was_typed(staff, chan):  # noqa: F811
    request = submit(chan)
    rita = signed_in(staff, "rita")
    rita.post(case_url(request, "/start_review"))
    hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now() - timedelta(hours=1),
        reason="National Security Law due diligence",
        now=timezone.now(),
    )
    typed = "Two paragraphs of careful reasoning the reviewer must not lose."
    response = rita.post(
        case_url(request, "/decide"),
        {"outcome": "REJECTED", "rejection_reasons": ["OTHER"], "rationale": typed},
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert typed in page.split('data-testid="decide-form"')[1]
    # The outcome's own field came back ticked.
    assert 'value="OTHER"' in page and "checked" in page.split('value="OTHER"')[1][:40]
    request.refresh_from_db()
    assert request.status == "ON_HOLD" and not request.decisions.exists()


def test_only_the_chosen_outcomes_fields(staff, chan):  # noqa: F811
    request = submit(chan)
    rita = signed_in(staff, "rita")
    rita.post(case_url(request, "/start_review"))
    form = rita.get(case_url(request)).content.decode().split('data-testid="decide-form"')[1]
    form = form.split("</form>")[0]
    assert 'name="rationale"' in form and 'hx-get="' in form
    assert 'name="rejection_reasons"' not in form and 'name="approved_categories"' not in form
    fields = case_url(request, "/decision-fields")
    partial = rita.get(fields, {"outcome": "PARTIAL", "approved_categories": "IP_LOGS"})
    html = partial.content.decode()
    assert 'name="approved_categories"' in html and 'name="rejection_reasons"' not in html
    assert "checked" in html.split('value="IP_LOGS"')[1][:40]
    assert "checked" not in html.split('value="BASIC_SUBSCRIBER"')[1][:40]
    rejected = rita.get(fields, {"outcome": "REJECTED"}).content.decode()
    assert 'name="rejection_reasons"' in rejected and "approved_" not in rejected
    assert rita.get(fields, {"outcome": "NO_DATA"}).content.decode().strip() == ""
    wrong = rita.get(fields, {"outcome": "PRESERVE"})  # not for a court order
    assert wrong.status_code == 422 and "Outcome" in wrong.content.decode()


def test_disclosure_is_offered_only_when_the_rules_allow_it(staff, chan):  # noqa: F811
    request = submit(chan, offence_category="NATIONAL_SECURITY")
    assert request.needs_human_rights_approval
    rita = signed_in(staff, "rita")
    rita.post(case_url(request, "/start_review"))
    page = rita.get(case_url(request)).content.decode()
    select = page.split('name="outcome"')[1].split("</select>")[0]
    assert 'value="FULL"' not in select and 'value="REJECTED"' in select
    assert 'data-testid="disclosure-refused"' in page and "escalation" in page
    # A forged post of a disclosing outcome is refused by the form (the service would too).
    forged = rita.post(case_url(request, "/decide"), {"outcome": "FULL", "rationale": "x"})
    assert forged.status_code == 422
    rita.post(case_url(request, "/escalate"), {"reason": "Possible political case"})
    page = rita.get(case_url(request)).content.decode()
    assert 'value="FULL"' in page.split('name="outcome"')[1].split("</select>")[0]
    assert 'data-testid="disclosure-refused"' not in page


def test_actions_not_offered_say_why_and_approvals_show_who_when_and_note(staff, chan):  # noqa: F811
    request = submit(chan)
    rita = signed_in(staff, "rita")
    rita.post(case_url(request, "/start_review"))
    rita.post(case_url(request, "/decide"), {"outcome": "FULL", "rationale": "Valid"})
    mine = rita.get(case_url(request)).content.decode()
    assert "Only an approver or the human-rights officer approves." in mine
    alex = signed_in(staff, "alex")
    assert (
        alex.post(case_url(request, "/approve"), {"note": "Checked the order's seal"}).status_code
        == 302
    )
    page = alex.get(case_url(request)).content.decode()
    assert "You have approved this decision already." in page
    approval = page.split('data-testid="approval"')[1].split("</li>")[0]
    assert (
        "Alex (alex@platform.example)" in approval and "Checked the order&#x27;s seal" in approval
    )
