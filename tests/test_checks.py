"""The pure legitimacy checks: one section per check, no database, no clock.

Every test starts from ``facts()``, a request that passes every check, and changes one fact.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govreq.policy.document import DEFAULT_POLICY, PolicyDocument
from govreq.review.checks import (
    ALL_CATEGORIES,
    BLOCK,
    CHECKS,
    INFO,
    PASS,
    WARN,
    CallBackFact,
    DuplicateFact,
    Finding,
    HoldFact,
    RequesterFact,
    RequestFacts,
    agency_not_verified,
    compellable,
    duplicate,
    emergency_unsupported,
    gag_order_review,
    human_rights_risk,
    jurisdiction_hold,
    needs_human_rights_approval,
    no_legal_document,
    overbroad,
    process_insufficient,
    requester_risk,
    run_checks,
    urgency_words,
    worst,
)

POLICY = PolicyDocument.model_validate(DEFAULT_POLICY)
RECEIVED = date(2026, 3, 2)
KINDS = ["SUBPOENA", "COURT_ORDER", "SEARCH_WARRANT", "EMERGENCY", "PRESERVATION", "MLAT", "OTHER"]
OFFENCES = [
    "CHILD_SAFETY",
    "TERRORISM",
    "VIOLENT_CRIME",
    "HUMAN_TRAFFICKING",
    "FRAUD",
    "CYBERCRIME",
    "NATIONAL_SECURITY",
    "PUBLIC_ORDER",
    "DEFAMATION",
    "OTHER",
]
DANGER = "Live-streamed threat to shoot students at a named school tomorrow"
WHY_NOW = "The school opens at 07:30; no court order can be obtained before then"


def facts(**overrides: Any) -> RequestFacts:
    """A verified US agency's search warrant that passes every check."""
    base = RequestFacts(
        jurisdiction="US",
        agency_name="Federal Bureau of Investigation",
        agency_status="VERIFIED",
        kind="SEARCH_WARRANT",
        offence_category="FRAUD",
        legal_basis="18 U.S.C. 2703(a)",
        narrative="Investment fraud run through a fake trading app; victims wired their savings.",
        data_categories=frozenset({"BASIC_SUBSCRIBER", "CONTENT"}),
        data_from=RECEIVED - timedelta(days=90),
        data_to=RECEIVED - timedelta(days=1),
        received_on=RECEIVED,
        target_count=2,
        document_count=1,
        gag_order=False,
        gag_legal_basis="",
        gag_expires_on=None,
        emergency_danger="",
        emergency_why_now="",
        requester=requester(),
    )
    return replace(base, **overrides)


def requester(**overrides: Any) -> RequesterFact:
    """An officer of two years who sends everything through the API, with no fraud flag."""
    base = RequesterFact(
        officer_created_on=RECEIVED - timedelta(days=730),
        token_created_on=RECEIVED - timedelta(days=60),
        channel="API",
        earlier_by_channel={"API": 12},
    )
    return replace(base, **overrides)


def policy_with(change: Any) -> PolicyDocument:
    """The default policy after ``change(data)`` edits a deep copy of it."""
    data = copy.deepcopy(DEFAULT_POLICY)
    change(data)
    return PolicyDocument.model_validate(data)


def hold(id: int = 7, *, excepted: bool = False) -> HoldFact:
    return HoldFact(
        id=id,
        jurisdiction="US",
        effective_from=date(2026, 1, 15),
        reason="Court-ordered stay pending appeal.",
        excepted=excepted,
    )


def test_baseline_passes_every_check() -> None:
    findings = run_checks(facts(), POLICY)
    assert {f.code: f.outcome for f in findings if f.outcome != PASS} == {}


# --- JURISDICTION_HOLD -------------------------------------------------------------------------


def test_hold_blocks_and_names_hold_and_reason() -> None:
    finding = jurisdiction_hold(facts(holds=(hold(7),)), POLICY)
    assert finding.code == "JURISDICTION_HOLD"
    assert finding.outcome == BLOCK
    assert "#7" in finding.message
    assert "Court-ordered stay pending appeal." in finding.message
    assert finding.details["holds"] == [7]


def test_hold_blocks_even_when_another_hold_is_excepted() -> None:
    finding = jurisdiction_hold(facts(holds=(hold(1, excepted=True), hold(2))), POLICY)
    assert finding.outcome == BLOCK
    assert finding.details["holds"] == [2]


def test_excepted_hold_warns_and_needs_human_rights_approval() -> None:
    finding = jurisdiction_hold(facts(holds=(hold(3, excepted=True),)), POLICY)
    assert finding.outcome == WARN
    assert finding.details["human_rights_approval"] is True
    assert finding.details["excepted_by"] == [3]


