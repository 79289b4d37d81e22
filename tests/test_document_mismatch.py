"""DOCUMENT_MISMATCH: the typed request against the text of its document, English and Chinese.

Pure: no database. ``facts()`` is a Hong Kong search warrant whose document agrees with it; each
test changes one side.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govreq.intake.targets import TargetInvalid, normalise_target
from govreq.policy.document import DEFAULT_POLICY, PolicyDocument
from govreq.review import document_match as match
from govreq.review.checks import (
    CHECKS,
    INFO,
    PASS,
    WARN,
    DocumentTextFact,
    RequestFacts,
    document_mismatch,
)

POLICY = PolicyDocument.model_validate(DEFAULT_POLICY)
RECEIVED = date(2020, 7, 6)


def wide(text: str) -> str:
    """``text`` in full-width characters, as Chinese documents often write Latin letters and
    digits."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


CHINESE_WARRANT = """香港特別行政區
搜查令
簽發機關：裁判官
案件編號：{wide_case}
簽發日期：{wide_year}年{wide_month}月{wide_day}日
有效期至：2020年8月3日
涉及帳戶：
+852 9123 4567
Victim.Finder@Bücher.example
@Scammer_HK
2001:db8::1
""".format(
    wide_case=wide("HK-2020-1234"), wide_year=wide("2020"), wide_month=wide("7"), wide_day=wide("3")
)

ENGLISH_SUBPOENA = """Federal Bureau of Investigation
SUBPOENA TO PRODUCE RECORDS
Issued by: U.S. District Court, N.D. Cal.
Case No.: SF-2020-0042
Issued on 3 July 2020. Valid until August 3, 2020.
Accounts: (415) 555-0123, victim.finder@xn--bcher-kva.example
"""


