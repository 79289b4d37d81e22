"""The decision panel in a real Chromium (issue 13): choosing an outcome swaps in its own
fields (htmx), and a decision the server refuses comes back with the rationale as typed.

Runs after the journeys of issue 4 on the same server; its request is keyed in on the command
line for the Metropolitan Police (the UK, which no hold of theirs covers)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.browser.conftest import LiveServer, shot, staff_sign_in
from tests.conftest import valid_submission

OFFICER = "dc.patel@met.police.uk"


def key_in(server: LiveServer, tmp_path: Path, **overrides: Any) -> tuple[str, str]:
    """A request keyed in with the CLI against the live server's data; (reference, id)."""
    body = tmp_path / "request.json"
    body.write_text(json.dumps(valid_submission(**overrides)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GOVREQ_ENV")}
    env["GOVREQ_DATA_DIR"] = str(server.data_dir)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(
        [sys.executable, "-m", "govreq", "request", "submit", str(body), "--officer", OFFICER],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Received (\S+) \(([0-9a-f-]{36})\)", out)
    assert match, out
    return match.group(1), match.group(2)


def test_a_refused_decision_keeps_the_rationale_typed(
    govreq_server: LiveServer, new_page: Any, tmp_path: Path
) -> None:
    reference, public_id = key_in(govreq_server, tmp_path)
    page = new_page()
    staff_sign_in(govreq_server, page, "reviewer@platform.example", "7-reviewer")
    page.goto(f"{govreq_server.url}/console/requests/{public_id}")
    page.get_by_test_id("start-review").click()
    form = page.get_by_test_id("decide-form")
    # No document: a check blocks disclosure, so only the outcomes that disclose nothing are
    # offered, and the panel says why.
    offered = form.locator("[name=outcome] option").evaluate_all("o => o.map(x => x.value)")
    assert "FULL" not in offered and "REJECTED" in offered
    assert page.get_by_test_id("disclosure-refused").count() == 1
    # htmx swaps in only the chosen outcome's fields: none for "no data", reasons for a rejection.
    form.locator("[name=outcome]").select_option("NO_DATA")
    form.locator("[name=rejection_reasons]").first.wait_for(state="detached")
    form.locator("[name=outcome]").select_option("REJECTED")
    form.locator("[name=rejection_reasons]").first.wait_for()
    typed = "The order cites a repealed statute; the agency must re-issue it under the new one."
    form.locator("[name=rationale]").fill(typed)
    shot(page, "7-decision-before-refusal")
    page.get_by_test_id("decide").click()  # no reason ticked: the service refuses
    page.get_by_test_id("decide-form").wait_for()
    form = page.get_by_test_id("decide-form")
    assert form.locator("[name=rationale]").input_value() == typed
    assert form.locator("[name=outcome]").input_value() == "REJECTED"
    assert "give at least one reason" in form.inner_text()
    shot(page, "7-decision-refused-kept")
    form.locator("[name=rejection_reasons][value=INVALID_PROCESS]").check()
    page.get_by_test_id("decide").click()
    page.get_by_test_id("status").wait_for()
    assert page.get_by_test_id("status").inner_text().strip() != "In review"
    assert typed in page.content() and reference in page.content()
