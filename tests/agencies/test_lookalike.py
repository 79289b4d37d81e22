"""agencies.lookalike: which domains imitate a verified agency's, and why (pure, no database)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from govreq.agencies.lookalike import (
    _LOOKS_LIKE,
    LookalikeKind,
    VerifiedDomain,
    damerau_levenshtein,
    find_lookalikes,
    is_official,
    skeleton,
)
from govreq.core.domains import canonical_domain, canonical_email, display_domain

HKPF = VerifiedDomain(agency_id=1, agency_name="Hong Kong Police Force", domain="police.gov.hk")
FBI = VerifiedDomain(agency_id=2, agency_name="FBI", domain="fbi.gov")
MET = VerifiedDomain(agency_id=3, agency_name="Metropolitan Police", domain="met.police.uk")
BKA = VerifiedDomain(agency_id=4, agency_name="BKA", domain="bka.bund.de")
DELHI = VerifiedDomain(agency_id=5, agency_name="Delhi Police", domain="delhipolice.gov.in")
AFP = VerifiedDomain(
    agency_id=6, agency_name="Australian Federal Police", domain="afp.gov.au", allow_subdomains=True
)
VERIFIED = [HKPF, FBI, MET, BKA, DELHI, AFP]

# (examined domain, imitated domain, kind, words the explanation must contain)
LOOKALIKES = [
    ("p\u043elice.gov.hk", "police.gov.hk", "CONFUSABLE", ["Cyrillic small letter o", "mixes"]),
    ("xn--plice-jye.gov.hk", "police.gov.hk", "CONFUSABLE", ["written xn--plice-jye.gov.hk"]),
    ("XN--PLICE-JYE.GOV.HK.", "police.gov.hk", "CONFUSABLE", ["Cyrillic"]),
    ("p\u03bflice.gov.hk", "police.gov.hk", "CONFUSABLE", ["Greek small letter omicron"]),
    ("p\u00f3lice.gov.hk", "police.gov.hk", "CONFUSABLE", ["acute"]),
    ("po1ice.gov.hk", "police.gov.hk", "CONFUSABLE", ["'1' in place of 'l'"]),
    ("p0lice.gov.hk", "police.gov.hk", "CONFUSABLE", ["'0' in place of 'o'"]),
    ("pollce.gov.hk", "police.gov.hk", "CONFUSABLE", ["'l' in place of 'i'"]),
    ("rnet.police.uk", "met.police.uk", "CONFUSABLE", ["'rn' in place of 'm'"]),
    ("fb1.gov", "fbi.gov", "CONFUSABLE", ["'1' in place of 'i'"]),
    ("mail.p\u043elice.gov.hk", "police.gov.hk", "CONFUSABLE", ["Cyrillic"]),
    ("bk\u0430.bund.de", "bka.bund.de", "CONFUSABLE", ["Cyrillic small letter a"]),
    ("police-gov.hk", "police.gov.hk", "JOINED", ["dots or hyphens"]),
    ("policegov.hk", "police.gov.hk", "JOINED", ["dots or hyphens"]),
    ("police.gov.hk.example.com", "police.gov.hk", "EMBEDDED", ["belongs to example.com"]),
    ("www.fbi.gov.evil.com", "fbi.gov", "EMBEDDED", ["'.evil.com'", "belongs to evil.com"]),
    ("police.gov.hk-secure.com", "police.gov.hk", "EMBEDDED", ["'-secure.com'"]),
    ("police.gov.hk.co", "police.gov.hk", "EMBEDDED", ["'.co'"]),
    ("police.gov.com", "police.gov.hk", "OTHER_SUFFIX", [".com instead of .hk"]),
    ("police.com", "police.gov.hk", "OTHER_SUFFIX", [".com instead of .gov.hk"]),
    ("police.co.hk", "police.gov.hk", "OTHER_SUFFIX", [".co.hk instead of .gov.hk"]),
    ("fbi.com", "fbi.gov", "OTHER_SUFFIX", [".com instead of .gov"]),
    ("police.hk", "police.gov.hk", "MISSING_LABEL", ["without its label 'gov'"]),
    ("police.gov.gov.hk", "police.gov.hk", "EXTRA_LABEL", ["extra label 'gov'"]),
    ("polise.gov.hk", "police.gov.hk", "EDIT_DISTANCE", ["'s' in place of 'c'"]),
    ("plolice.gov.hk", "police.gov.hk", "EDIT_DISTANCE", ["'l' added"]),
    ("poilce.gov.hk", "police.gov.hk", "CONFUSABLE", ["'il' in place of 'li'"]),
    ("polcie.gov.hk", "police.gov.hk", "EDIT_DISTANCE", ["'ci' in place of 'ic'"]),
    ("delhipolicee.gov.in", "delhipolice.gov.in", "EDIT_DISTANCE", ["'e' added"]),
    ("bka.bvnd.de", "bka.bund.de", "EDIT_DISTANCE", ["'v' in place of 'u'"]),
    ("ic.fbi.gov", "fbi.gov", "SUBDOMAIN_NOT_ACCEPTED", ["FBI accepts no subdomains"]),
]

NOT_LOOKALIKES = [
    "police.gov.hk",  # the verified domain itself
    "POLICE.GOV.HK.",  # the same, spelt differently
    "canberra.afp.gov.au",  # a subdomain of an agency that accepts them
    "gov.hk",  # a parent: run by the same people
    "kent.police.uk",  # another force under police.uk
    "bfv.bund.de",  # another host of the same registered domain
    "doj.gov.hk",
    "example.com",
    "ic.gov",  # short names have too many real neighbours for edit distance
    "synthetic-hk.example",
    "not a domain",
]


@pytest.mark.parametrize(("examined", "imitated", "kind", "words"), LOOKALIKES)
def test_lookalike_is_found_with_the_imitated_agency_and_why(examined, imitated, kind, words):
    findings = find_lookalikes(examined, VERIFIED)
    assert [(f.domain, f.kind) for f in findings] == [(imitated, LookalikeKind(kind))]
    official = next(v for v in VERIFIED if v.domain == imitated)
    assert findings[0].agency_id == official.agency_id
    assert findings[0].agency_name == official.agency_name
    for word in words:
        assert word in findings[0].why, findings[0].why


@pytest.mark.parametrize("examined", NOT_LOOKALIKES)
def test_not_a_lookalike(examined):
    assert find_lookalikes(examined, [*VERIFIED, _domain("synthetic-us.example")]) == []


def test_a_verified_domain_is_never_a_lookalike_of_another():
    """police.gov.sg may look like police.gov.hk, but once verified it is settled."""
    singapore = VerifiedDomain(agency_id=9, agency_name="SPF", domain="police.gov.sg")
    assert find_lookalikes("police.gov.sg", [HKPF]) != []
    assert find_lookalikes("police.gov.sg", [HKPF, singapore]) == []
    assert is_official("police.gov.sg", [HKPF, singapore])
    assert not is_official("police.gov.sg", [HKPF])


def test_each_imitated_domain_is_named_once_in_order():
    second = VerifiedDomain(agency_id=1, agency_name="Hong Kong Police Force", domain="police.hk")
    findings = find_lookalikes("p0lice.gov.hk", [second, HKPF, FBI])
    assert [(f.agency_id, f.domain) for f in findings] == [
        (1, "police.gov.hk"),
        (1, "police.hk"),
    ]
    assert findings[0].as_record() == {
        "agency": 1,
        "name": "Hong Kong Police Force",
        "domain": "police.gov.hk",
        "kind": "CONFUSABLE",
        "why": "looks the same as police.gov.hk: '0' in place of 'o'",
    }


@pytest.mark.parametrize("character", sorted(_LOOKS_LIKE))
def test_every_confusable_survives_idna_and_is_caught(character):
    """Each table entry is a character a registry could accept, and passes for its letter."""
    letter = _LOOKS_LIKE[character]
    real = f"ab{letter}cd.example"
    fake = canonical_domain(f"ab{character}cd.example")
    assert fake is not None and fake.startswith("xn--")
    finding = find_lookalikes(fake, [_domain(real)])
    assert [f.kind for f in finding] == [LookalikeKind.CONFUSABLE]


# --- properties ---------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_label = st.text(alphabet=_LETTERS + "0123456789", min_size=1, max_size=12).filter(
    lambda label: not label.isdigit()
)
_suffix = st.sampled_from(["gov.hk", "gov", "com", "police.uk", "bund.de", "org", "gov.in"])
_domains = st.builds(
    lambda labels, suffix: ".".join([*labels, suffix]),
    st.lists(_label, min_size=1, max_size=3),
    _suffix,
)


def _domain(domain: str, *, allow_subdomains: bool = False) -> VerifiedDomain:
    return VerifiedDomain(
        agency_id=7, agency_name="Agency", domain=domain, allow_subdomains=allow_subdomains
    )


@given(_domains)
def test_the_exact_domain_is_never_flagged(domain):
    assert find_lookalikes(domain, [_domain(domain)]) == []
    assert find_lookalikes(domain.upper() + ".", [_domain(domain)]) == []


@given(_domains, _label)
def test_a_real_subdomain_is_never_flagged_when_subdomains_are_accepted(domain, host):
    assert find_lookalikes(f"{host}.{domain}", [_domain(domain, allow_subdomains=True)]) == []


# What a letter may be swapped for: the table's look-alikes, and the digit and pair swaps.
_IMITATIONS: dict[str, list[str]] = {}
for _character, _letter in _LOOKS_LIKE.items():
    _IMITATIONS.setdefault(_letter, []).append(_character)
for _letter, _imitation in [("o", "0"), ("l", "1"), ("i", "1"), ("i", "l"), ("l", "i")]:
    _IMITATIONS.setdefault(_letter, []).append(_imitation)
_IMITATIONS["m"].append("rn")
_IMITATIONS["w"].append("vv")


@given(
    st.text(alphabet=_LETTERS, min_size=2, max_size=14),
    _suffix,
    st.data(),
)
def test_any_single_substitution_by_a_confusable_is_flagged(name, suffix, data):
    positions = [i for i, letter in enumerate(name) if letter in _IMITATIONS]
    assume(positions)
    index = data.draw(st.sampled_from(positions))
    imitation = data.draw(st.sampled_from(_IMITATIONS[name[index]]))
    real = f"{name}.{suffix}"
    fake = canonical_domain(f"{name[:index]}{imitation}{name[index + 1 :]}.{suffix}")
    assert fake is not None
    findings = find_lookalikes(fake, [_domain(real)])
    assert [(f.domain, f.kind) for f in findings] == [(real, LookalikeKind.CONFUSABLE)]


@given(st.text(alphabet=_LETTERS, min_size=4, max_size=12), _suffix, st.data())
def test_one_typo_in_a_name_of_four_letters_or_more_is_flagged(name, suffix, data):
    index = data.draw(st.integers(0, len(name) - 1))
    replacement = data.draw(st.sampled_from(_LETTERS))
    typo = name[:index] + replacement + name[index + 1 :]
    assume(skeleton(typo) != skeleton(name))
    findings = find_lookalikes(f"{typo}.{suffix}", [_domain(f"{name}.{suffix}")])
    assert len(findings) == 1


@given(st.text(max_size=8), st.text(max_size=8), st.text(max_size=8))
def test_damerau_levenshtein_is_a_distance(first, second, third):
    assert damerau_levenshtein(first, first) == 0
    assert damerau_levenshtein(first, second) == damerau_levenshtein(second, first)
    assert damerau_levenshtein(first, second) <= max(len(first), len(second))
    assert damerau_levenshtein(first + "ab", first + "ba") == 1


# --- one canonical form (core.domains) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("b\u00fccher.example", "xn--bcher-kva.example"),
        ("B\u00dcCHER.Example.", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("@Police.gov.hk", "police.gov.hk"),
        ("\uff50\uff4f\uff4c\uff49\uff43\uff45.gov.hk", "police.gov.hk"),  # full-width letters
        ("stra\u00dfe.de", "xn--strae-oqa.de"),  # IDNA 2008: not strasse.de
        ("xn--zz.example", None),  # not a valid A-label
        ("localhost", None),
        ("a..b", None),
        ("-a.example", None),
        ("a.123", None),
    ],
)
def test_canonical_domain(raw, canonical):
    assert canonical_domain(raw) == canonical


def test_an_internationalised_address_and_its_punycode_form_are_one():
    assert canonical_email("User@B\u00fccher.Example") == "user@xn--bcher-kva.example"
    assert canonical_email("user@xn--bcher-kva.example") == "user@xn--bcher-kva.example"
    assert canonical_email("no-at-sign") is None
    assert canonical_email("@example.com") is None
    assert display_domain("xn--bcher-kva.example") == "b\u00fccher.example"


@given(st.text(alphabet=_LETTERS + "\u00fc\u00e9\u00f1\u0430\u03bf-", min_size=1, max_size=10))
def test_canonical_form_is_stable(label):
    canonical = canonical_domain(f"{label}.example")
    assume(canonical is not None)
    assert canonical_domain(canonical) == canonical
    assert canonical_domain(display_domain(canonical)) == canonical
