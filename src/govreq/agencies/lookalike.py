"""Look-alike domains: does a domain imitate one of a verified agency's? Pure: no ORM, no I/O.

A forged emergency request usually comes from a domain registered to look like a real agency's:
``xn--plice-jye.gov.hk`` (a Cyrillic "o"), ``po1ice.gov.hk``, ``police-gov.hk``,
``police.gov.hk.example.com``, ``police.gov.com``. Every rule compares *skeletons*: the
domain's Unicode form with accents dropped and each look-alike character (or pair such as "rn")
replaced by the Latin letter it imitates, so one rule catches a typo written in any script.
Each finding names the verified domain it imitates and explains, in words, what differs.

Not a look-alike: the verified domain itself, a subdomain of it when the agency accepts
subdomains, a parent of it, another host of the same registered domain (unless the two look the
same). A domain that is itself a verified agency's is never a look-alike: the question was
settled when it was added.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

from govreq.core.domains import canonical_domain, display_domain

# Characters of other scripts (and Latin letters outside ASCII) that pass for a Latin letter in
# a lower-case domain; a compact subset of Unicode's confusables (UTS 39) for Latin, Cyrillic,
# Greek and Armenian. Accented letters need no entry: accents are dropped first.
_LOOKS_LIKE: dict[str, str] = {
    # Cyrillic
    "\u0430": "a",  # cyrillic small letter a
    "\u044c": "b",  # cyrillic small letter soft sign
    "\u0441": "c",  # cyrillic small letter es
    "\u0501": "d",  # cyrillic small letter komi de
    "\u0435": "e",  # cyrillic small letter ie
    "\u04bb": "h",  # cyrillic small letter shha
    "\u0456": "i",  # cyrillic small letter byelorussian-ukrainian i
    "\u0458": "j",  # cyrillic small letter je
    "\u043a": "k",  # cyrillic small letter ka
    "\u04cf": "l",  # cyrillic small letter palochka
    "\u043c": "m",  # cyrillic small letter em
    "\u043f": "n",  # cyrillic small letter pe
    "\u043e": "o",  # cyrillic small letter o
    "\u0440": "p",  # cyrillic small letter er
    "\u051b": "q",  # cyrillic small letter qa
    "\u0433": "r",  # cyrillic small letter ghe
    "\u0455": "s",  # cyrillic small letter dze
    "\u0442": "t",  # cyrillic small letter te
    "\u0475": "v",  # cyrillic small letter izhitsa
    "\u051d": "w",  # cyrillic small letter we
    "\u0445": "x",  # cyrillic small letter ha
    "\u0443": "y",  # cyrillic small letter u
    "\u04af": "y",  # cyrillic small letter straight u
    # Greek
    "\u03b1": "a",  # greek small letter alpha
    "\u03b2": "b",  # greek small letter beta
    "\u03b5": "e",  # greek small letter epsilon
    "\u03b7": "n",  # greek small letter eta
    "\u03b9": "i",  # greek small letter iota
    "\u03f3": "j",  # greek letter yot
    "\u03ba": "k",  # greek small letter kappa
    "\u03bd": "v",  # greek small letter nu
    "\u03bf": "o",  # greek small letter omicron
    "\u03c1": "p",  # greek small letter rho
    "\u03c4": "t",  # greek small letter tau
    "\u03c5": "u",  # greek small letter upsilon
    "\u03c7": "x",  # greek small letter chi
    "\u03b3": "y",  # greek small letter gamma
    "\u03c9": "w",  # greek small letter omega
    # Armenian
    "\u0561": "w",  # armenian small letter ayb
    "\u0581": "g",  # armenian small letter co
    "\u0570": "h",  # armenian small letter ho
    "\u0578": "n",  # armenian small letter vo
    "\u0585": "o",  # armenian small letter oh
    "\u0566": "q",  # armenian small letter za
    "\u057d": "u",  # armenian small letter seh
    # Latin letters outside ASCII
    "\u0131": "i",  # latin small letter dotless i
    "\u0269": "i",  # latin small letter iota
    "\u0251": "a",  # latin small letter alpha
    "\u0261": "g",  # latin small letter script g
    "\u0142": "l",  # latin small letter l with stroke
    "\u00f8": "o",  # latin small letter o with stroke
    "\u0111": "d",  # latin small letter d with stroke
    "\u0127": "h",  # latin small letter h with stroke
    "\u0274": "n",  # latin letter small capital n
    "\u0280": "r",  # latin letter small capital r
    "\u028f": "y",  # latin letter small capital y
}
# Digits and letters read for each other (0/o, 1/l/i), and letters that read as a pair (m/rn,
# w/vv). A letter becomes its pair rather than a pair its letter: character by character, the
# skeleton of a string is then the skeletons of its parts joined ("vvv" and "vw" are alike).
_SWAPS = str.maketrans({"0": "o", "1": "l", "i": "l", "m": "rn", "w": "vv"})

# Second-level labels under which a country hands out names (police.gov.hk, met.police.uk,
# bka.bund.de): without the Public Suffix List (no network, no dependency) this is enough to
# find the registered name of an agency's domain.
_SECOND_LEVEL = frozenset(
    {
        "ac",
        "admin",
        "bund",
        "co",
        "com",
        "edu",
        "gc",
        "go",
        "gob",
        "gouv",
        "gov",
        "govt",
        "gub",
        "gv",
        "int",
        "judiciary",
        "justice",
        "mil",
        "net",
        "nic",
        "or",
        "org",
        "police",
    }
)

# Scripts that may share a label (UTS 39 "highly restrictive"): Japanese, Chinese, Korean.
_MIXABLE = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)


class LookalikeKind(StrEnum):
    """How a domain imitates a verified one (stable codes)."""

    CONFUSABLE = "CONFUSABLE"
    SUBDOMAIN_NOT_ACCEPTED = "SUBDOMAIN_NOT_ACCEPTED"
    EMBEDDED = "EMBEDDED"
    JOINED = "JOINED"
    EXTRA_LABEL = "EXTRA_LABEL"
    MISSING_LABEL = "MISSING_LABEL"
    OTHER_SUFFIX = "OTHER_SUFFIX"
    EDIT_DISTANCE = "EDIT_DISTANCE"


@dataclass(frozen=True, kw_only=True)
class VerifiedDomain:
    """One official domain of a verified agency (canonical ASCII form)."""

    agency_id: int
    agency_name: str
    domain: str
    allow_subdomains: bool = False


@dataclass(frozen=True, kw_only=True)
class Lookalike:
    """A verified agency's domain that the examined domain imitates, and why."""

    agency_id: int
    agency_name: str
    domain: str
    kind: LookalikeKind
    why: str

    def as_record(self) -> dict[str, object]:
        """The JSON form stored on an access request and in audit events."""
        return {
            "agency": self.agency_id,
            "name": self.agency_name,
            "domain": self.domain,
            "kind": str(self.kind),
            "why": self.why,
        }


