"""No English words left untranslated in a template a person reads: every text node and every
attribute a person sees (title, placeholder, aria-label, alt, value of a button) in the
console's, the portal's, the public pages' and the shared frame's templates, mails included, is
inside {% translate %} or {% blocktranslate %}, or is a variable (whose words are translated
where they are made)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import govreq.console
import govreq.portal
import govreq.transparency
import govreq.web

APPS = [govreq.console, govreq.portal, govreq.transparency, govreq.web]
TEMPLATES = sorted(
    path
    for app in APPS
    for path in (Path(app.__file__).parent / "templates").rglob("*")
    if path.suffix in (".html", ".txt")
)
# Words that are the same in every language: names, formats, units.
SAME_IN_EVERY_LANGUAGE = {"govreq", "UTC", "SHA", "CSV", "JSON", "PDF", "Ed25519", "English", "ID"}


def untranslated(source: str) -> list[str]:
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", source, flags=re.S)
    text = re.sub(r"{#.*?#}", " ", text, flags=re.S)
    text = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", " ", text, flags=re.S)
    text = re.sub(r"{%.*?%}", " ", text, flags=re.S)
    text = re.sub(r"{{.*?}}", " ", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    seen = []
    for name, value in re.findall(
        r'\b(title|placeholder|aria-label|alt|value)="([^"]*)"', text, flags=re.I
    ):
        if name.lower() != "value" or re.search(r"[a-z]{3}", value):
            seen.append(value)
    text = re.sub(r"<[^>]*>", " ", text, flags=re.S)
    text = re.sub(r"&[a-z]+;|&#\d+;|SHA-256", " ", text)
    seen += text.split("\n")
    found = []
    for chunk in seen:
        words = [
            w for w in re.findall(r"[A-Za-z][A-Za-z'-]+", chunk) if w not in SAME_IN_EVERY_LANGUAGE
        ]
        if words:
            found.append(chunk.strip())
    return found


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_untranslated_words(template: Path):
    assert untranslated(template.read_text("utf-8")) == []


def test_the_check_finds_english_left_in_a_template():
    assert untranslated('<p>{% translate "Fine" %} Requests received</p>') == ["Requests received"]
    assert untranslated('<input placeholder="Your e-mail">') == ["Your e-mail"]
    assert untranslated("{% blocktranslate %}Fine {{ x }}{% endblocktranslate %}") == []


def test_the_sign_in_mail_reads_in_chinese_throughout():
    from django.template.loader import render_to_string
    from django.utils import translation

    context = {"officer": {"name": "陳大文"}, "code": "12345678", "minutes": 10}
    with translation.override("zh-hant"):
        for name in ("sign_in_code_subject.txt", "sign_in_code.txt"):
            text = render_to_string(f"portal/email/{name}", context)
            words = set(re.findall(r"[A-Za-z][A-Za-z'-]+", text)) - SAME_IN_EVERY_LANGUAGE
            assert words == set(), (name, words)


def test_a_missing_page_says_so_in_the_reader_s_language(client, settings):
    settings.DEBUG = False
    page = client.get("/no-such-page", HTTP_ACCEPT_LANGUAGE="zh-Hant")
    assert page.status_code == 404
    assert "找不到頁面" in page.content.decode()
    assert "Not found" in client.get("/no-such-page", HTTP_ACCEPT_LANGUAGE="en").content.decode()
