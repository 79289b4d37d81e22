"""The public pages: published reports only, drafts for staff, two languages, strict CSP."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from govreq.holds.models import JurisdictionHold
from govreq.transparency.services import report_publish
from tests.transparency.history import HOLD_REASON

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def published(history):
    return report_publish(actor=history.actor("pat"), period="2020-H2", now=timezone.now())


def page(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def assert_csp_clean(html: str) -> None:
    """Nothing the Content-Security-Policy would block: no script, no inline style."""
    assert "<script" not in html.lower()
    assert not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handlers
    assert '<link rel="stylesheet" href="/static/transparency/transparency.css">' in html


def test_nothing_published_yet(db):
    client = Client()
    assert "No report has been published yet." in page(client, "/transparency/")
    assert client.get("/transparency/2020-H2/").status_code == 404
    assert client.get("/transparency/2020-H2/report.csv").status_code == 404


def test_anonymous_readers_see_published_reports_only(history, published):
    client = Client()
    overview = page(client, "/transparency/")
    assert "In 2020-H2 we received 11 requests for user data from 2 jurisdictions" in overview
    assert_csp_clean(overview)
    period = page(client, "/transparency/2020-H2/")
    assert_csp_clean(period)
    assert HOLD_REASON in period
    assert "Hong Kong: requests paused from 2020-06-30" in period
    for suffix in ("csv", "json", "meta.csv", "google.csv"):
        assert f'href="/transparency/2020-H2/report.{suffix}?version=1"' in period
    assert client.get("/transparency/2021-H1/").status_code == 404  # not published
    assert client.get("/transparency/2020-H3/").status_code == 404  # not a period
    assert client.get("/transparency/2020-H2/ZZ/").status_code == 404
    assert client.get("/transparency/2020-H2/report.xlsx").status_code == 404
    assert client.get("/transparency/2020-H2/?version=2").status_code == 404
    assert client.post("/transparency/2020-H2/").status_code == 405


def test_the_jurisdiction_page_shows_the_hold_on_the_chart(history, published):
    html = page(Client(), "/transparency/2020-H2/HK/")
    assert_csp_clean(html)
    assert "Hong Kong: requests for user data, 2020-H2" in html
    assert "5 requests naming 10 accounts; some data produced for 2 (40%)." in html
    assert "Hong Kong: requests paused from 2020-06-30" in html
    assert HOLD_REASON in html
    assert "approval: emergencies (danger to life); human trafficking</p>" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg is not None
    root = ET.fromstring(svg.group(0))  # noqa: S314 - our own markup
    holds = [g for g in root.iter(f"{SVG}g") if g.get("class") == "chart-hold"]
    assert len(holds) == 1
    assert "Hold from 2020-06-30" in "".join(holds[0].itertext())
    assert HOLD_REASON in holds[0].find(f"{SVG}title").text  # type: ignore[union-attr]


def test_downloads_are_attachments_of_the_frozen_numbers(history, published, rivera):
    from tests.transparency.test_publish import add_late_keyed_request

    add_late_keyed_request(history, rivera)  # the live numbers move on; downloads must not
    response = Client().get("/transparency/2020-H2/report.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="govreq-transparency-2020_H2-v1.csv"'
    )
    text = b"".join(response.streaming_content).decode()
    assert (
        "2020-H2,2020-07-01T00:00:00+00:00,2021-01-01T00:00:00+00:00,1,US,United States,requests,6,"
        in text
    )


def test_a_correction_shows_what_changed(history, published, rivera):
    from tests.transparency.test_publish import add_late_keyed_request

    add_late_keyed_request(history, rivera)
    report_publish(
        actor=history.actor("pat"),
        period="2020-H2",
        now=timezone.now(),
        note="A US court order keyed in late.",
    )
    client = Client()
    html = page(client, "/transparency/2020-H2/")
    assert "What changed since version 1" in html
    assert "A US court order keyed in late." in html
    assert re.search(r"<td>US</td><td><code>requests</code></td><td>6</td><td>7</td>", html)
    old = page(client, "/transparency/2020-H2/?version=1")
    assert "What changed since version" not in old
    assert 'href="?version=2"' in old


def test_drafts_are_for_staff(history, staff):
    client = Client()
    response = client.get("/transparency/draft/2020-H2/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.get("/transparency/draft/2020-H2/report.csv").status_code == 302
    client.force_login(staff.users["root"])
    html = page(client, "/transparency/draft/2020-H2/")
    assert "Draft: computed live from the current records, not published." in html
    assert_csp_clean(html)
    assert "/transparency/draft/2020-H2/HK/" in html
    assert HOLD_REASON in page(client, "/transparency/draft/2020-H2/HK/")
    response = client.get("/transparency/draft/2020-H2/report.google.csv")
    assert response["Content-Disposition"].endswith('-draft.google.csv"')
    # Still nothing public.
    assert Client().get("/transparency/2020-H2/").status_code == 404


def test_traditional_chinese(history, published):
    client = Client()
    html = page(client, "/transparency/2020-H2/HK/?lang=zh-hant")
    assert '<html lang="zh-hant">' in html
    # Country names and periods in Chinese too, in the page and in its chart.
    assert "香港\uff1a2020年下半年 用戶資料請求" in html
    assert '<title id="chart-hk-title">香港' in html
    assert "2020-H2" not in html.split("<body>", 1)[1].replace("/2020-H2/", "").replace(
        "2020-H2.", ""
    )
    assert "公開理由" in html and "傳票" in html
    # What the page's context builds (download labels, a hold's exceptions) follows ?lang= too,
    # not only the browser's language.
    assert "CSV（govreq 格式）" in html and "緊急情況（生命危險）" in html
    assert "govreq schema" not in html and "danger to life" not in html
    assert 'href="/transparency/rules/?lang=zh-hant"' in html  # the choice follows the links
    response = client.get("/transparency/", headers={"accept-language": "zh-HK,zh;q=0.8"})
    assert response["Content-Language"] == "zh-hant"
    assert "Accept-Language" in response["Vary"]
    assert "透明度報告" in response.content.decode()
    assert "How we count" in page(client, "/transparency/rules/", **{"accept-language": "en"})
    assert "計算方法" in page(client, "/transparency/rules/?lang=zh-hant")


def test_the_public_rules_say_data_produced_means_delivered(client, db):
    rules = page(client, "/transparency/rules/", **{"accept-language": "en"})
    assert "downloaded the package we released" in rules
    assert "Approval alone is not enough" in rules
    assert "僅獲批准並不足夠" in page(client, "/transparency/rules/?lang=zh-hant")


def test_hold_reasons_are_escaped_everywhere(history, staff):
    JurisdictionHold.objects.filter(pk=history.hold_id).update(
        reason='<script>alert("x")</script> & more'
    )
    report_publish(actor=history.actor("pat"), period="2020-H2", now=timezone.now())
    html = page(Client(), "/transparency/2020-H2/HK/")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    ET.fromstring(svg.group(0))  # noqa: S314 - our own markup


def test_a_hold_reads_in_chinese_on_the_chinese_page(history, staff):
    chinese = "《國家安全法》生效：暫停處理香港請求，以待人權盡職審查。"
    JurisdictionHold.objects.filter(pk=history.hold_id).update(reason_zh_hant=chinese)
    report_publish(actor=history.actor("pat"), period="2020-H2", now=timezone.now())
    english = page(Client(), "/transparency/2020-H2/HK/", **{"accept-language": "en"})
    assert HOLD_REASON in english and chinese not in english
    html = page(Client(), "/transparency/2020-H2/HK/?lang=zh-hant")
    assert chinese in html and HOLD_REASON not in html
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    root = ET.fromstring(svg.group(0))  # noqa: S314 - our own markup
    titles = [
        g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") == "chart-hold"
    ]
    assert titles and all(chinese in (t or "") for t in titles)


def test_a_report_published_before_holds_had_a_chinese_reason_shows_the_english_one():
    from django.utils import translation

    from govreq.transparency.selectors import public_reason

    old = {"reason": "Paused.", "id": 1}
    with translation.override("zh-hant"):
        assert public_reason(old) == "Paused."
        assert public_reason(old | {"reason_zh_hant": "暫停。"}) == "暫停。"
    with translation.override("en"):
        assert public_reason(old | {"reason_zh_hant": "暫停。"}) == "Paused."


def test_a_hold_without_a_chinese_reason_leaves_the_report_body_as_it_was(history, staff):
    """Reports published before holds had a Chinese reason must recompute to the same bytes
    (a correction lists only real changes), so the key is there only when the hold has one."""
    from govreq.transparency.models import PublishedReport
    from govreq.transparency.selectors import jurisdiction_entry

    report_publish(actor=history.actor("pat"), period="2020-H2", now=timezone.now())
    body = PublishedReport.objects.filter(period="2020-H2").order_by("-version").first().body
    (hold,) = jurisdiction_entry(body, "HK")["holds"]
    assert "reason_zh_hant" not in hold and hold["reason"] == HOLD_REASON
