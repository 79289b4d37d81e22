"""The second-level check of an emergency, in a real Chromium (issue 11).

A Metropolitan Police officer sends an emergency through the portal. The reviewer decides to
disclose; an approver finds the approval refused until the agency is called back; the reviewer
calls the Met's switchboard (a number from the government directory, never from the request),
records that the duty inspector confirmed it, and the two approvals go through.

Runs after the five journeys of issue 4 (file order), on the same server; it uses the UK,
which their hold on the US does not cover.
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import LiveServer, shot, staff_sign_in
from tests.browser.test_journeys import read_code, sign_in_codes

OFFICER = "dc.patel@met.police.uk"


def test_an_emergency_is_approved_only_after_a_confirmed_call_back(
    govreq_server: LiveServer, new_page: Any
) -> None:
    officer = new_page()
    officer.goto(f"{govreq_server.url}/portal/sign-in")
    officer.get_by_label("Official e-mail address").fill(OFFICER)
    before = len(sign_in_codes(govreq_server, OFFICER))
    officer.get_by_role("button").filter(has_text=re.compile("code", re.I)).first.click()
    officer.wait_for_url(re.compile(r"/portal/sign-in/code"))
    officer.get_by_label("Sign-in code").fill(read_code(govreq_server, OFFICER, after=before))
    officer.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    officer.wait_for_url(re.compile(r"/portal/$"))
    officer.goto(f"{govreq_server.url}/portal/new")
    officer.locator("[name=kind]").select_option("EMERGENCY")
    officer.locator("[name=offence_category]").select_option("VIOLENT_CRIME")
    officer.locator("[name=narrative]").fill("Kidnapping in progress; the captors use the account.")
    officer.locator("[name=data_categories][value=BASIC_SUBSCRIBER]").check()
    officer.locator("[name=data_categories][value=LOCATION]").check()
    officer.locator("[name=targets]").fill("@captor_account")
    officer.locator("[name=emergency_danger]").fill(
        "A child was kidnapped this morning and the captors threaten to kill her."
    )
    officer.locator("[name=emergency_why_now]").fill(
        "The captors set a deadline of tonight; a court order takes days."
    )
    officer.locator("form button[type=submit]").filter(
        has_text=re.compile("Review|Continue", re.I)
    ).first.click()
    officer.wait_for_url(re.compile(r"/portal/new/review"))
    officer.get_by_role("button", name=re.compile("Send", re.I)).click()
    officer.wait_for_url(re.compile(r"/portal/new/sent/"))
    reference = officer.get_by_test_id("reference").inner_text().strip()

    reviewer = new_page()
    staff_sign_in(govreq_server, reviewer, "reviewer@platform.example", "6-reviewer")
    reviewer.goto(f"{govreq_server.url}/console/?jurisdiction=GB")
    reviewer.get_by_role("link", name=reference).click()
    reviewer.get_by_test_id("start-review").click()
    trust = reviewer.get_by_test_id("trust")
    assert "Agency confidence" in trust.inner_text()
    assert "+442055500101" in reviewer.get_by_test_id("verified-contacts").inner_text()
    assert (
        "cannot be approved until the agency confirms"
        in reviewer.get_by_test_id("call-backs").inner_text()
    )
    form = reviewer.get_by_test_id("decide-form")
    form.locator("[name=outcome]").select_option("FULL")
    form.locator("[name=rationale]").fill("Imminent danger to life; narrowly drawn.")
    reviewer.get_by_test_id("decide").click()
    assert reviewer.get_by_test_id("status").inner_text().strip() == "Decided, awaiting approval"
    case_url = reviewer.url

    approver = new_page()
    staff_sign_in(govreq_server, approver, "approver@platform.example", "6-approver")
    approver.goto(case_url)
    approver.get_by_test_id("approve").click()
    assert "call the agency back" in approver.content()
    shot(approver, "6-approval-refused-no-call-back")

    reviewer.goto(case_url)
    call = reviewer.get_by_test_id("call-back-form")
    call.locator("[name=outcome]").select_option("CONFIRMED")
    call.locator("[name=person_reached]").fill("Duty inspector, Met command and control")
    call.locator("[name=notes]").fill("Confirmed the request and DC Patel's identity.")
    shot(reviewer, "6-call-back-form")
    reviewer.get_by_test_id("call-back-submit").click()
    calls = reviewer.get_by_test_id("call-backs").inner_text()
    assert "Confirmed: the agency sent this request" in calls
    shot(reviewer, "6-call-back-recorded")

    for number, email in enumerate(("approver@platform.example", "approver2@platform.example")):
        page = approver if number == 0 else new_page()
        if number:
            staff_sign_in(govreq_server, page, email, "6-approver2")
        page.goto(case_url)
        # A plain form post: wait for its redirect before the next approver looks,
        # or a reload can land while the post is still in flight.
        with page.expect_navigation():
            page.get_by_test_id("approve").click()
    assert page.get_by_test_id("status").inner_text().strip() == "Approved"
    shot(page, "6-approved-after-call-back")
