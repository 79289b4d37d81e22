"""The five journeys of issue 4, in order, in one real Chromium against one live server.

1. An FBI officer signs in with the e-mailed code and submits a request with a PDF; the
   narrative carries a script tag. 2. A reviewer signs in with password and TOTP, finds it in
   the queue, reads the checks, decides FULL. 3. Two approvers approve; the officer sees the
   outcome. 4. A policy admin proposes a hold on the officer's jurisdiction and a second one
   confirms it; the case shows the banner and no approve button, and a direct POST of the
   approve form is refused.
   5. The script tag rendered as text everywhere.
"""

from __future__ import annotations

import email
import re
import time
from pathlib import Path
from typing import Any

import pytest

from govreq.demo.pdf import tiny_pdf
from govreq.disclosure.verify import verify_path
from tests.browser.conftest import LiveServer, pdf_drawn, shot, staff_sign_in

OFFICER = "j.rivera@fbi.gov"
XSS = "<script>window.__pwned = 1</script><b>bold?</b>"
NARRATIVE = f"Ransomware negotiation conducted through the account. {XSS}"


def sign_in_codes(server: LiveServer, address: str) -> list[str]:
    """The sign-in codes mailed to ``address`` so far, oldest first."""
    codes = []
    for text in server.mail_to(address):
        parsed = email.message_from_string(text)
        if "sign-in code" not in str(parsed.get("Subject", "")):
            continue
        parts = parsed.walk() if parsed.is_multipart() else [parsed]
        for part in parts:
            if part.get_content_type() == "text/plain":
                body = part.get_payload(decode=True).decode()
                match = re.search(r"^\s+(\d{8})\s*$", body, re.MULTILINE)
                if match:
                    codes.append(match.group(1))
    return codes


