"""The human-rights officer's structured assessment in a real Chromium (issue 13): refused
without it (the note typed is kept), given with it, and read by the approver who comes after.

Its request (a national-security court order from the Metropolitan Police, escalated and
decided) is prepared in the live server's data by a short script using the services."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

from tests.browser.conftest import LiveServer, shot, staff_sign_in

PREPARE = """
import io, django
django.setup()
from django.utils import timezone
from govreq.cli.commands import actor_for
from govreq.core.actors import Actor
from govreq.agencies.models import Officer
from govreq.demo.pdf import tiny_pdf
from govreq.intake.models import Channel
from govreq.intake.schemas import RequestSubmission
from govreq.lifecycle import reviewing
from govreq.lifecycle.receiving import document_attach, request_submit
from tests.conftest import valid_submission
officer = Officer.objects.get(email="dc.patel@met.police.uk")
now = timezone.now()
body = valid_submission(offence_category="NATIONAL_SECURITY", narrative="Leaflets at a rally.")
request = request_submit(actor=Actor.for_officer(officer), officer=officer,
    submission=RequestSubmission.model_validate(body), channel=Channel.API, now=now).request
document_attach(actor=Actor.for_officer(officer), request=request,
    upload=io.BytesIO(tiny_pdf(["Order"])), original_name="order.pdf",
    claimed_type="application/pdf", now=now)
reviewer = actor_for("reviewer@platform.example", "test")
reviewing.request_start_review(actor=reviewer, request=request, now=now)
reviewing.request_escalate(actor=reviewer, request=request, reason="A rally", now=now)
reviewing.decision_make(actor=reviewer, request=request, outcome="FULL", rationale="Narrow",
    now=now)
print(request.public_id)
"""


def prepare(server: LiveServer) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOVREQ_ENV")}
    env["GOVREQ_DATA_DIR"] = str(server.data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "govreq.settings"
    out = subprocess.run(
        [sys.executable, "-c", PREPARE], env=env, capture_output=True, text=True, check=True
    ).stdout
    return out.strip().splitlines()[-1]


def test_the_human_rights_officer_approves_with_an_assessment_later_reviewers_read(
    govreq_server: LiveServer, new_page: Any
) -> None:
    public_id = prepare(govreq_server)
    case = f"{govreq_server.url}/console/requests/{public_id}"
    hro = new_page()
    staff_sign_in(govreq_server, hro, "hro@platform.example", "8-hro")
    hro.goto(case)
    form = hro.get_by_test_id("approve-form")
    form.get_by_test_id("assessment-form").wait_for()
    form.locator("[name=note]").fill("Weighed against the rally's context")
    form.locator("[name=conclusion]").select_option("RISK_MITIGATED")
    hro.get_by_test_id("approve").click()
    form = hro.get_by_test_id("approve-form")
    form.wait_for()
    assert form.locator("[name=note]").input_value() == "Weighed against the rally's context"
    assert "A risk accepted under conditions needs them." in form.inner_text()
    shot(hro, "8-assessment-refused")
    form.locator("[name=risk_found]").fill("The account may be an organiser of a lawful rally.")
    form.locator("[name=standards_applied]").fill("UNGP 17; ICCPR articles 19 and 21.")
    form.locator("[name=conditions]").fill("Subscriber data only; no content, no location.")
    hro.get_by_test_id("approve").click()
    hro.get_by_test_id("assessment").wait_for()
    approver = new_page()
    staff_sign_in(govreq_server, approver, "approver@platform.example", "8-approver")
    approver.goto(case)
    shown = approver.get_by_test_id("assessment").inner_text()
    assert "lawful rally" in shown and "ICCPR articles 19 and 21" in shown
    assert re.search("Risk acceptable under the conditions stated", shown)
    assert approver.get_by_test_id("assessment-form").count() == 0
    shot(approver, "8-assessment-read")
