"""The public pages at every width: no table or chart overlaps another, and the chart's text is
at least 11 px on a phone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import shot

PAGES = ("/transparency/", "/transparency/2020-H2/", "/transparency/2020-H2/HK/")
WIDTHS = (360, 390, 768, 1024, 1280, 1600)

# Every visible table and chart, with its box in page coordinates and the smallest chart text.
MEASURE = """() => {
  const visible = (e) => {
    const s = getComputedStyle(e), r = e.getBoundingClientRect();
    return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 1 && r.height > 1;
  };
  const boxes = [...document.querySelectorAll('table, svg.chart')].filter(visible).map((e) => {
    const r = e.getBoundingClientRect();
    return {what: (e.querySelector('caption') || e.querySelector('title') || e).textContent
              .trim().slice(0, 60),
            left: r.left + scrollX, top: r.top + scrollY, right: r.right + scrollX,
            bottom: r.bottom + scrollY};
  });
  const sizes = [...document.querySelectorAll('svg.chart')].filter(visible).flatMap((svg) =>
    [...svg.querySelectorAll('text')].map((t) => t.getBoundingClientRect().height > 0
      ? parseFloat(getComputedStyle(t).fontSize) * svg.getBoundingClientRect().width
        / svg.viewBox.baseVal.width
      : 99));
  return {boxes, smallest: Math.min(99, ...sizes),
          overflow: document.documentElement.scrollWidth - innerWidth};
}"""


def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_no_table_or_chart_overlaps_another(govreq_server, new_page, width):
    page = new_page()
    page.set_viewport_size({"width": width, "height": 900})
    for path in PAGES:
        page.goto(govreq_server.url + path)
        found = page.evaluate(MEASURE)
        boxes = found["boxes"]
        assert len(boxes) >= 2, path
        for index, first in enumerate(boxes):
            for second in boxes[index + 1 :]:
                assert not overlaps(first, second), (width, path, first, second)
        assert found["overflow"] <= 0, (width, path, "the page scrolls sideways")
        if width <= 400:
            assert found["smallest"] >= 11, (width, path, found["smallest"])
        if width in (390, 1280) and path.endswith("/HK/"):
            shot(page, f"public-hk-{width}")


def test_the_portal_list_is_cards_on_a_phone(govreq_server, new_page):
    from tests.browser.test_journeys import officer_sign_in

    page = new_page()
    page.set_viewport_size({"width": 390, "height": 900})
    officer_sign_in(govreq_server, page)
    rows = page.locator("[data-testid=request-row]")
    assert rows.count() >= 2
    for index in range(rows.count()):
        box = rows.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert rows.nth(index).evaluate("e => getComputedStyle(e).display") == "block"
    label = rows.first.locator("td").first.evaluate("e => getComputedStyle(e, '::before').content")
    assert "Reference" in label  # each cell says what it is
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "portal-list-390")


def test_an_upload_shows_its_progress_while_it_is_sent(govreq_server, new_page):
    from tests.browser.test_journeys import officer_sign_in

    page = new_page()
    officer_sign_in(govreq_server, page)
    page.goto(f"{govreq_server.url}/portal/new")
    assert not page.get_by_test_id("upload-progress").is_visible()
    held: list[Any] = []
    # The server's answer is held back, so the upload is still in progress when the page notes
    # what it shows (in sessionStorage, read once the next page has loaded).
    page.route(
        "**/portal/new",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    page.evaluate(
        """() => document.addEventListener('submit', () => setTimeout(() => {
             const shown = getComputedStyle(
               document.querySelector('[data-testid=upload-progress]')).display;
             const busy = document.querySelector('[data-testid=request-form]')
               .getAttribute('aria-busy');
             sessionStorage.setItem('progress', shown + '|' + busy);
           }, 100))"""
    )
    page.eval_on_selector("[data-testid=request-form]", "form => { form.noValidate = true; }")
    page.get_by_test_id("review").click(no_wait_after=True)
    page.wait_for_timeout(600)
    assert held, "the upload was sent"
    with page.expect_navigation():
        for route in held:
            route.continue_()
    shown, busy = page.evaluate("sessionStorage.getItem('progress')").split("|")
    assert shown != "none" and busy == "true"