def facts(text: str = CHINESE_WARRANT, **overrides: object) -> RequestFacts:
    base = RequestFacts(
        jurisdiction="HK",
        agency_name="Hong Kong Police Force",
        agency_status="VERIFIED",
        kind="SEARCH_WARRANT",
        offence_category="FRAUD",
        legal_basis="Cap. 232",
        narrative="Investment scam.",
        data_categories=frozenset({"BASIC_SUBSCRIBER"}),
        data_from=None,
        data_to=None,
        received_on=RECEIVED,
        target_count=4,
        document_count=1,
        gag_order=False,
        gag_legal_basis="",
        gag_expires_on=None,
        emergency_danger="",
        emergency_why_now="",
        agency_case_number="HK-2020-1234",
        issuing_authority="Magistrate",
        targets=(
            ("PHONE", "+85291234567"),
            ("EMAIL", "victim.finder@xn--bcher-kva.example"),
            ("USERNAME", "scammer_hk"),
            ("IP_ADDRESS", "2001:db8::1"),
        ),
        documents=(DocumentTextFact(name="warrant.pdf", read=True, method="PDF", text=text),),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def fields_of(finding) -> list[str]:
    return [m["field"] for m in finding.details.get("mismatches", [])]


def test_it_is_one_of_the_checks():
    assert document_mismatch in CHECKS


def test_a_chinese_warrant_that_agrees_passes():
    finding = document_mismatch(facts(), POLICY)
    assert finding.outcome == PASS, finding.message


def test_an_english_subpoena_that_agrees_passes():
    finding = document_mismatch(
        facts(
            ENGLISH_SUBPOENA,
            jurisdiction="US",
            kind="SUBPOENA",
            agency_case_number="sf 2020 0042",
            issuing_authority="U.S. District Court, N.D. Cal.",
            targets=(("PHONE", "+14155550123"), ("EMAIL", "victim.finder@xn--bcher-kva.example")),
        ),
        POLICY,
    )
    assert finding.outcome == PASS, finding.message


def test_another_case_number_is_a_warning_naming_both():
    finding = document_mismatch(facts(agency_case_number="HK-2020-1243"), POLICY)
    assert finding.outcome == WARN
    assert fields_of(finding) == ["agency_case_number"]
    assert "HK-2020-1243" in finding.message and "HK-2020-1234" in finding.message


def test_an_authority_the_document_does_not_name():
    finding = document_mismatch(facts(issuing_authority="High Court"), POLICY)
    assert fields_of(finding) == ["issuing_authority"]
    assert "High Court" in finding.message


@pytest.mark.parametrize(
    ("target", "expected_missing"),
    [
        (("PHONE", "+85291234568"), True),
        (("EMAIL", "victim.finder@bucher.example"), True),
        (("USERNAME", "scammer"), True),  # a prefix of the named account is another account
        (("IP_ADDRESS", "2001:db8::2"), True),
        (("USER_ID", "1234"), True),  # inside the case number, not an account of its own
        (("PHONE", "+85291234567"), False),
        (("EMAIL", "victim.finder@xn--bcher-kva.example"), False),
    ],
)
def test_each_account_must_be_named(target, expected_missing):
    finding = document_mismatch(facts(targets=(target,)), POLICY)
    assert (fields_of(finding) == [f"targets.{target[0]}"]) is expected_missing, finding.message


def test_a_document_issued_after_receipt_or_expired_before_it():
    issued_late = document_mismatch(facts(received_on=date(2020, 7, 1)), POLICY)
    assert fields_of(issued_late) == ["issued_on"]
    assert "2020年7月3日" in issued_late.message
    expired = document_mismatch(facts(received_on=date(2020, 8, 10)), POLICY)
    assert fields_of(expired) == ["expires_on"]
    # A day's slack for the time zones: received on 2 July UTC is 3 July in Hong Kong.
    assert document_mismatch(facts(received_on=date(2020, 7, 2)), POLICY).outcome == PASS
    assert document_mismatch(facts(received_on=date(2020, 8, 4)), POLICY).outcome == PASS


@pytest.mark.parametrize(
    ("kind", "named"),
    [("SEARCH_WARRANT", True), ("SUBPOENA", False), ("COURT_ORDER", False), ("OTHER", None)],
)
def test_the_kind_of_process_is_named(kind, named):
    finding = document_mismatch(facts(kind=kind), POLICY)
    assert ("kind" in fields_of(finding)) is (named is False)


def test_several_mismatches_are_all_listed():
    finding = document_mismatch(
        facts(agency_case_number="HK-2019-0001", kind="SUBPOENA", issuing_authority="High Court"),
        POLICY,
    )
    assert fields_of(finding) == ["agency_case_number", "issuing_authority", "kind"]


def test_no_readable_text_is_an_info_that_says_so():
    unreadable = DocumentTextFact(
        name="scan.png", read=True, method="NONE", note="a scanned image; OCR is not available"
    )
    finding = document_mismatch(facts(documents=(unreadable,)), POLICY)
    assert finding.outcome == INFO
    assert "No readable text" in finding.message and "OCR is not available" in finding.message


def test_text_not_read_yet_is_an_info_that_says_so():
    finding = document_mismatch(
        facts(documents=(DocumentTextFact(name="warrant.pdf", read=False),)), POLICY
    )
    assert finding.outcome == INFO
    assert "not been read yet" in finding.message


def test_one_readable_document_is_enough_and_the_unread_one_is_mentioned():
    documents = (
        DocumentTextFact(name="warrant.pdf", read=True, method="PDF", text=CHINESE_WARRANT),
        DocumentTextFact(name="annex.pdf", read=False),
    )
    finding = document_mismatch(facts(documents=documents, agency_case_number="X-1"), POLICY)
    assert finding.outcome == WARN and "annex.pdf not read yet" in finding.message


def test_no_document_passes_here_no_legal_document_says_it():
    assert document_mismatch(facts(documents=()), POLICY).outcome == PASS


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "text", "found"),
    [
        ("HK-2020-1234", "案件編號：" + wide("HK-2020-1234"), True),
        ("hk 2020 1234", "Case HK\u20132020\u20131234", True),  # en dashes
        ("HK/2020/1234", "Case hk/2020/1234.", True),
        ("HK-2020-1234", "Case HK-2020-1243", False),
        ("HK-2020-1234", "Case HK/2020/1234", False),  # a slash is not a dash
    ],
)
def test_case_numbers(typed, text, found):
    assert match.case_number_found(typed, text) is found


