"""Does the document say what the typed request says? Pure text matching for DOCUMENT_MISMATCH.

No ORM, no clock, no I/O. English and Traditional Chinese: text is read in Unicode NFKC form
(full-width digits and letters become ASCII, ``：`` becomes ``:``) and case-folded; identifiers
are compared in the one canonical form intake stores them in (``intake.targets``: punycode
domains, E.164 phone numbers, canonical IP addresses), whichever form the document writes them in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from govreq.intake.targets import TargetInvalid, normalise_target

# Hyphens, dashes and minus signs an agency or a word processor may put in a case number.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d_"
_SQUEEZE = re.compile(rf"[\s{re.escape(_DASHES)}]+")


def fold(text: str) -> str:
    """NFKC and case-folded: full-width ``HK-2020`` (U+FF28...) and ``hk-2020`` read alike."""
    return unicodedata.normalize("NFKC", text).casefold()


def squeeze(text: str) -> str:
    """``fold`` without spaces and dashes: how case numbers are compared (``HK 2020/12-34``,
    ``hk-2020/1234`` and the same in full-width characters are one number)."""
    return _SQUEEZE.sub("", fold(text))


def case_number_found(case_number: str, text: str) -> bool:
    needle = squeeze(case_number)
    return bool(needle) and needle in squeeze(text)


_CASE_LABEL = re.compile(
    r"(?:case|file|ref(?:erence)?)\s*(?:no\.?|number|#)?\s*[:#]?\s*"
    r"|(?:案件編號|案件號碼|案號|檔案編號|檔號|編號)\s*[:]?\s*",
    re.IGNORECASE,
)
_CASE_TOKEN = re.compile(r"[a-z0-9][a-z0-9/\-.]{2,40}[a-z0-9]", re.IGNORECASE)


def case_numbers_in(text: str) -> list[str]:
    """The case numbers a document gives after a label ("Case No.", "案件編號"), as written:
    the evidence shown when the typed one is missing."""
    folded = unicodedata.normalize("NFKC", text)
    found: list[str] = []
    for label in _CASE_LABEL.finditer(folded):
        token = _CASE_TOKEN.match(folded, label.end())
        if token and any(ch.isdigit() for ch in token.group()) and token.group() not in found:
            found.append(token.group())
    return found[:5]


# --- the issuing authority -----------------------------------------------------------------------

# An authority typed in English, named in a Chinese document (and the other way round).
AUTHORITY_EQUIVALENTS: dict[str, tuple[str, ...]] = {
    "magistrate": ("裁判官", "裁判法院"),
    "magistrates": ("裁判官", "裁判法院"),
    "high court": ("高等法院",),
    "district court": ("區域法院", "地方法院"),
    "court of first instance": ("原訟法庭",),
    "court of appeal": ("上訴法庭",),
    "court of final appeal": ("終審法院",),
    "police": ("警務處", "警察"),
    "department of justice": ("律政司",),
    "judge": ("法官",),
}
_STOP_WORDS = frozenset({"the", "of", "for", "and", "in", "at", "on", "to", "de", "der", "des"})


def authority_found(authority: str, text: str) -> bool:
    """Is the typed issuing authority named in ``text``: all of it, each of its words of three
    letters or more, or (across languages) its Chinese or English name."""
    typed = " ".join(fold(authority).split())
    if not typed:
        return True
    body = " ".join(fold(text).split())
    if typed in body or squeeze(typed) in squeeze(body):
        return True
    for english, chinese in AUTHORITY_EQUIVALENTS.items():
        if _word_in(english, typed) and any(name in body for name in chinese):
            return True
        if any(name in typed for name in chinese) and _word_in(english, body):
            return True
    words = [w for w in re.findall(r"\w+", typed) if len(w) >= 3 and w not in _STOP_WORDS]
    if words and all(w.isascii() for w in words):
        return all(_word_in(word, body) for word in words)
    return False


def _word_in(word: str, text: str) -> bool:
    pattern = r"\s+".join(re.escape(part) for part in word.split())
    return re.search(rf"(?<![\w]){pattern}(?:s)?(?![\w])", text) is not None


# --- the kind of process -------------------------------------------------------------------------

KIND_TERMS: dict[str, tuple[str, ...]] = {
    "SUBPOENA": ("subpoena", "subpena", "傳票"),
    "COURT_ORDER": (
        "court order",
        "order of the court",
        "production order",
        "法庭命令",
        "法院命令",
        "法院指令",
        "頒令",
    ),
    "SEARCH_WARRANT": ("warrant", "手令", "搜查令"),
    "MLAT": (
        "mutual legal assistance",
        "letters rogatory",
        "letter rogatory",
        "letter of request",
        "mlat",
        "刑事司法協助",
        "司法互助",
        "請求書",
    ),
}


def kind_named(kind: str, text: str) -> bool | None:
    """Does ``text`` name the kind of process? None for kinds without a document of their own
    (emergency, preservation, other)."""
    terms = KIND_TERMS.get(kind)
    if terms is None:
        return None
    body = " ".join(fold(text).split())
    return any(_word_in(term, body) if term.isascii() else term in body for term in terms)


# --- dates ---------------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS = (
    # 3 July 2020, 3rd July, 2020
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+(\d{{4}})\b"), "dmy"),
    # July 3, 2020
    (re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b"), "mdy"),
    # 2020-07-03
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "ymd"),
    # 2020年7月3日
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"), "ymd"),
)
ISSUE_WORDS = (
    "issued",
    "dated",
    "date of issue",
    "signed",
    "made on",
    "granted",
    "簽發",
    "發出",
    "簽署",
    "日期",
)
EXPIRY_WORDS = (
    "expires",
    "expiry",
    "expiration",
    "valid until",
    "valid till",
    "valid to",
    "in force until",
    "有效期至",
    "有效至",
    "屆滿",
    "到期",
    "有效期",
)


@dataclass(frozen=True)
class LabelledDate:
    label: str  # "issued" or "expires"
    on: date
    evidence: str  # the words of the document around it


def labelled_dates(text: str) -> list[LabelledDate]:
    """The dates the document labels as its issue or its expiry, in the order written. A date
    is labelled by the nearest issue or expiry word before it on its line."""
    found: list[LabelledDate] = []
    for line in fold(text).splitlines():
        for pattern, order in _DATE_PATTERNS:
            for match in pattern.finditer(line):
                on = _date_of(match.groups(), order)
                if on is None:
                    continue
                before = line[max(0, match.start() - 40) : match.start()]
                label = _label(before)
                if label:
                    evidence = line[max(0, match.start() - 40) : match.end()].strip()
                    found.append(LabelledDate(label=label, on=on, evidence=evidence))
    return found


def _label(before: str) -> str:
    best, where = "", -1
    for label, words in (("expires", EXPIRY_WORDS), ("issued", ISSUE_WORDS)):
        for word in words:
            at = before.rfind(word)
            # The nearest word wins; at equal positions "expires" ("有效期至" holds "有效期").
            if at > where:
                best, where = label, at
    return best


def _date_of(groups: tuple[str | None, ...], order: str) -> date | None:
    a, b, c = (g or "" for g in groups)
    try:
        if order == "dmy":
            return date(int(c), _MONTHS[b.rstrip(".")], int(a))
        if order == "mdy":
            return date(int(c), _MONTHS[a.rstrip(".")], int(b))
        return date(int(a), int(b), int(c))
    except (ValueError, KeyError):
        return None


# --- the accounts named --------------------------------------------------------------------------

_EMAIL = re.compile(r"[^\s<>()\[\]{},;:\"'@]+@[^\s<>()\[\]{},;:\"'@]+")
_PHONE = re.compile(r"\+?\d[\d ().\-/]{4,30}\d")
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\d{1,3}(?:\.\d{1,3}){3})?")
_URL = re.compile(r"https?://[^\s<>\"'，。；）]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}>'\"。，；："


def identifiers_in(text: str, target_type: str, *, region: str | None) -> set[str]:
    """Every identifier of ``target_type`` written in ``text``, normalised as intake stores
    them. Usernames and user ids have no shape of their own: see ``target_found``."""
    body = unicodedata.normalize("NFKC", text)
    pattern = {"EMAIL": _EMAIL, "PHONE": _PHONE, "URL": _URL}.get(target_type)
    candidates: list[str] = []
    if pattern is not None:
        candidates = [m.group().rstrip(_TRAILING) for m in pattern.finditer(body)]
    elif target_type == "IP_ADDRESS":
        candidates = [m.group() for m in _IPV4.finditer(body)]
        candidates += [m.group() for m in _IPV6.finditer(body.lower())]
    found: set[str] = set()
    for candidate in candidates:
        try:
            found.add(normalise_target(target_type, candidate, region=region))
        except (TargetInvalid, ValueError):
            continue
    return found


def target_found(target_type: str, value: str, text: str, *, region: str | None) -> bool:
    """Is the (normalised) ``value`` named in ``text`` in any form intake would read as it?"""
    if target_type in {"EMAIL", "PHONE", "URL", "IP_ADDRESS"}:
        return value in identifiers_in(text, target_type, region=region)
    body = fold(text)
    needle = fold(value)
    if target_type == "USERNAME":
        needle = needle.removeprefix("@")
    return (
        # A token of its own: not part of a longer name, a case number or an address.
        re.search(rf"(?<![\w.\-/]){re.escape(needle)}(?![\w\-/@]|\.\w)", body) is not None
        if needle
        else True
    )