def test_no_hold_passes() -> None:
    assert jurisdiction_hold(facts(), POLICY).outcome == PASS


# --- AGENCY_NOT_VERIFIED -----------------------------------------------------------------------


@pytest.mark.parametrize("status", ["PENDING", "SUSPENDED"])
def test_unverified_agency_blocks(status: str) -> None:
    finding = agency_not_verified(facts(agency_status=status), POLICY)
    assert finding.code == "AGENCY_NOT_VERIFIED"
    assert finding.outcome == BLOCK
    assert status.lower() in finding.message


def test_verified_agency_passes() -> None:
    assert agency_not_verified(facts(), POLICY).outcome == PASS


# --- NO_LEGAL_DOCUMENT -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["SUBPOENA", "COURT_ORDER", "SEARCH_WARRANT", "MLAT", "OTHER"])
def test_missing_document_blocks(kind: str) -> None:
    finding = no_legal_document(facts(kind=kind, document_count=0), POLICY)
    assert finding.code == "NO_LEGAL_DOCUMENT"
    assert finding.outcome == BLOCK


@pytest.mark.parametrize("kind", ["EMERGENCY", "PRESERVATION"])
def test_emergency_and_preservation_need_no_document(kind: str) -> None:
    assert no_legal_document(facts(kind=kind, document_count=0), POLICY).outcome != BLOCK


def test_attached_document_passes() -> None:
    assert no_legal_document(facts(document_count=1), POLICY).outcome == PASS


# --- PROCESS_INSUFFICIENT ----------------------------------------------------------------------


def test_us_subpoena_cannot_compel_content() -> None:
    finding = process_insufficient(
        facts(kind="SUBPOENA", data_categories=frozenset({"BASIC_SUBSCRIBER", "CONTENT"})), POLICY
    )
    assert finding.code == "PROCESS_INSUFFICIENT"
    assert finding.outcome == BLOCK
    assert "cannot compel stored content" in finding.message
    assert finding.details["excess"] == ["CONTENT"]
    assert finding.details["table"] == "US"


def test_us_subpoena_for_basic_subscriber_passes() -> None:
    finding = process_insufficient(
        facts(kind="SUBPOENA", data_categories=frozenset({"BASIC_SUBSCRIBER"})), POLICY
    )
    assert finding.outcome == PASS


@pytest.mark.parametrize(
    ("category", "outcome"),
    [
        ("BASIC_SUBSCRIBER", PASS),
        ("IP_LOGS", PASS),
        ("TRANSACTIONAL", PASS),
        ("CONTENT", BLOCK),
        ("LOCATION", BLOCK),
    ],
)
def test_us_court_order_reaches_non_content_only(category: str, outcome: str) -> None:
    finding = process_insufficient(
        facts(kind="COURT_ORDER", data_categories=frozenset({category})), POLICY
    )
    assert finding.outcome == outcome


def test_us_court_order_blocked_for_content_names_search_warrant() -> None:
    finding = process_insufficient(
        facts(kind="COURT_ORDER", data_categories=frozenset({"IP_LOGS", "CONTENT"})), POLICY
    )
    assert finding.details["excess"] == ["CONTENT"]
    assert "search warrant" in finding.message


def test_us_search_warrant_reaches_everything() -> None:
    finding = process_insufficient(facts(data_categories=ALL_CATEGORIES), POLICY)
    assert finding.outcome == PASS


@pytest.mark.parametrize("jurisdiction", ["HK", "DE"])
def test_foreign_search_warrant_for_content_blocks_and_points_to_mlat(jurisdiction: str) -> None:
    finding = process_insufficient(
        facts(jurisdiction=jurisdiction, data_categories=frozenset({"CONTENT"})), POLICY
    )
    assert finding.outcome == BLOCK
    assert "MLAT" in finding.message
    assert finding.details["table"] == "default"
    assert finding.details["excess"] == ["CONTENT"]


def test_foreign_search_warrant_for_non_content_passes() -> None:
    finding = process_insufficient(
        facts(jurisdiction="HK", data_categories=frozenset({"BASIC_SUBSCRIBER", "IP_LOGS"})),
        POLICY,
    )
    assert finding.outcome == PASS


def test_mlat_from_hk_reaches_content() -> None:
    finding = process_insufficient(
        facts(jurisdiction="HK", kind="MLAT", data_categories=frozenset({"CONTENT", "LOCATION"})),
        POLICY,
    )
    assert finding.outcome == PASS


