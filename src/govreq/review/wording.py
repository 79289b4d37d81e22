"""What a check says, kept as words that can be read in any language.

A finding's message is stored twice: as English text (the record, the API, the CLI, the log)
and as its sentences (``Say``): an English template marked for translation, with its values.
The console shows the sentences in the viewer's language (``console.labels.said``); this module
renders them in English. A value is one of:

- a string or number, shown as it is (a name, a phone number, a case number, a date);
- ``word(w)``: a word of this module's catalogue, translated (a kind of process, a category);
- ``words(ws)``: several of them, listed;
- ``place(code)``: a jurisdiction, shown by its name in the reader's language;
- ``phrases(says)``: sentence parts, listed (the reasons behind one finding).

Only the templates and the words are marked (``gettext_noop``: nothing is translated here, at
import or at run time), so this stays a pure function of the facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_noop as _

from govreq.jurisdictions.names import country_name

Value = str | int | dict[str, Any]


@dataclass(frozen=True)
class Say:
    """One sentence (or part of one): an English template and its values."""

    text: str
    values: Mapping[str, Value] = field(default_factory=dict)

    def stored(self) -> list[Any]:
        return [self.text, dict(self.values)]


def word(english: str) -> dict[str, Any]:
    return {"word": english}


def words(english: Iterable[str]) -> dict[str, Any]:
    return {"words": list(english)}


def place(code: str) -> dict[str, Any]:
    return {"place": code}


def phrases(says: Iterable[Say]) -> dict[str, Any]:
    return {"phrases": [s.stored() for s in says]}


TYPED = "%(text)s"


def as_typed(text: str, *, zh_hant: str = "") -> Say:
    """Text a person typed (a hold's public reason): shown as written, in no catalogue; its
    Traditional Chinese version, where the person wrote one, on the Chinese pages."""
    return Say(TYPED, {"text": text, "zh_hant": zh_hant} if zh_hant else {"text": text})


def english(said: Iterable[Say]) -> str:
    """The sentences in English, each starting with a capital letter."""
    return said_text([s.stored() for s in said])


def english_phrase(say: Say) -> str:
    """A sentence part in English, as it is (no capital letter)."""
    return _Reader("en", _as_is).phrase(say.text, say.values)


def said_text(
    said: Iterable[Sequence[Any]],
    *,
    language: str = "en",
    translate: Callable[[str], str] | None = None,
) -> str:
    """Stored sentences (``Say.stored``) in ``language``: each template and word passed through
    ``translate`` (the reader's catalogue; English as written without one), jurisdictions by
    their name in that language, a typed text in its Chinese version where it has one. English
    sentences start with a capital letter and are joined by spaces; Chinese ones by nothing."""
    reader = _Reader(language, translate or _as_is)
    sentences = []
    for text, values in said:
        if reader.chinese and text == TYPED and values.get("zh_hant"):
            sentences.append(values["zh_hant"])
        else:
            sentence = reader.phrase(text, values)
            sentences.append(sentence if reader.chinese else _capitalised(sentence))
    return ("" if reader.chinese else " ").join(sentences)


def render(text: str, values: Mapping[str, Any], value: Callable[[Any], str]) -> str:
    """``text`` with its values put in by ``value`` (a function of one stored value)."""
    if not values:
        return text
    return text % {name: value(v) for name, v in values.items()}


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True)
class _Reader:
    language: str
    translate: Callable[[str], str]

    @property
    def chinese(self) -> bool:
        return self.language.lower().startswith("zh")

    def phrase(self, text: str, values: Mapping[str, Any]) -> str:
        return render(self.translate(text), values, self.value)

    def value(self, v: Any) -> str:
        if isinstance(v, dict):
            if "word" in v:
                return self.translate(v["word"])
            if "words" in v:
                listed = ("、" if self.chinese else ", ").join(
                    self.translate(w) for w in v["words"]
                )
                return listed or self.translate(NOTHING)
            if "place" in v:
                return country_name(v["place"], language=self.language)
            if "phrases" in v:
                return ("；" if self.chinese else "; ").join(
                    self.phrase(t, vs) for t, vs in v["phrases"]
                )
        return str(v)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


NOTHING = _("nothing")

# In a sentence: a kind of legal process, with its article.
KINDS = {
    "SUBPOENA": _("a subpoena"),
    "COURT_ORDER": _("a court order"),
    "SEARCH_WARRANT": _("a search warrant"),
    "EMERGENCY": _("an emergency request"),
    "PRESERVATION": _("a preservation request"),
    "MLAT": _("an MLAT request"),
    "OTHER": _("a request of another kind"),
    "": _("stronger process"),
}
CATEGORIES = {
    "BASIC_SUBSCRIBER": _("basic subscriber information"),
    "IP_LOGS": _("IP address logs"),
    "TRANSACTIONAL": _("transactional records"),
    "CONTENT": _("stored content"),
    "LOCATION": _("location history"),
}
OFFENCES = {
    "CHILD_SAFETY": _("child safety"),
    "TERRORISM": _("terrorism"),
    "VIOLENT_CRIME": _("violent crime"),
    "HUMAN_TRAFFICKING": _("human trafficking"),
    "FRAUD": _("fraud"),
    "CYBERCRIME": _("cybercrime"),
    "NATIONAL_SECURITY": _("national security"),
    "PUBLIC_ORDER": _("public order"),
    "DEFAMATION": _("defamation"),
    "OTHER": _("another offence"),
}
AGENCY_STATUSES = {
    "PENDING": _("still pending verification"),
    "VERIFIED": _("verified by the platform"),
    "SUSPENDED": _("suspended by the platform"),
}
CHANNELS = {
    "API": _("the API"),
    "PORTAL": _("the portal"),
    "STAFF": _("staff intake"),
}
TARGET_TYPES = {
    "EMAIL": _("e-mail address"),
    "PHONE": _("phone number"),
    "USERNAME": _("username"),
    "USER_ID": _("user ID"),
    "IP_ADDRESS": _("IP address"),
    "URL": _("URL"),
}
# A request's field, as the document check names it.
FIELDS = {
    "agency_case_number": _("case number"),
    "issuing_authority": _("issuing authority"),
    "targets": _("account"),
    "issued_on": _("issue date"),
    "expires_on": _("expiry date"),
    "kind": _("kind of process"),
}


def coded(table: Mapping[str, str], code: str) -> dict[str, Any]:
    """The word for ``code`` in ``table``; an unknown code, in lower case (never raw)."""
    return word(table.get(code, code.replace("_", " ").lower()))