def read_code(server: LiveServer, address: str, *, after: int) -> str:
    """The next code mailed to ``address`` (the worker sends it a moment after the request)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        codes = sign_in_codes(server, address)
        if len(codes) > after:
            return codes[-1]
        time.sleep(0.2)
    raise AssertionError("no sign-in e-mail arrived")


def officer_sign_in(server: LiveServer, page: Any) -> None:
    # The journeys sign the one demo officer in more often than the hourly code limit allows:
    # the operator lifts the limit first, as `govreq portal unlock` is there to do.
    server.govreq("portal", "unlock", OFFICER)
    page.goto(f"{server.url}/portal/sign-in")
    page.get_by_label("Official e-mail address").fill(OFFICER)
    before = len(sign_in_codes(server, OFFICER))
    page.get_by_role("button").filter(has_text=re.compile("code", re.I)).first.click()
    page.wait_for_url(re.compile(r"/portal/sign-in/code"))
    shot(page, "1-officer-code-sent")
    page.get_by_label("Sign-in code").fill(read_code(server, OFFICER, after=before))
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.wait_for_url(re.compile(r"/portal/$"))


def test_1_officer_signs_in_with_emailed_code_and_submits_with_a_pdf(
    govreq_server: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    page = new_page()
    officer_sign_in(govreq_server, page)
    shot(page, "1-officer-signed-in")
    page.goto(f"{govreq_server.url}/portal/new")
    page.locator("[name=kind]").select_option("COURT_ORDER")
    page.locator("[name=legal_basis]").fill("18 U.S.C. 2703(d)")
    page.locator("[name=issuing_authority]").fill("U.S. Magistrate Judge, N.D. Cal.")
    page.locator("[name=agency_case_number]").fill("SF-2026-0042")
    page.locator("[name=offence_category]").select_option("CYBERCRIME")
    page.locator("[name=narrative]").fill(NARRATIVE)
    page.locator("[name=data_categories][value=BASIC_SUBSCRIBER]").check()
    page.locator("[name=data_categories][value=IP_LOGS]").check()
    page.locator("[name=targets]").fill("EMAIL: negotiator@example.com\n@ransom_chat")
    pdf = tmp_path / "order-2703d.pdf"
    pdf.write_bytes(tiny_pdf(["Order under 18 U.S.C. 2703(d)", "Case SF-2026-0042"]))
    page.locator("input[type=file][name=documents]").set_input_files(str(pdf))
    shot(page, "1-officer-form")
    page.locator("form button[type=submit]").filter(
        has_text=re.compile("Review|Continue", re.I)
    ).first.click()
    page.wait_for_url(re.compile(r"/portal/new/review"))
    assert (
        XSS in page.content().replace("&lt;", "<").replace("&gt;", ">")
        or page.get_by_text(XSS).count()
    )
    shot(page, "1-officer-review")
    page.get_by_role("button", name=re.compile("Send", re.I)).click()
    page.wait_for_url(re.compile(r"/portal/new/sent/"))
    reference = page.get_by_test_id("reference").inner_text().strip()
    assert re.fullmatch(r"GR-\d{4}-\d{6}", reference)
    shot(page, "1-officer-sent")
    govreq_server.state["reference"] = reference
    govreq_server.state["officer_page"] = page.url


def open_case(server: LiveServer, page: Any) -> None:
    page.goto(f"{server.url}/console/?jurisdiction=US")
    page.get_by_role("link", name=server.state["reference"]).click()
    page.get_by_test_id("reference").wait_for()


def test_2_reviewer_finds_it_reads_the_checks_and_decides_full(
    govreq_server: LiveServer, new_page: Any
) -> None:
    page = new_page()
    staff_sign_in(govreq_server, page, "reviewer@platform.example", "2-reviewer")
    shot(page, "2-reviewer-queue")
    open_case(govreq_server, page)
    # The order is drawn in the page by the vendored PDF.js (no browser PDF viewer needed).
    drawn = pdf_drawn(page)
    assert drawn > 200, drawn  # the text's dark pixels, not a blank page
    assert page.get_by_test_id("pdf-page").first.get_attribute("aria-label") == "Page 1 of 1"
    page.get_by_test_id("start-review").click()
    checks = page.get_by_test_id("checks").inner_text()
    assert "Legal process strong enough for the data asked: yes" in checks
    assert "Legal document attached: yes" in checks
    assert "Blocks disclosure" not in checks
    shot(page, "2-reviewer-case")
    form = page.get_by_test_id("decide-form")
    form.locator("[name=outcome]").select_option("FULL")
    form.locator("[name=rationale]").fill("Valid 2703(d) order, narrowly drawn.")
    page.get_by_test_id("decide").click()
    assert page.get_by_test_id("status").inner_text().strip() == "Decided, awaiting approval"
    shot(page, "2-reviewer-decided")


def test_3_two_approvers_approve_and_the_officer_sees_the_outcome(
    govreq_server: LiveServer, new_page: Any
) -> None:
    for number, approver in enumerate(("approver@platform.example", "approver2@platform.example")):
        page = new_page()
        staff_sign_in(govreq_server, page, approver, f"3-approver{number + 1}")
        open_case(govreq_server, page)
        page.get_by_test_id("approve").click()
        shot(page, f"3-approver{number + 1}-approved")
    assert page.get_by_test_id("status").inner_text().strip() == "Approved"
    officer = new_page()
    officer_sign_in(govreq_server, officer)
    officer.get_by_role("link", name=govreq_server.state["reference"]).click()
    assert "Approved" in officer.get_by_test_id("status").inner_text()
    shot(officer, "3-officer-sees-outcome")


def test_3b_the_officer_downloads_a_package_in_the_portal(
    govreq_server: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    """The demo's package released two days ago: the officer downloads it from the portal (the
    delivery receipt) and the package verifies offline against the platform's key."""
    page = new_page()
    officer_sign_in(govreq_server, page)
    row = page.get_by_test_id("request-row").filter(has_text="Ready to download").first
    row.get_by_role("link").click()
    package = page.get_by_test_id("package")
    assert "Available until" in package.inner_text()
    page.get_by_text("Manifest (SHA-256 of every file)").click()
    shot(page, "3b-officer-package-ready")
    with page.expect_download() as download_info:
        page.get_by_test_id("download").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    assert saved.name.endswith(".zip")
    key = page.get_by_test_id("public-key").inner_text().strip()
    result = verify_path(saved, public_key=key)
    assert result.ok, result.problem
    assert result.records > 0
    page.reload()
    assert page.get_by_test_id("status").inner_text().strip() == "Delivered"
    assert "First downloaded on" in page.get_by_test_id("package").inner_text()
    shot(page, "3b-officer-package-delivered")