def skeleton(text: str) -> str:
    """What ``text`` looks like: accents dropped, look-alike characters replaced by the Latin
    letters they pass for, 0/o and 1/l/i made one, m and w written as rn and vv."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    letters = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return "".join(_LOOKS_LIKE.get(ch, ch) for ch in letters).translate(_SWAPS)


def damerau_levenshtein(first: str, second: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from one string to the other
    (optimal string alignment)."""
    before_previous: list[int] = []
    previous = list(range(len(second) + 1))
    for i in range(1, len(first) + 1):
        current = [i] + [0] * len(second)
        for j in range(1, len(second) + 1):
            cost = 0 if first[i - 1] == second[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and first[i - 1] == second[j - 2] and first[i - 2] == second[j - 1]:
                current[j] = min(current[j], before_previous[j - 2] + 1)
        before_previous, previous = previous, current
    return previous[-1]


def _edit_limit(name: str) -> int:
    """How many edits of a registered name still read as that name: none for short names
    (too many real neighbours), one from four letters, two from thirteen."""
    if len(name) < 4:
        return 0
    return 1 if len(name) < 13 else 2


@dataclass(frozen=True)
class _Parsed:
    ascii: str
    shown: str
    labels: tuple[str, ...]  # Unicode labels
    skeleton_labels: tuple[str, ...]
    suffix_length: int

    @classmethod
    def of(cls, ascii_domain: str) -> _Parsed:
        shown = display_domain(ascii_domain)
        labels = tuple(shown.split("."))
        skeletons = tuple(skeleton(label) for label in labels)
        suffix_length = 1
        if len(labels) >= 3 and len(skeletons[-1]) == 2 and skeletons[-2] in _SECOND_LEVEL_SHAPES:
            suffix_length = 2
        return cls(ascii_domain, shown, labels, skeletons, suffix_length)

    @property
    def skeleton(self) -> str:
        return ".".join(self.skeleton_labels)

    @property
    def name_index(self) -> int:
        """Index of the registered name's label (the one before the public suffix)."""
        return max(len(self.labels) - self.suffix_length - 1, 0)

    @property
    def registered(self) -> str:
        return ".".join(self.ascii.split(".")[self.name_index :])

    @property
    def registered_shown(self) -> str:
        return ".".join(self.labels[self.name_index :])

    @property
    def registered_skeleton(self) -> str:
        return ".".join(self.skeleton_labels[self.name_index :])

    @property
    def suffix_skeleton(self) -> str:
        return ".".join(self.skeleton_labels[self.name_index + 1 :])


_SECOND_LEVEL_SHAPES = frozenset(skeleton(label) for label in _SECOND_LEVEL)


def find_lookalikes(domain: str, verified: Iterable[VerifiedDomain]) -> list[Lookalike]:
    """The verified domains ``domain`` imitates, one finding each, ordered by agency and
    domain. ``domain`` may be in any form (Unicode, punycode, upper case); an invalid one has
    no findings (validating it is the caller's job)."""
    ascii_domain = canonical_domain(domain)
    verified = list(verified)
    if ascii_domain is None or is_official(ascii_domain, verified):
        return []
    examined = _Parsed.of(ascii_domain)
    findings: list[Lookalike] = []
    for official in sorted(verified, key=lambda v: (v.agency_id, v.domain)):
        real = _Parsed.of(official.domain)
        verdict = _compare(examined, real, official)
        if verdict is not None:
            kind, why = verdict
            findings.append(
                Lookalike(
                    agency_id=official.agency_id,
                    agency_name=official.agency_name,
                    domain=official.domain,
                    kind=kind,
                    why=why + _character_notes(examined, kind),
                )
            )
    return findings


def is_official(domain: str, verified: Iterable[VerifiedDomain]) -> bool:
    """Whether ``domain`` is a verified agency's own (or a subdomain of one that accepts
    subdomains)."""
    ascii_domain = canonical_domain(domain)
    if ascii_domain is None:
        return False
    return any(
        ascii_domain == official.domain
        or (official.allow_subdomains and ascii_domain.endswith("." + official.domain))
        for official in verified
    )


def _compare(
    examined: _Parsed, real: _Parsed, official: VerifiedDomain
) -> tuple[LookalikeKind, str] | None:
    shown, real_shown = examined.shown, real.shown
    if examined.ascii.endswith("." + real.ascii):
        why = f"a subdomain of {real_shown}, but {official.agency_name} accepts no subdomains"
        return LookalikeKind.SUBDOMAIN_NOT_ACCEPTED, why
    if real.ascii.endswith("." + examined.ascii):
        return None  # a parent of the verified domain is run by the same people
    if examined.registered == real.registered:
        # Another host of the same registered domain, unless it is dressed up as this one.
        if examined.skeleton == real.skeleton:
            why = f"looks the same as {real_shown}: {_differences(shown, real_shown)}"
            return LookalikeKind.CONFUSABLE, why
        return None
    embedded = _embedded_remainder(examined, real)
    if embedded is not None:
        why = (
            f"contains {real_shown} followed by '{embedded}': the address belongs to "
            f"{examined.registered_shown}, not to {real_shown}"
        )
        return LookalikeKind.EMBEDDED, why
    if examined.registered_skeleton == real.registered_skeleton:
        difference = _differences(examined.registered_shown, real.registered_shown)
        return LookalikeKind.CONFUSABLE, f"looks the same as {real_shown}: {difference}"
    if _without_separators(examined.registered_skeleton) == _without_separators(
        real.registered_skeleton
    ):
        why = f"the letters of {real_shown} with the dots or hyphens moved"
        return LookalikeKind.JOINED, why
    label_change = _label_change(examined.skeleton_labels, real.skeleton_labels, examined.labels)
    if label_change is not None:
        kind, label = label_change
        if kind == LookalikeKind.EXTRA_LABEL:
            return kind, f"{real_shown} with an extra label '{label}'"
        missing = real.labels[real.skeleton_labels.index(label)]
        return kind, f"{real_shown} without its label '{missing}'"
    same_name = (
        examined.skeleton_labels[examined.name_index] == real.skeleton_labels[real.name_index]
    )
    if same_name and examined.suffix_skeleton != real.suffix_skeleton:
        name = examined.labels[examined.name_index]
        why = (
            f"the name '{name}' of {real_shown} under another ending: "
            f".{'.'.join(examined.labels[examined.name_index + 1 :])} instead of "
            f".{'.'.join(real.labels[real.name_index + 1 :])}"
        )
        return LookalikeKind.OTHER_SUFFIX, why
    if (
        len(examined.labels) == len(real.labels)
        and examined.skeleton_labels[:-1] == real.skeleton_labels[:-1]
    ):
        why = (
            f"{'.'.join(real.labels[:-1])} under another top-level domain: "
            f".{examined.labels[-1]} instead of .{real.labels[-1]}"
        )
        return LookalikeKind.OTHER_SUFFIX, why
    typo = _typo(examined, real)
    if typo is not None:
        distance, difference = typo
        edits = "one character" if distance == 1 else f"{distance} characters"
        return LookalikeKind.EDIT_DISTANCE, f"{edits} away from {real_shown}: {difference}"
    return None


def _typo(examined: _Parsed, real: _Parsed) -> tuple[int, str] | None:
    """A few edits in one label (``polise.gov.hk``, ``bka.bvnd.de``), or in the registered name
    under the same suffix (``mail.polise.gov.hk``): the edits, and what differs in words."""
    if len(examined.labels) == len(real.labels):
        differing = [
            index
            for index, label in enumerate(real.skeleton_labels)
            if examined.skeleton_labels[index] != label
        ]
        if len(differing) != 1:
            return None
        index = differing[0]
        shown, real_label = examined.labels[index], real.labels[index]
        real_skeleton = real.skeleton_labels[index]
    elif examined.suffix_skeleton == real.suffix_skeleton:
        shown, real_label = examined.labels[examined.name_index], real.labels[real.name_index]
        real_skeleton = real.skeleton_labels[real.name_index]
    else:
        return None
    # The fewer edits of the two readings: as seen (skeletons) and as written.
    distance = min(
        damerau_levenshtein(skeleton(shown), real_skeleton),
        damerau_levenshtein(shown, real_label),
    )
    if 0 < distance <= _edit_limit(real_skeleton):
        return distance, _differences(shown, real_label)
    return None


def _embedded_remainder(examined: _Parsed, real: _Parsed) -> str | None:
    """What follows the real domain inside the examined one when it appears there as whole
    labels followed by more (``police.gov.hk.example.com``, ``police.gov.hk-secure.com``)."""
    width = len(real.skeleton_labels)
    for start in range(len(examined.labels) - width + 1):
        window = examined.skeleton_labels[start : start + width]
        if window[:-1] != real.skeleton_labels[:-1]:
            continue
        after = examined.labels[start + width :]
        last = examined.labels[start + width - 1]
        if window[-1] == real.skeleton_labels[-1] and after:
            return "." + ".".join(after)
        for index, ch in enumerate(last):
            if ch == "-" and skeleton(last[:index]) == real.skeleton_labels[-1]:
                return ".".join((last[index:], *after))
    return None


def _without_separators(text: str) -> str:
    return text.replace(".", "").replace("-", "")


def _label_change(
    examined: tuple[str, ...], real: tuple[str, ...], examined_shown: tuple[str, ...]
) -> tuple[LookalikeKind, str] | None:
    """One label added inside the real domain (not in front: that is a subdomain; not at the
    end: that is embedding), or one label of it left out."""
    if len(examined) == len(real) + 1:
        for index in range(1, len(real)):
            if examined[:index] + examined[index + 1 :] == real:
                return LookalikeKind.EXTRA_LABEL, examined_shown[index]
    if len(examined) + 1 == len(real) and len(examined) >= 2:
        for index in range(1, len(real)):
            if real[:index] + real[index + 1 :] == examined:
                return LookalikeKind.MISSING_LABEL, real[index]
    return None


def _differences(shown: str, real: str) -> str:
    """What the examined text shows where the real one has something else, in words."""
    parts: list[str] = []
    if len(shown) == len(real):
        start = None
        for index in range(len(shown) + 1):
            same = index == len(shown) or shown[index] == real[index]
            if not same and start is None:
                start = index
            elif same and start is not None:
                parts.append(
                    f"{_quoted(shown[start:index])} in place of {_quoted(real[start:index])}"
                )
                start = None
        return "; ".join(parts) or "the same letters"
    matcher = SequenceMatcher(None, shown, real, autojunk=False)
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "replace":
            parts.append(f"{_quoted(shown[i1:i2])} in place of {_quoted(real[j1:j2])}")
        elif operation == "insert":
            parts.append(f"{_quoted(real[j1:j2])} left out")
        elif operation == "delete":
            parts.append(f"{_quoted(shown[i1:i2])} added")
    return "; ".join(parts) or "the same letters"


def _quoted(text: str) -> str:
    foreign = [ch for ch in text if not ch.isascii()]
    if not foreign:
        return f"'{text}'"
    return f"'{text}' ({', '.join(_character_name(ch) for ch in foreign)})"


def _character_name(ch: str) -> str:
    name = unicodedata.name(ch, "").lower()
    name = name[:1].upper() + name[1:] if name else "unnamed character"
    return f"{name}, U+{ord(ch):04X}"


def _script(ch: str) -> str | None:
    if not unicodedata.category(ch).startswith("L"):
        return None
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]


def _character_notes(examined: _Parsed, kind: LookalikeKind) -> str:
    """Mixed scripts, foreign look-alike letters and punycode, whatever the rule that matched."""
    notes: list[str] = []
    for label in examined.labels:
        scripts = {script for ch in label if (script := _script(ch)) is not None}
        if len(scripts) > 1 and not any(scripts <= allowed for allowed in _MIXABLE):
            names = " and ".join(sorted(script.title() for script in scripts))
            notes.append(f"mixes {names} letters in '{label}'")
    if kind not in {LookalikeKind.CONFUSABLE, LookalikeKind.EDIT_DISTANCE}:
        foreign = sorted({ch for ch in examined.shown if not ch.isascii() and skeleton(ch) != ch})
        notes.extend(
            f"'{ch}' ({_character_name(ch)}) passes for '{skeleton(ch)}'" for ch in foreign
        )
    if examined.ascii != examined.shown:
        notes.append(f"written {examined.ascii}, shown as {examined.shown}")
    return "".join(f"; {note}" for note in notes)
