"""The console in Traditional Chinese: with ``Accept-Language: zh-Hant`` the queue and the case
page hold no English label from govreq's own catalogue, and no console template holds text that
is not marked for translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import govreq.console
import govreq.review
import govreq.web
from tests.console.test_console import signed_in, staff  # noqa: F401 (fixture)
from tests.console.test_plain_words import raw_codes_in, visible_text
from tests.review_helpers import submit
from tests.test_i18n import CATALOGUE, po_entries

pytestmark = pytest.mark.django_db
CONSOLE = Path(govreq.console.__file__).parent
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hant"}


def english_labels() -> set[str]:
    """Every English string of the console's, the checks' and the page frame's catalogues that
    is translated into something else (an acronym such as "API" stays as it is)."""
    labels = set()
    for app in (CONSOLE, Path(govreq.review.__file__).parent, Path(govreq.web.__file__).parent):
        for (_, msgid), msgstr in po_entries(app / CATALOGUE / "django.po").items():
            if msgstr != msgid and "%(" not in msgid and re.search(r"[A-Za-z]{3}", msgid):
                labels.add(msgid)
    return labels


def english_in(html: str, data: set[str]) -> set[str]:
    """Labels found as whole words in the page's text, ignoring what the request's own data
    says (an officer's narrative is not the console's to translate)."""
    text = visible_text(html)
    for value in sorted(data, key=len, reverse=True):  # longest first: a name inside a message
        text = text.replace(value, " ")
    return {
        label
        for label in english_labels()
        if re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", text)
    }


def request_data(request) -> set[str]:
    values = {
        request.reference,
        request.narrative,
        request.legal_basis,
        request.issuing_authority,
        request.agency.name,
        request.officer.name,
        request.officer.email,
    }
    values |= {t.value for t in request.targets.all()}
    return {v for v in values if v}


def test_the_queue_and_case_page_are_all_chinese(staff, chan):  # noqa: F811
    request = submit(chan)
    rita = signed_in(staff, "rita")
    rita.post(f"/console/requests/{request.public_id}/start_review", **ZH)
    queue = rita.get("/console/", **ZH).content.decode()
    assert "審查佇列" in queue and "審查中" in queue
    assert english_in(queue, request_data(request)) == set()
    case = rita.get(f"/console/requests/{request.public_id}", **ZH).content.decode()
    assert "基本用戶資料" in case or "基本訂戶資料" in case
    assert english_in(case, request_data(request)) == set()
    assert raw_codes_in(case) == set()
    assert "可強制取得" in case  # what the checks found, in Chinese too
    rita.post(
        f"/console/requests/{request.public_id}/decide",
        {"outcome": "FULL", "rationale": "Valid and narrow"},
    )
    case = signed_in(staff, "alex").get(f"/console/requests/{request.public_id}", **ZH)
    html = case.content.decode()
    assert english_in(html, request_data(request) | {"Valid and narrow"}) == set()
    assert raw_codes_in(html) == set()


# Text a template may hold outside {% translate %}: symbols, units and names that are the same
# in every language.
NEUTRAL = {"SHA-256", "sha256", "v", "HKT"}


@pytest.mark.parametrize(
    "template", sorted(p.name for p in (CONSOLE / "templates" / "console").glob("*.html"))
)
def test_no_console_template_holds_unmarked_text(template):
    source = raw = (CONSOLE / "templates" / "console" / template).read_text("utf-8")
    source = re.sub(r"(?s)\{%\s*(blocktranslate|blocktrans)\b.*?\{%\s*end\1\s*%\}", " ", source)
    source = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", source)
    source = re.sub(r"(?s)\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", " ", source)
    source = re.sub(r"(?s)<[^>]*>", " ", source)
    source = re.sub(r"&\w+;", " ", source)
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9'-]+", source)) - NEUTRAL
    assert words == set(), f"{template}: mark for translation: {sorted(words)}"
    # Nor a default written in English inside a variable: {{ x|default:"system" }}.
    assert re.findall(r'default:"[A-Za-z]', raw) == [], template


def test_a_refusal_reads_in_chinese(staff, chan):  # noqa: F811
    request = submit(chan)
    rita = signed_in(staff, "rita")
    url = f"/console/requests/{request.public_id}/start_review"
    assert rita.post(url, **ZH).status_code == 302
    again = rita.post(url, **ZH)  # already in review: the lifecycle refuses
    assert again.status_code == 409
    html = again.content.decode()
    assert "請求目前的狀態不容許此操作。" in html, visible_text(html)