@pytest.mark.parametrize("jurisdiction", ["GB", "AU"])
def test_cross_border_agreement_lets_search_warrant_reach_content(jurisdiction: str) -> None:
    finding = process_insufficient(
        facts(jurisdiction=jurisdiction, data_categories=frozenset({"CONTENT", "LOCATION"})),
        POLICY,
    )
    assert finding.outcome == PASS


def test_cross_border_agreement_does_not_widen_a_subpoena() -> None:
    finding = process_insufficient(
        facts(jurisdiction="GB", kind="SUBPOENA", data_categories=frozenset({"CONTENT"})), POLICY
    )
    assert finding.outcome == BLOCK


def test_process_table_is_policy_data() -> None:
    subpoena_for_content = facts(
        kind="SUBPOENA", data_categories=frozenset({"BASIC_SUBSCRIBER", "CONTENT"})
    )
    assert process_insufficient(subpoena_for_content, POLICY).outcome == BLOCK

    def widen(data: dict[str, Any]) -> None:
        data["process"]["US"]["SUBPOENA"] = ["BASIC_SUBSCRIBER", "CONTENT"]

    assert process_insufficient(subpoena_for_content, policy_with(widen)).outcome == PASS
    # the edit went to a copy
    assert DEFAULT_POLICY["process"]["US"]["SUBPOENA"] == ["BASIC_SUBSCRIBER"]  # type: ignore[index]


# --- OVERBROAD ---------------------------------------------------------------------------------


def test_too_many_accounts_warns() -> None:
    finding = overbroad(facts(target_count=26), POLICY)
    assert finding.code == "OVERBROAD"
    assert finding.outcome == WARN
    assert "26 accounts" in finding.message


def test_accounts_at_threshold_pass() -> None:
    assert overbroad(facts(target_count=25), POLICY).outcome == PASS


def test_long_date_range_warns() -> None:
    finding = overbroad(facts(data_from=date(2025, 1, 1), data_to=date(2026, 1, 1)), POLICY)
    assert finding.outcome == WARN
    assert "366 days" in finding.message


def test_inclusive_365_day_range_passes() -> None:
    assert overbroad(facts(data_from=date(2025, 1, 1), data_to=date(2025, 12, 31)), POLICY) == (
        Finding(code="OVERBROAD", outcome=PASS, message="The request is narrowly drawn.")
    )


def test_every_category_warns() -> None:
    finding = overbroad(facts(data_categories=ALL_CATEGORIES), POLICY)
    assert finding.outcome == WARN
    assert "every category" in finding.message


def test_problems_are_counted() -> None:
    finding = overbroad(
        facts(
            target_count=30,
            data_from=date(2020, 1, 1),
            data_to=date(2026, 1, 1),
            data_categories=ALL_CATEGORIES,
        ),
        POLICY,
    )
    assert finding.details["problems"] == 3


def test_overbroad_thresholds_come_from_policy() -> None:
    def tighten(data: dict[str, Any]) -> None:
        data["thresholds"]["max_accounts"] = 2

    tight = policy_with(tighten)
    assert overbroad(facts(target_count=2), tight).outcome == PASS
    assert overbroad(facts(target_count=3), tight).outcome == WARN
    assert overbroad(facts(target_count=3), POLICY).outcome == PASS


# --- EMERGENCY_UNSUPPORTED ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "EMERGENCY"])
def test_non_emergency_passes(kind: str) -> None:
    assert emergency_unsupported(facts(kind=kind), POLICY).outcome == PASS


@pytest.mark.parametrize(
    ("danger", "why_now"),
    [
        ("", WHY_NOW),
        (DANGER, ""),
        ("   ", "   "),
        ("please send the data quickly for our case", WHY_NOW),
    ],
    ids=["no-danger", "no-why-now", "blank", "no-danger-keyword"],
)
def test_unsupported_emergency_blocks(danger: str, why_now: str) -> None:
    finding = emergency_unsupported(
        facts(kind="EMERGENCY", emergency_danger=danger, emergency_why_now=why_now), POLICY
    )
    assert finding.code == "EMERGENCY_UNSUPPORTED"
    assert finding.outcome == BLOCK


def test_described_emergency_passes() -> None:
    finding = emergency_unsupported(
        facts(kind="EMERGENCY", emergency_danger=DANGER, emergency_why_now=WHY_NOW), POLICY
    )
    assert finding.outcome == PASS


def test_traditional_chinese_emergency_passes() -> None:
    finding = emergency_unsupported(
        facts(
            kind="EMERGENCY",
            emergency_danger="用戶在直播中聲稱今晚將會自殺並已購買大量安眠藥",
            emergency_why_now="The user said it would happen tonight; no order can be had by then",
        ),
        POLICY,
    )
    assert finding.outcome == PASS


