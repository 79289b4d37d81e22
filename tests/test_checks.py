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
    DuplicateFact,
    Finding,
    HoldFact,
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
    run_checks,
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
    assert "CONTENT" in finding.message
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


@pytest.mark.parametrize("offence", ["NATIONAL_SECURITY", "PUBLIC_ORDER", "DEFAMATION"])
def test_sensitive_offence_needs_escalation(offence: str) -> None:
    finding = human_rights_risk(facts(offence_category=offence), POLICY)
    assert finding.code == "HUMAN_RIGHTS_RISK"
    assert finding.outcome == WARN
    assert finding.details["escalation_required"] is True
    assert offence in finding.message


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
    assert "HK is marked high-risk" in finding.message
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
        overlapping=("USERNAME:@scammer",),
    )
    finding = duplicate(facts(duplicates=(other,)), POLICY)
    assert finding.code == "DUPLICATE"
    assert finding.outcome == WARN
    assert "GR-2026-000041" in finding.message
    assert "USERNAME:@scammer" in finding.message
    assert finding.details["requests"] == [
        {"reference": "GR-2026-000041", "id": "0b7c1e9a-3f62-4a55-9b0e-5c8a2d1f7e30"}
    ]


def test_no_duplicate_passes() -> None:
    assert duplicate(facts(), POLICY).outcome == PASS


# --- run_checks, worst, needs_human_rights_approval --------------------------------------------


def test_run_checks_gives_one_finding_per_check() -> None:
    findings = run_checks(facts(), POLICY)
    codes = [f.code for f in findings]
    assert len(findings) == len(CHECKS) == 10
    assert len(set(codes)) == len(codes)
    assert set(codes) == {
        "JURISDICTION_HOLD",
        "AGENCY_NOT_VERIFIED",
        "NO_LEGAL_DOCUMENT",
        "PROCESS_INSUFFICIENT",
        "OVERBROAD",
        "EMERGENCY_UNSUPPORTED",
        "CALL_BACK",
        "GAG_ORDER_REVIEW",
        "HUMAN_RIGHTS_RISK",
        "DUPLICATE",
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
