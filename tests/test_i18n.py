"""The Traditional Chinese catalogues of the staff console, the agency portal, the public
transparency pages and the page frame they share: complete, compiled from the current .po
files, and holding every string the code marks.

The compiled .mo files are committed (the server needs no gettext tools); these tests fail if
someone edits a .po without running ``govreq compilemessages``, leaves a string untranslated, or
marks a new string for translation without adding it to the catalogue (checked by running
``makemessages`` on a copy of the app, which needs GNU gettext: CI installs it)."""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

import govreq.console
import govreq.lifecycle
import govreq.portal
import govreq.review
import govreq.transparency
import govreq.web

APPS = {
    # The staff console (its own labels for every stored code: govreq.console.labels).
    "console": Path(govreq.console.__file__).parent,
    # The e-mails to staff (reminders, alerts), in each one's language.
    "lifecycle": Path(govreq.lifecycle.__file__).parent,
    "portal": Path(govreq.portal.__file__).parent,
    # What the checks find (review.wording), shown by the console in the viewer's language.
    "review": Path(govreq.review.__file__).parent,
    "transparency": Path(govreq.transparency.__file__).parent,
    # The shared page frame the portal and the public pages are drawn in.
    "web": Path(govreq.web.__file__).parent,
}
CATALOGUE = Path("locale") / "zh_Hant" / "LC_MESSAGES"


def po_entries(po: Path) -> dict[tuple[str, str], str]:
    """Every entry of a .po file: (context, msgid) -> msgstr (of a plural, its only form)."""
    entries: dict[tuple[str, str], str] = {}
    context = msgid = msgstr = None
    target = None
    for line in [*po.read_text("utf-8").splitlines(), ""]:
        if line.startswith("msgctxt "):
            context, target = ast.literal_eval(line[8:]), "context"
        elif line.startswith("msgid "):
            msgid, target = ast.literal_eval(line[6:]), "id"
        elif line.startswith("msgid_plural "):
            target = "plural"
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            msgstr, target = ast.literal_eval(line.split(" ", 1)[1]), "str"
        elif line.startswith('"'):
            if target == "id":
                msgid = (msgid or "") + ast.literal_eval(line)
            elif target == "str":
                msgstr = (msgstr or "") + ast.literal_eval(line)
            elif target == "context":
                context = (context or "") + ast.literal_eval(line)
        elif not line.strip() and msgid is not None:
            entries[(context or "", msgid)] = msgstr or ""
            context = msgid = msgstr = target = None
    entries.pop(("", ""), None)
    return entries


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)s|\{\w+\}", text))


@pytest.mark.parametrize("app", sorted(APPS))
def test_every_string_is_translated_and_keeps_its_placeholders(app):
    po = APPS[app] / CATALOGUE / "django.po"
    assert "#, fuzzy" not in po.read_text("utf-8")  # msgfmt drops those
    entries = po_entries(po)
    assert len(entries) >= 2
    for (_, msgid), msgstr in entries.items():
        assert msgstr.strip(), f"untranslated: {msgid!r}"
        assert placeholders(msgid) == placeholders(msgstr), msgid


@pytest.mark.parametrize("app", sorted(APPS))
def test_the_compiled_catalogue_matches_the_po_file(app):
    with (APPS[app] / CATALOGUE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for (context, msgid), msgstr in po_entries(APPS[app] / CATALOGUE / "django.po").items():
        found = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
        assert found == msgstr, f"recompile: {msgid!r}"


@pytest.mark.skipif(
    shutil.which("xgettext") is None and not os.environ.get("CI"),
    reason="GNU gettext is not installed (CI installs it and runs this)",
)
@pytest.mark.parametrize("app", sorted(APPS))
def test_every_marked_string_is_in_the_catalogue(app, tmp_path, monkeypatch):
    copy = tmp_path / app
    shutil.copytree(APPS[app], copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["zh_Hant"], verbosity=0)
    po = copy / CATALOGUE / "django.po"
    missing = [msgid for (_, msgid), msgstr in po_entries(po).items() if not msgstr.strip()]
    assert missing == [], f"not in {app}'s catalogue (run makemessages, translate): {missing}"
    assert "#, fuzzy" not in po.read_text("utf-8"), "a string changed: check its translation"


def test_a_string_two_catalogues_share_reads_the_same_in_both():
    """Django merges every app's catalogue into one: a msgid two apps translate differently
    would read as whichever app loads first (a check's "verified" against the console's)."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for app in sorted(APPS):
        for key, msgstr in po_entries(APPS[app] / CATALOGUE / "django.po").items():
            if key in seen:
                assert seen[key][1] == msgstr, (key, seen[key][0], app)
            seen.setdefault(key, (app, msgstr))