def test_short_chinese_emergency_passes() -> None:
    finding = emergency_unsupported(
        facts(
            kind="EMERGENCY",
            emergency_danger="該名少女揚言今晚跳樓自殺",  # "the girl says she will jump tonight"
            emergency_why_now=WHY_NOW,
        ),
        POLICY,
    )
    assert finding.outcome == PASS


# --- REQUESTER_RISK ----------------------------------------------------------------------------


def risk(**overrides: Any) -> Finding:
    """REQUESTER_RISK of the baseline with the requester's facts changed by ``overrides``."""
    return requester_risk(facts(requester=requester(**overrides)), POLICY)


def test_seasoned_requester_passes() -> None:
    finding = requester_risk(facts(), POLICY)
    assert finding.code == "REQUESTER_RISK"
    assert finding.outcome == PASS


def test_unknown_requester_passes() -> None:
    assert requester_risk(facts(requester=None), POLICY).outcome == PASS


@pytest.mark.parametrize(("days", "outcome"), [(0, WARN), (6, WARN), (7, PASS), (30, PASS)])
def test_new_officer_account_warns_below_the_policy_days(days: int, outcome: str) -> None:
    finding = risk(officer_created_on=RECEIVED - timedelta(days=days))
    assert finding.outcome == outcome
    if outcome == WARN:
        assert f"officer account created {days} days before the request" in finding.message
        assert finding.details["signals"] == ["NEW_CREDENTIALS"]


@pytest.mark.parametrize(("days", "outcome"), [(0, WARN), (6, WARN), (7, PASS)])
def test_new_api_token_warns_below_the_policy_days(days: int, outcome: str) -> None:
    finding = risk(token_created_on=RECEIVED - timedelta(days=days))
    assert finding.outcome == outcome
    if outcome == WARN:
        assert f"API token created {days} days before the request" in finding.message


def test_new_officer_and_new_token_are_one_signal() -> None:
    finding = risk(officer_created_on=RECEIVED, token_created_on=RECEIVED)
    assert finding.outcome == WARN
    assert finding.details["signals"] == ["NEW_CREDENTIALS"]
    assert "officer account created 0 days" in finding.message
    assert "API token created 0 days" in finding.message


def test_new_officer_threshold_is_policy() -> None:
    lenient = policy_with(lambda d: d.setdefault("trust", {}).update(new_officer_days=0))
    new = facts(requester=requester(officer_created_on=RECEIVED))
    assert requester_risk(new, lenient).outcome == PASS
    strict = policy_with(lambda d: d.setdefault("trust", {}).update(new_officer_days=60))
    old = facts(requester=requester(officer_created_on=RECEIVED - timedelta(days=30)))
    assert requester_risk(old, strict).outcome == WARN


def test_first_request_being_an_emergency_warns() -> None:
    finding = requester_risk(
        facts(kind="EMERGENCY", requester=requester(earlier_by_channel={})), POLICY
    )
    assert finding.outcome == WARN
    assert finding.details["signals"] == ["FIRST_REQUEST_EMERGENCY"]
    assert "first request is an emergency" in finding.message


def test_first_request_of_another_kind_or_a_later_emergency_passes() -> None:
    assert risk(earlier_by_channel={}).outcome == PASS
    later = facts(kind="EMERGENCY", requester=requester(earlier_by_channel={"API": 1}))
    assert requester_risk(later, POLICY).outcome == PASS


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("URGENT: reply immediately", ["urgent", "immediately"]),
        ("Please answer ASAP, it is a matter of life  or\ndeath.", ["asap", "life or death"]),
        ("請立即提供資料，情況緊急", ["緊急", "立即"]),
        ("Time-sensitive request", ["time-sensitive"]),
    ],
)
def test_urgency_words_english_on_word_boundaries_chinese_as_substrings(
    text: str, found: list[str]
) -> None:
    assert urgency_words(text, POLICY.trust.urgency_keywords) == found


@pytest.mark.parametrize(
    "text", ["A non-urgent request", "the insurgents", "pasta", "nowhere right", "", "緊張的情況"]
)
def test_no_urgency_words_in_ordinary_text(text: str) -> None:
    assert urgency_words(text, POLICY.trust.urgency_keywords) == []


def test_urgency_words_warn_and_are_named() -> None:
    finding = requester_risk(
        facts(
            kind="EMERGENCY",
            narrative="Urgent: the suspect will act tonight.",
            emergency_danger=DANGER,
            emergency_why_now="必須立即回覆",
            requester=requester(earlier_by_channel={"API": 3}),
        ),
        POLICY,
    )
    assert finding.outcome == WARN
    assert finding.details["signals"] == ["URGENCY_WORDS"]
    assert finding.details["urgency_words"] == ["urgent", "立即"]
    assert "urgency words: 'urgent', '立即'" in finding.message


