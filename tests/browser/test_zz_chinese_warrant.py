"""A Hong Kong warrant of the demo, written in Traditional Chinese in a font the PDF does not
embed (Adobe-CNS1, UniCNS-UTF16-H), is drawn in the case page by the vendored PDF.js: its CMaps
are vendored with it, and the characters come from the installed Noto Sans CJK TC."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import LiveServer, shot, staff_sign_in

INK = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 0; i < pixels.data.length; i += 4) {
        if (pixels.data[i + 3] > 0 && pixels.data[i] < 128) { ink += 1; }
    }
    return ink;
}"""


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
    document = page.get_by_test_id("document-inline").first
    document.and_(page.locator("[data-state=shown]")).wait_for(timeout=30_000)
    assert page.get_by_test_id("pdf-page").first.evaluate(INK) > 200
    shot(page, "9-chinese-warrant")