def test_4_a_hold_shows_a_banner_hides_approve_and_refuses_a_direct_post(
    govreq_server: LiveServer, new_page: Any
) -> None:
    page = new_page()
    staff_sign_in(govreq_server, page, "policy@platform.example", "4-policy")
    page.goto(f"{govreq_server.url}/console/holds/new")
    page.get_by_label("Jurisdiction (ISO code)").fill("US")
    page.get_by_label("In force from (may lie in the past)").fill("2026-01-01T00:00")
    page.get_by_label("The times above are in").select_option("UTC")
    page.get_by_role("textbox", name="Public reason", exact=True).fill(
        "Pending review of a new surveillance statute."
    )
    page.get_by_test_id("preview-hold").click()
    assert "would put" in page.get_by_test_id("hold-preview").inner_text()
    shot(page, "4-hold-preview")
    page.get_by_test_id("confirm-hold").click()
    # Four eyes: proposed, with its preview; nothing happens until a second admin confirms.
    assert page.get_by_test_id("hold-change-state").inner_text().strip() == (
        "Waiting for a second policy admin"
    )
    assert (
        govreq_server.state["reference"] in page.get_by_test_id("hold-change-preview").inner_text()
    )
    assert page.get_by_test_id("confirm-change").count() == 0  # not by the one who proposed it
    change_url = page.url
    shot(page, "4-hold-proposed")
    second = new_page()
    staff_sign_in(govreq_server, second, "policy2@platform.example", "4-policy2")
    second.goto(change_url)
    second.get_by_test_id("confirm-change").click()
    assert govreq_server.state["reference"] in second.content()
    shot(second, "4-hold-placed")

    approver = new_page()
    staff_sign_in(govreq_server, approver, "hro@platform.example", "4-hro")
    open_case(govreq_server, approver)
    banner = approver.get_by_test_id("hold-banner")
    assert "Pending review of a new surveillance statute." in banner.inner_text()
    assert approver.get_by_test_id("approve").count() == 0
    shot(approver, "4-case-on-hold")
    token = approver.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    case_url = approver.url
    response = approver.request.post(
        f"{case_url}/approve",
        form={"csrfmiddlewaretoken": token},
        headers={"Referer": case_url, "Origin": govreq_server.url},
    )
    assert response.status == 409
    assert "on hold" in response.text()
    approver.reload()
    assert approver.get_by_test_id("status").inner_text().strip() == "On hold"


def test_5_a_script_tag_in_a_narrative_renders_as_text(
    govreq_server: LiveServer, new_page: Any
) -> None:
    page = new_page()
    staff_sign_in(govreq_server, page, "auditor@platform.example", "5-auditor")
    open_case(govreq_server, page)
    assert XSS in page.get_by_test_id("narrative").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("[data-testid=narrative] b").count() == 0
    shot(page, "5-console-escaped")
    officer = new_page()
    officer_sign_in(govreq_server, officer)
    officer.get_by_role("link", name=govreq_server.state["reference"]).click()
    assert XSS in officer.content().replace("&lt;", "<").replace("&gt;", ">")
    assert officer.evaluate("window.__pwned") is None
    shot(officer, "5-portal-escaped")


@pytest.mark.parametrize("locale", ["zh-TW", "zh-HK"])
def test_the_portal_speaks_traditional_chinese(
    govreq_server: LiveServer, new_page: Any, locale: str
) -> None:
    page = new_page(locale=locale)
    page.goto(f"{govreq_server.url}/portal/sign-in")
    assert page.locator("html").get_attribute("lang") == "zh-hant"
    assert re.search(r"[\u4e00-\u9fff]", page.locator("main").inner_text())
    shot(page, f"zh-{locale}-sign-in")


def test_staff_sign_in_without_the_second_factor_is_refused(
    govreq_server: LiveServer, new_page: Any
) -> None:
    page = new_page()
    page.goto(f"{govreq_server.url}/console/sign-in")
    page.get_by_label("E-mail").fill("auditor@platform.example")
    page.get_by_label("Password").fill("govreq-demo-2020")
    page.get_by_role("button", name="Continue").click()
    page.goto(f"{govreq_server.url}/console/")
    assert "/console/sign-in" in page.url
    page.goto(f"{govreq_server.url}/admin/")
    assert "/console/sign-in" in page.url