def test_urgency_keywords_are_policy() -> None:
    policy = policy_with(lambda d: d.setdefault("trust", {}).update(urgency_keywords=["tonight"]))
    finding = requester_risk(facts(narrative="Urgent, it happens tonight."), policy)
    assert finding.details["urgency_words"] == ["tonight"]


def test_unusual_channel_warns() -> None:
    finding = risk(channel="STAFF", earlier_by_channel={"API": 4, "PORTAL": 1})
    assert finding.outcome == WARN
    assert finding.details["signals"] == ["UNUSUAL_CHANNEL"]
    assert (
        "sent through staff intake, while 4 of the officer's 5 earlier requests came through "
        "the API" in (finding.message)
    )


@pytest.mark.parametrize(
    ("channel", "earlier"),
    [
        ("STAFF", {"PORTAL": 2}),  # fewer than usual_channel_min_requests: no habit yet
        ("STAFF", {"API": 2, "PORTAL": 2}),  # no channel has most of them
        ("PORTAL", {"PORTAL": 3}),  # the usual one
        ("PORTAL", {"PORTAL": 3, "API": 2}),
    ],
)
def test_no_usual_channel_or_the_usual_one_passes(channel: str, earlier: dict[str, int]) -> None:
    assert risk(channel=channel, earlier_by_channel=earlier).outcome == PASS


def test_usual_channel_minimum_is_policy() -> None:
    policy = policy_with(lambda d: d.setdefault("trust", {}).update(usual_channel_min_requests=1))
    new_habit = facts(requester=requester(channel="STAFF", earlier_by_channel={"PORTAL": 1}))
    assert requester_risk(new_habit, policy).outcome == WARN


def test_agency_fraud_flags_warn_with_count_and_date() -> None:
    finding = risk(agency_flags=2, agency_latest_flag_on=date(2026, 1, 5))
    assert finding.outcome == WARN
    assert finding.details["signals"] == ["AGENCY_FRAUD_FLAGS"]
    assert "2 fraud flag(s) on the agency in the last 365 days (latest 2026-01-05)" in (
        finding.message
    )


def test_a_fraud_flag_on_the_officer_blocks() -> None:
    finding = risk(officer_flags=1, agency_flags=1)
    assert finding.outcome == BLOCK
    assert "1 fraud flag(s) on this officer" in finding.message
    assert "OFFICER_FRAUD_FLAGS" in finding.details["signals"]


def fake_emergency(**overrides: Any) -> RequestFacts:
    """An officer created today whose first request is an emergency full of urgency words."""
    return facts(
        kind="EMERGENCY",
        narrative="URGENT - answer within the hour.",
        emergency_danger=DANGER,
        emergency_why_now=WHY_NOW,
        requester=requester(
            officer_created_on=RECEIVED, token_created_on=RECEIVED, earlier_by_channel={}
        ),
        **overrides,
    )


def test_signals_at_the_policy_number_block_naming_every_reason() -> None:
    finding = requester_risk(fake_emergency(), POLICY)
    assert finding.outcome == BLOCK
    assert finding.details["signals"] == [
        "FIRST_REQUEST_EMERGENCY",
        "NEW_CREDENTIALS",
        "URGENCY_WORDS",
    ]
    assert finding.message.startswith(
        "Risk signals on the requester: officer account created 0 days before the request; "
        "API token created 0 days before the request; first request is an emergency; "
        "urgency words: 'urgent', 'within the hour'."
    )
    assert "only a confirmed call-back clears this" in finding.message


def test_signals_to_block_is_policy() -> None:
    policy = policy_with(lambda d: d.setdefault("trust", {}).update(signals_to_block=4))
    assert requester_risk(fake_emergency(), policy).outcome == WARN
    policy = policy_with(lambda d: d.setdefault("trust", {}).update(signals_to_block=1))
    assert (
        requester_risk(facts(requester=requester(officer_created_on=RECEIVED)), policy).outcome
        == BLOCK
    )


def call(outcome: str, day: int) -> CallBackFact:
    return CallBackFact(
        outcome=outcome,
        called_on=RECEIVED + timedelta(days=day),
        phone="+852 2860 2000",
        directory="Government telephone directory",
    )


def test_a_confirmed_call_back_clears_the_block_to_a_warn_saying_so() -> None:
    finding = requester_risk(fake_emergency(call_backs=(call("CONFIRMED", 1),)), POLICY)
    assert finding.outcome == WARN
    assert "first request is an emergency" in finding.message
    assert "Cleared by the call-back to +852 2860 2000 on 2026-03-03" in finding.message
    assert finding.details["cleared_by_call_back"] == "2026-03-03"


