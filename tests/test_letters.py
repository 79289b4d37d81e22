"""Letters to agencies: composed from the policy's templates unless the reviewer writes one."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from govreq.lifecycle import reviewing
from govreq.policy.document import DEFAULT_LETTERS, Letters, PolicyDocument
from govreq.review.letters import LetterFacts, letter_compose
from tests.review_helpers import make_staff, submit

LETTERS = Letters.model_validate(DEFAULT_LETTERS)
FACTS = LetterFacts(
    reference="GR-2026-000042",
    agency="Federal Bureau of Investigation",
    jurisdiction="US",
    case_number="SF-2026-0042",
    received=date(2026, 11, 30),
    outcome="PARTIAL",
    produced_accounts=["scammer_hk"],
    produced_categories=["BASIC_SUBSCRIBER"],
    not_produced_accounts=["victim@example.com"],
    not_produced_categories=["IP_LOGS"],
)


def test_a_partial_letter_says_what_was_and_was_not_produced():
    letter = letter_compose(LETTERS, FACTS)
    assert "GR-2026-000042" in letter and "SF-2026-0042" in letter
    assert "scammer_hk (basic subscriber information)" in letter
    assert "We have not produced victim@example.com (IP address logs)" in letter
    assert "貴機構" not in letter  # English only for a US agency


def test_hong_kong_agencies_get_traditional_chinese_first():
    letter = letter_compose(
        LETTERS,
        LetterFacts(
            **{
                **FACTS.__dict__,
                "jurisdiction": "HK",
                "outcome": "REJECTED",
                "rejection_reasons": ["OVERBROAD"],
            }
        ),
    )
    chinese, english = letter.split("\n\n")
    assert chinese.startswith("貴機構的請求 GR-2026-000042")
    assert "請求的範圍超出其目的所需" in chinese
    assert "narrow the accounts, the dates or the data" in english


def test_templates_with_unknown_placeholders_are_refused():
    broken = {**DEFAULT_LETTERS}
    broken["outcomes"] = {**DEFAULT_LETTERS["outcomes"], "FULL": {"en": "{nope}", "zh-Hant": "x"}}
    with pytest.raises(ValueError, match="placeholder"):
        Letters.model_validate(broken)
    assert "letters" in PolicyDocument.model_fields


@pytest.mark.django_db
def test_a_decision_without_a_letter_gets_the_policy_letter_and_a_written_one_is_kept(chan):
    staff = make_staff()
    request = submit(chan)
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    decision = reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="NO_DATA",
        rationale="No such account",
        now=timezone.now(),
    )
    assert decision.letter.startswith("貴機構的請求")  # the Hong Kong Police Force
    assert "We found no account matching the identifiers given" in decision.letter
    other = submit(chan, agency_case_number="KC-2026-0043")
    reviewing.request_start_review(actor=staff.actor("rita"), request=other, now=timezone.now())
    written = reviewing.decision_make(
        actor=staff.actor("rita"),
        request=other,
        outcome="NO_DATA",
        rationale="No such account",
        letter="Dear Inspector, no account matches.",
        now=timezone.now(),
    )
    assert written.letter == "Dear Inspector, no account matches."