_SEPARATORS = st.sampled_from(["", " ", "-", "\u2013", "\u2014", "\uff0d", "\u3000", " - ", "_"])


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.from_regex(r"[A-Za-z0-9]{1,5}", fullmatch=True), min_size=1, max_size=4),
    separators=st.lists(_SEPARATORS, min_size=4, max_size=4),
    full_width=st.booleans(),
    upper=st.booleans(),
)
def test_a_case_number_is_found_however_it_is_spaced_dashed_cased_or_widened(
    parts, separators, full_width, upper
):
    typed = "-".join(parts)
    written = "".join(p + s for p, s in zip(parts, separators, strict=False))
    written = written.upper() if upper else written.lower()
    if full_width:
        written = "".join(
            chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and c not in "-_" else c for c in written
        )
    assert match.case_number_found(typed, f"Case No.: {written} (sealed)")
    assert unicodedata.normalize("NFKC", written)  # the generator made something


@settings(max_examples=100, deadline=None)
@given(
    digits=st.from_regex(r"[569][0-9]{7}", fullmatch=True),
    style=st.sampled_from(
        ["+852 {a} {b}", "+852-{a}-{b}", "{a} {b}", "{a}-{b}", "{a}{b}", "(+852) {a} {b}"]
    ),
    context=st.sampled_from(["帳戶：{}。", "Accounts: {}, and more", "{}"]),
)
def test_a_hong_kong_number_is_found_in_either_format(digits, style, context):
    written = context.format(style.format(a=digits[:4], b=digits[4:]))
    try:
        stored = {normalise_target("PHONE", f"+852{digits}")}
    except TargetInvalid:
        stored = set()
    assert match.identifiers_in(written, "PHONE", region="HK") == stored


@pytest.mark.parametrize(
    ("text", "label", "on"),
    [
        ("Issued on 3 July 2020", "issued", date(2020, 7, 3)),
        ("Dated July 3rd, 2020", "issued", date(2020, 7, 3)),
        ("Date of issue: 2020-07-03", "issued", date(2020, 7, 3)),
        ("簽發日期：2020年7月3日", "issued", date(2020, 7, 3)),
        ("簽發日期：" + wide("2020年7月3日"), "issued", date(2020, 7, 3)),
        ("This warrant expires on 1 Sept. 2020", "expires", date(2020, 9, 1)),
        ("有效期至 2020 年 8 月 3 日", "expires", date(2020, 8, 3)),
        ("Issued 3 July 2020, valid until 3 August 2020", "expires", date(2020, 8, 3)),
    ],
)
def test_labelled_dates(text, label, on):
    assert (label, on) in [(d.label, d.on) for d in match.labelled_dates(text)]


def test_unlabelled_and_impossible_dates_are_ignored():
    assert match.labelled_dates("Data from 1 January 2020 to 31 March 2020") == []
    assert match.labelled_dates("Issued on 31 February 2020") == []


def test_an_authority_is_matched_across_english_and_chinese():
    assert match.authority_found("Magistrate", "簽發機關：裁判官")
    assert match.authority_found("Hong Kong Police Force", "香港警務處")
    assert match.authority_found("裁判官", "Before the Magistrate at Kowloon City")
    assert match.authority_found("Magistrate, Kowloon City", "MAGISTRATE (Kowloon  City)")
    assert not match.authority_found("High Court", "簽發機關：裁判官")
    assert not match.authority_found("District Court", "The Magistrate")