@pytest.mark.parametrize(
    "calls",
    [
        (),
        ("NO_ANSWER",),
        ("NOT_CONFIRMED",),
        ("CONFIRMED", "NOT_CONFIRMED"),
        ("CONFIRMED", "NOT_CONFIRMED", "NO_ANSWER"),
    ],
)
def test_only_a_confirmed_latest_call_back_clears(calls: tuple[str, ...]) -> None:
    call_backs = tuple(call(outcome, day) for day, outcome in enumerate(calls))
    assert requester_risk(fake_emergency(call_backs=call_backs), POLICY).outcome == BLOCK


def test_a_confirmed_call_back_after_no_answer_clears() -> None:
    call_backs = (call("NO_ANSWER", 0), call("CONFIRMED", 1), call("NO_ANSWER", 2))
    assert requester_risk(fake_emergency(call_backs=call_backs), POLICY).outcome == WARN


def test_a_confirmed_call_back_clears_an_officer_fraud_flag_block() -> None:
    flagged = facts(requester=requester(officer_flags=1), call_backs=(call("CONFIRMED", 0),))
    finding = requester_risk(flagged, POLICY)
    assert finding.outcome == WARN
    assert "Cleared by the call-back" in finding.message


# --- GAG_ORDER_REVIEW --------------------------------------------------------------------------


def gag(**overrides: Any) -> RequestFacts:
    values: dict[str, Any] = {
        "gag_order": True,
        "gag_legal_basis": "18 U.S.C. 2705(b)",
        "gag_expires_on": RECEIVED + timedelta(days=180),
    }
    return facts(**(values | overrides))


def test_no_gag_passes() -> None:
    finding = gag_order_review(facts(), POLICY)
    assert finding.code == "GAG_ORDER_REVIEW"
    assert finding.outcome == PASS


def test_gag_without_expiry_warns() -> None:
    finding = gag_order_review(gag(gag_expires_on=None), POLICY)
    assert finding.outcome == WARN
    assert "no expiry" in finding.message


def test_gag_longer_than_a_year_warns() -> None:
    finding = gag_order_review(gag(gag_expires_on=RECEIVED + timedelta(days=366)), POLICY)
    assert finding.outcome == WARN
    assert "366 days" in finding.message


def test_gag_of_exactly_the_limit_is_accepted() -> None:
    finding = gag_order_review(gag(gag_expires_on=RECEIVED + timedelta(days=365)), POLICY)
    assert finding.outcome == INFO


def test_gag_without_legal_basis_warns() -> None:
    finding = gag_order_review(gag(gag_legal_basis="  "), POLICY)
    assert finding.outcome == WARN
    assert "no legal basis" in finding.message


def test_proper_gag_is_info() -> None:
    finding = gag_order_review(gag(), POLICY)
    assert finding.outcome == INFO
    assert str(RECEIVED + timedelta(days=180)) in finding.message


# --- HUMAN_RIGHTS_RISK -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offence", "words"),
    [
        ("NATIONAL_SECURITY", "national security"),
        ("PUBLIC_ORDER", "public order"),
        ("DEFAMATION", "defamation"),
    ],
)
def test_sensitive_offence_needs_escalation(offence: str, words: str) -> None:
    finding = human_rights_risk(facts(offence_category=offence), POLICY)
    assert finding.code == "HUMAN_RIGHTS_RISK"
    assert finding.outcome == WARN
    assert finding.details["escalation_required"] is True
    assert f"the offence category is {words}" in finding.message


@pytest.mark.parametrize(
    "narrative",
    [
        "The account organised a protest outside the council.",
        "Identify the journalist who published the leak.",
        "Posts by PROTESTERS near the station.",
        "He is a pro-democracy activist.",
    ],
)
def test_english_narrative_keywords_need_escalation(narrative: str) -> None:
    finding = human_rights_risk(facts(narrative=narrative), POLICY)
    assert finding.outcome == WARN
    assert finding.details["escalation_required"] is True
    assert finding.details["keywords"]


def test_keywords_match_whole_words_only() -> None:
    narrative = "The suspect put pressure on victims to invest; an expression of greed."
    finding = human_rights_risk(facts(narrative=narrative), POLICY)
    assert finding.outcome == PASS


