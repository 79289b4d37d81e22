"""What a check found, in the reader's language: every finding any facts can produce reads in
Traditional Chinese with no English word of govreq's own and no stored code, and reads in
English exactly as the stored message (the API's and the record's) does."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from govreq.console.labels import finding_message
from govreq.review.checks import (
    ALL_CATEGORIES,
    CallBackFact,
    DocumentTextFact,
    DuplicateFact,
    HoldFact,
    RequestFacts,
    run_checks,
)
from tests.test_checks import KINDS, OFFENCES, POLICY, RECEIVED, facts, requester

# What the facts below carry that stays as written in any language: a reference's letters, the
# letters of a case number (as typed, and as read from the document: "hk"), and names that are
# the same in both languages.
AS_WRITTEN = {"GR", "HK", "hk", "API", "MLAT", "IP", "ID", "US", "pdf", "urgent"}
CODE = re.compile(r"\b[A-Z]{2,}(?:_[A-Z]+)+\b|\b(?:CONTENT|LOCATION|SUBPOENA|EMERGENCY|VERIFIED)\b")


def stored(finding: object) -> SimpleNamespace:
    """A finding as the console reads it from the database (``review.CheckResult``)."""
    return SimpleNamespace(
        message=finding.message,  # type: ignore[attr-defined]
        said=[s.stored() for s in finding.said],  # type: ignore[attr-defined]
    )


def chinese_facts(draw: st.DrawFn) -> RequestFacts:
    jurisdiction = draw(st.sampled_from(["US", "HK", "GB", "CN", "TW"]))
    kind = draw(st.sampled_from(KINDS))
    categories = draw(st.sets(st.sampled_from(sorted(ALL_CATEGORIES)), min_size=1))
    holds = draw(
        st.lists(
            st.builds(
                HoldFact,
                id=st.integers(1, 99),
                jurisdiction=st.just(jurisdiction),
                effective_from=st.just(RECEIVED - timedelta(days=30)),
                reason=st.just("國家安全法生效，待人權盡職審查。"),
                excepted=st.booleans(),
            ),
            max_size=2,
        )
    )
    call_backs = draw(
        st.lists(
            st.builds(
                CallBackFact,
                outcome=st.sampled_from(["CONFIRMED", "NOT_CONFIRMED", "NO_ANSWER"]),
                called_on=st.just(RECEIVED),
                phone=st.just("+852 2860 2000"),
                directory=st.just("政府電話簿"),
            ),
            max_size=2,
        )
    )
    duplicates = (
        (
            DuplicateFact(
                reference="GR-2026-000041",
                public_id="x",
                received_on=RECEIVED - timedelta(days=3),
                overlapping=("USERNAME:@陳大文", "EMAIL:陳@例子.香港"),
            ),
        )
        if draw(st.booleans())
        else ()
    )
    documents = draw(
        st.sampled_from(
            [
                (),
                (DocumentTextFact(name="令狀.pdf", read=False),),
                (DocumentTextFact(name="令狀.pdf", read=True, text="", note="掃描件"),),
                (
                    DocumentTextFact(
                        name="令狀.pdf",
                        read=True,
                        text="案件編號 HK-2020-1243 簽發日期 2027-01-01 傳票",
                    ),
                ),
            ]
        )
    )
    return replace(
        facts(),
        jurisdiction=jurisdiction,
        agency_name="香港警務處",
        agency_status=draw(st.sampled_from(["VERIFIED", "PENDING", "SUSPENDED"])),
        kind=kind,
        offence_category=draw(st.sampled_from(OFFENCES)),
        narrative=draw(st.sampled_from(["涉及示威及抗議的言論", "投資騙案", "urgent 立即"])),
        data_categories=frozenset(categories),
        data_from=RECEIVED - timedelta(days=draw(st.sampled_from([30, 900]))),
        target_count=draw(st.sampled_from([1, 40])),
        document_count=draw(st.sampled_from([0, 1])),
        gag_order=draw(st.booleans()),
        gag_expires_on=draw(st.sampled_from([None, RECEIVED + timedelta(days=400)])),
        emergency_danger=draw(st.sampled_from(["", "有人揚言明日在學校開槍殺人"])),
        holds=tuple(holds),
        call_backs=tuple(call_backs),
        duplicates=duplicates,
        documents=documents,
        requester=requester(
            officer_created_on=RECEIVED - timedelta(days=draw(st.sampled_from([2, 700]))),
            channel=draw(st.sampled_from(["API", "PORTAL", "STAFF"])),
            earlier_by_channel=draw(st.sampled_from([{}, {"PORTAL": 9}])),
            agency_flags=draw(st.sampled_from([0, 2])),
            agency_latest_flag_on=RECEIVED - timedelta(days=5),
            officer_flags=draw(st.sampled_from([0, 1])),
        ),
        agency_case_number="HK-2020-1234",
        targets=(("USERNAME", "陳大文"),),
    )


@settings(max_examples=300, deadline=None)
@given(st.composite(chinese_facts)())
def test_every_finding_reads_in_chinese_and_in_english(request_facts: RequestFacts):
    for finding in run_checks(request_facts, POLICY):
        assert finding.said, finding.code
        with translation.override("zh-hant"):
            chinese = finding_message(stored(finding))
        english_words = set(re.findall(r"[A-Za-z]{2,}", chinese)) - AS_WRITTEN
        assert english_words == set(), (finding.code, chinese)
        assert re.search(r"[\u4e00-\u9fff]", chinese), chinese
        with translation.override("en"):
            english = finding_message(stored(finding))
        assert english == finding.message
        assert not CODE.search(finding.message), finding.message


def test_a_finding_stored_before_its_sentences_were_kept_reads_as_stored():
    old = SimpleNamespace(message="A subpoena from US can compel everything asked for.", said=[])
    with translation.override("zh-hant"):
        assert finding_message(old) == old.message


def test_a_hold_s_chinese_reason_is_shown_to_a_chinese_reader():
    from govreq.review.checks import jurisdiction_hold

    held = replace(
        facts(),
        holds=(
            HoldFact(
                id=1,
                jurisdiction="HK",
                effective_from=RECEIVED,
                reason="Paused pending review.",
                reason_zh_hant="暫停處理，以待審查。",
                excepted=False,
            ),
        ),
    )
    finding = jurisdiction_hold(held, POLICY)
    with translation.override("zh-hant"):
        chinese = finding_message(stored(finding))
    assert "暫停處理，以待審查。" in chinese and "Paused" not in chinese
    assert "Paused pending review." in finding.message and "暫停" not in finding.message
