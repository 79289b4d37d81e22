"""A Hong Kong warrant of the demo, written in Traditional Chinese in a font the PDF does not
embed (Adobe-CNS1, UniCNS-UTF16-H), is drawn in the case page by the vendored PDF.js: its CMaps
are vendored with it, and the characters come from the installed Noto Sans CJK TC."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import LiveServer, pdf_drawn, shot, staff_sign_in


def test_a_chinese_warrant_is_drawn_in_the_case_page(
    govreq_server: LiveServer, new_page: Any
) -> None:
    page = new_page()
    staff_sign_in(govreq_server, page, "reviewer@platform.example", "9-reviewer")
    page.goto(f"{govreq_server.url}/console/?jurisdiction=HK")
    page.locator("a[href*='/console/requests/']").first.click()
    page.get_by_test_id("reference").wait_for()
    text = page.get_by_test_id("document-text-body").first.inner_text()
    assert any("\u4e00" <= c <= "\u9fff" for c in text), text  # the warrant is in Chinese
    assert pdf_drawn(page) > 200
    shot(page, "9-chinese-warrant")