@pytest.mark.parametrize(
    ("narrative", "keyword"),
    [
        ("該帳戶在旺角組織示威活動", "示威"),
        ("請提供該名記者的登記資料", "記者"),
        ("该账户煽动抗议活动", "抗议"),
    ],
    ids=["zh-Hant-demonstration", "zh-Hant-journalist", "zh-Hans-protest"],
)
def test_chinese_narrative_keywords_need_escalation(narrative: str, keyword: str) -> None:
    finding = human_rights_risk(facts(jurisdiction="HK", narrative=narrative), POLICY)
    assert finding.outcome == WARN
    assert finding.details["escalation_required"] is True
    assert keyword in finding.details["keywords"]


def test_high_risk_jurisdiction_needs_escalation() -> None:
    def mark(data: dict[str, Any]) -> None:
        data["human_rights"]["high_risk_jurisdictions"] = ["hk"]

    finding = human_rights_risk(facts(jurisdiction="HK"), policy_with(mark))
    assert finding.outcome == WARN
    assert finding.details["escalation_required"] is True
    assert "Hong Kong is marked high-risk" in finding.message
    assert human_rights_risk(facts(jurisdiction="HK"), POLICY).outcome == PASS


def test_plain_fraud_narrative_passes() -> None:
    assert human_rights_risk(facts(), POLICY).outcome == PASS


def test_month_and_social_media_do_not_need_escalation() -> None:
    narrative = "Since March 2025 the account advertised a fake investment scheme on social media."
    assert human_rights_risk(facts(narrative=narrative), POLICY).outcome == PASS


# --- DUPLICATE ---------------------------------------------------------------------------------


def test_duplicate_warns_with_other_reference() -> None:
    other = DuplicateFact(
        reference="GR-2026-000041",
        public_id="0b7c1e9a-3f62-4a55-9b0e-5c8a2d1f7e30",
        received_on=RECEIVED - timedelta(days=4),
        overlapping=("username @scammer",),
    )
    finding = duplicate(facts(duplicates=(other,)), POLICY)
    assert finding.code == "DUPLICATE"
    assert finding.outcome == WARN
    assert "GR-2026-000041" in finding.message
    assert "username @scammer" in finding.message
    assert finding.details["requests"] == [
        {"reference": "GR-2026-000041", "id": "0b7c1e9a-3f62-4a55-9b0e-5c8a2d1f7e30"}
    ]


def test_no_duplicate_passes() -> None:
    assert duplicate(facts(), POLICY).outcome == PASS


# --- run_checks, worst, needs_human_rights_approval --------------------------------------------


def test_run_checks_gives_one_finding_per_check() -> None:
    findings = run_checks(facts(), POLICY)
    codes = [f.code for f in findings]
    assert len(findings) == len(CHECKS) == 12
    assert len(set(codes)) == len(codes)
    assert set(codes) == {
        "JURISDICTION_HOLD",
        "AGENCY_NOT_VERIFIED",
        "NO_LEGAL_DOCUMENT",
        "PROCESS_INSUFFICIENT",
        "OVERBROAD",
        "EMERGENCY_UNSUPPORTED",
        "CALL_BACK",
        "REQUESTER_RISK",
        "GAG_ORDER_REVIEW",
        "HUMAN_RIGHTS_RISK",
        "DUPLICATE",
        "DOCUMENT_MISMATCH",
    }


def finding(outcome: str, **details: Any) -> Finding:
    return Finding(code="X", outcome=outcome, message="", details=details)


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], PASS),
        ([PASS, PASS], PASS),
        ([PASS, INFO], INFO),
        ([INFO, WARN, PASS], WARN),
        ([WARN, BLOCK, INFO, PASS], BLOCK),
        ([BLOCK, WARN], BLOCK),
    ],
)
def test_worst(outcomes: list[str], expected: str) -> None:
    assert worst([finding(o) for o in outcomes]) == expected


def test_worst_of_a_real_run() -> None:
    assert worst(run_checks(facts(), POLICY)) == PASS
    assert worst(run_checks(facts(target_count=40), POLICY)) == WARN
    assert worst(run_checks(facts(target_count=40, agency_status="PENDING"), POLICY)) == BLOCK


def test_human_rights_approval_needed_for_hr_risk() -> None:
    findings = run_checks(facts(offence_category="NATIONAL_SECURITY"), POLICY)
    assert needs_human_rights_approval(findings) is True


def test_human_rights_approval_needed_for_excepted_hold() -> None:
    findings = run_checks(facts(holds=(hold(excepted=True),)), POLICY)
    assert needs_human_rights_approval(findings) is True


def test_human_rights_approval_not_needed_otherwise() -> None:
    assert needs_human_rights_approval(run_checks(facts(), POLICY)) is False
    assert needs_human_rights_approval(run_checks(facts(holds=(hold(),)), POLICY)) is False
    assert needs_human_rights_approval([finding(PASS, escalation_required=True)]) is False


