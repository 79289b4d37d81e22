"""The Traditional Chinese catalogue: complete, and compiled from the current .po file.

The compiled .mo is committed (CI needs no gettext tools); this test fails if someone edits the
.po without running ``govreq compilemessages``, or leaves a string untranslated."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import govreq.transparency

LOCALE = Path(govreq.transparency.__file__).parent / "locale" / "zh_Hant" / "LC_MESSAGES"


def po_entries() -> dict[str, str]:
    entries: dict[str, str] = {}
    msgid = msgstr = None
    target = None
    for line in [*(LOCALE / "django.po").read_text("utf-8").splitlines(), ""]:
        if line.startswith("msgid "):
            msgid, target = ast.literal_eval(line[6:]), "id"
        elif line.startswith("msgstr "):
            msgstr, target = ast.literal_eval(line[7:]), "str"
        elif line.startswith('"'):
            if target == "id":
                msgid = (msgid or "") + ast.literal_eval(line)
            else:
                msgstr = (msgstr or "") + ast.literal_eval(line)
        elif not line.strip() and msgid is not None:
            entries[msgid] = msgstr or ""
            msgid = msgstr = target = None
    entries.pop("", None)
    return entries


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)s|\{\w+\}", text))


def test_every_string_is_translated_and_keeps_its_placeholders():
    assert "#, fuzzy" not in (LOCALE / "django.po").read_text("utf-8")  # msgfmt drops those
    entries = po_entries()
    assert len(entries) > 100
    for msgid, msgstr in entries.items():
        assert msgstr.strip(), f"untranslated: {msgid!r}"
        assert placeholders(msgid) == placeholders(msgstr), msgid


def test_the_compiled_catalogue_matches_the_po_file():
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, msgstr in po_entries().items():
        assert compiled.gettext(msgid) == msgstr, f"recompile: {msgid!r}"