# --- properties --------------------------------------------------------------------------------

text = st.text(max_size=60)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
hold_facts = st.builds(
    HoldFact,
    id=st.integers(min_value=1, max_value=10_000),
    jurisdiction=st.sampled_from(["US", "HK", "GB"]),
    effective_from=dates,
    reason=text,
    excepted=st.booleans(),
)
duplicate_facts = st.builds(
    DuplicateFact,
    reference=text,
    public_id=text,
    received_on=dates,
    overlapping=st.lists(text, max_size=4).map(tuple),
)
request_facts = st.builds(
    RequestFacts,
    jurisdiction=st.sampled_from(["US", "HK", "GB", "AU", "DE", "CN", "XX"]),
    agency_name=text,
    agency_status=st.sampled_from(["PENDING", "VERIFIED", "SUSPENDED"]),
    kind=st.sampled_from(KINDS),
    offence_category=st.sampled_from(OFFENCES),
    legal_basis=text,
    narrative=text,
    data_categories=st.frozensets(st.sampled_from(sorted(ALL_CATEGORIES)), min_size=1),
    data_from=st.none() | dates,
    data_to=st.none() | dates,
    received_on=dates,
    target_count=st.integers(min_value=0, max_value=500),
    document_count=st.integers(min_value=0, max_value=5),
    gag_order=st.booleans(),
    gag_legal_basis=text,
    gag_expires_on=st.none() | dates,
    emergency_danger=text,
    emergency_why_now=text,
    holds=st.lists(hold_facts, max_size=3).map(tuple),
    duplicates=st.lists(duplicate_facts, max_size=3).map(tuple),
    call_backs=st.lists(
        st.builds(
            CallBackFact,
            outcome=st.sampled_from(["CONFIRMED", "NOT_CONFIRMED", "NO_ANSWER"]),
            called_on=dates,
            phone=text,
            directory=text,
        ),
        max_size=3,
    ).map(tuple),
    requester=st.none()
    | st.builds(
        RequesterFact,
        officer_created_on=dates,
        token_created_on=st.none() | dates,
        channel=st.sampled_from(["API", "PORTAL", "STAFF"]),
        earlier_by_channel=st.dictionaries(
            st.sampled_from(["API", "PORTAL", "STAFF"]), st.integers(min_value=1, max_value=50)
        ),
        agency_flags=st.integers(min_value=0, max_value=5),
        agency_latest_flag_on=st.none() | dates,
        officer_flags=st.integers(min_value=0, max_value=3),
    ),
)


@settings(max_examples=200, database=None)
@given(request_facts)
def test_every_check_is_total(generated: RequestFacts) -> None:
    findings = run_checks(generated, POLICY)
    assert [f.code for f in findings] == [check(generated, POLICY).code for check in CHECKS]
    for f in findings:
        assert f.outcome in {PASS, INFO, WARN, BLOCK}
        assert f.message
    assert worst(findings) in {PASS, INFO, WARN, BLOCK}
    assert isinstance(needs_human_rights_approval(findings), bool)


@settings(max_examples=200, database=None)
@given(request_facts, st.data())
def test_process_never_blocks_within_what_the_process_compels(
    generated: RequestFacts, data: st.DataObject
) -> None:
    allowed, _ = compellable(generated, POLICY)
    asked = data.draw(st.frozensets(st.sampled_from(sorted(allowed)), min_size=1))
    finding = process_insufficient(replace(generated, data_categories=asked), POLICY)
    assert finding.outcome == PASS


@settings(max_examples=200, database=None)
@given(request_facts)
def test_process_blocks_exactly_on_the_excess(generated: RequestFacts) -> None:
    allowed, _ = compellable(generated, POLICY)
    finding = process_insufficient(generated, POLICY)
    excess = generated.data_categories - allowed
    assert (finding.outcome == BLOCK) == bool(excess)
    if excess:
        assert finding.details["excess"] == sorted(excess)


@settings(max_examples=200, database=None)
@given(request_facts)
def test_requester_risk_blocks_only_without_a_confirming_call_back(
    generated: RequestFacts,
) -> None:
    finding = requester_risk(generated, POLICY)
    reached = [c for c in generated.call_backs if c.outcome != "NO_ANSWER"]
    confirmed = bool(reached) and reached[-1].outcome == "CONFIRMED"
    signals = finding.details.get("signals", [])
    assert (finding.outcome == PASS) == (not signals)
    blocking = len(signals) >= POLICY.trust.signals_to_block or "OFFICER_FRAUD_FLAGS" in signals
    assert (finding.outcome == BLOCK) == (blocking and not confirmed)
