"""The counting rules, on a real history built through the services (tests/transparency/history)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from govreq.agencies.services import officer_add
from govreq.core.errors import ValidationFailed
from govreq.intake.models import Channel, LegalRequest, RequestStatus
from govreq.intake.schemas import RequestSubmission
from govreq.lifecycle import disclosing
from govreq.lifecycle.receiving import request_submit
from govreq.transparency import counting
from govreq.transparency.counting import (
    _CLASSIFIED,
    RequestClass,
    _classified,
    band,
    content_disclosed,
    outcome_of,
    percent,
    report_compute,
)
from govreq.transparency.periods import parse_period
from govreq.transparency.selectors import jurisdiction_entry
from tests.conftest import SYSTEM, make_agency, valid_submission
from tests.review_helpers import approve, submit
from tests.transparency.history import H2_END, HOLD_AT, HOLD_REASON, at, dated

H2 = parse_period("2020-H2")


def h2(**kwargs):
    return report_compute(period=H2, now=kwargs.get("now", timezone.now()))


# --- Pure rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "decision", "delivered", "outcome"),
    [
        ("CLOSED", "FULL", True, "FULL"),
        ("DELIVERED", "PARTIAL", True, "PARTIAL"),
        ("APPROVED", "PARTIAL", False, "PENDING"),  # approved, nothing delivered yet
        ("PRODUCED", "FULL", False, "PENDING"),  # released, not yet downloaded
        ("DECIDED", "FULL", False, "PENDING"),  # decided, not yet approved
        ("ON_HOLD", "FULL", False, "PENDING"),  # approved, then stopped by a hold
        ("ON_HOLD", "FULL", True, "FULL"),  # delivered before the hold: it left
        ("CLOSED", "NO_DATA", False, "NO_DATA"),
        ("REJECTED", "REJECTED", False, "REJECTED"),
        ("WITHDRAWN", "FULL", False, "WITHDRAWN"),  # withdrawn after approval: nothing delivered
        ("RECEIVED", "", False, "PENDING"),
        ("IN_REVIEW", "", False, "PENDING"),
        ("NEEDS_CLARIFICATION", "", False, "PENDING"),
    ],
)
def test_outcome_of(status, decision, delivered, outcome):
    assert outcome_of(status, decision, delivered=delivered) == outcome


def test_the_further_progress_is_the_greater_code():
    """The report reads how far a disclosure got as the greatest of the two codes a request
    reached (``counting._state_at``): renaming either must keep DELIVERED the greater."""
    assert RequestStatus.DELIVERED > RequestStatus.APPROVED


def test_percent_rounds_half_up_and_refuses_to_divide_by_zero():
    assert percent(62, 262) == 24  # Meta's Hong Kong 2020-H1
    assert percent(2, 42) == 5  # Google's Hong Kong 2020-H2
    assert percent(1, 200) == 1  # 0.5% rounds up
    assert percent(0, 5) == 0
    assert percent(0, 0) is None


def test_band():
    assert band(0, 250) == "0-249"
    assert band(249, 250) == "0-249"
    assert band(250, 250) == "250-499"
    assert band(1234, 1000) == "1000-1999"


def test_content_disclosed_follows_the_decision():
    base = {
        "kind": "SEARCH_WARRANT",
        "gag_order": False,
        "national_security": False,
        "content_sought": True,
    }
    full = RequestClass(**base, status="CLOSED", decision="FULL", progress="DELIVERED")
    partial_without = RequestClass(
        **base,
        status="DELIVERED",
        decision="PARTIAL",
        approved_categories=frozenset({"BASIC_SUBSCRIBER"}),
        progress="DELIVERED",
    )
    partial_with = RequestClass(
        **base,
        status="DELIVERED",
        decision="PARTIAL",
        approved_categories=frozenset({"CONTENT"}),
        progress="DELIVERED",
    )
    assert content_disclosed(full)
    assert not content_disclosed(partial_without)
    assert content_disclosed(partial_with)


# --- On the history -----------------------------------------------------------------------------


def test_hong_kong_under_the_hold(history):
    body = h2()
    hk = jurisdiction_entry(body, "HK")
    assert (hk["requests"], hk["accounts"], hk["data_produced"], hk["data_produced_percent"]) == (
        5,
        # 4 (the standard submission) + 1 + 2 + 2 (one e-mail named twice) + 1
        10,
        2,
        40,
    )
    assert hk["legal_process"] == {
        "requests": 4,
        "accounts": 8,
        "data_produced": 1,
        "data_produced_percent": 25,
    }
    assert hk["emergency"]["requests"] == 1 and hk["emergency"]["data_produced"] == 1
    assert hk["outcomes"] == {
        "FULL": 2,
        "PARTIAL": 0,
        "REJECTED": 0,
        "NO_DATA": 0,
        "WITHDRAWN": 1,
        "PENDING": 2,
    }
    assert hk["pending_on_hold"] == 2
    assert hk["held_requests"] == 3  # the two still held, and the one withdrawn while held
    (hold,) = hk["holds"]
    assert hold["id"] == history.hold_id
    assert hold["reason"] == HOLD_REASON
    assert hold["effective_from"] == HOLD_AT.isoformat() and hold["effective_to"] is None
    assert hold["exceptions"] == {"emergency": True, "offences": ["HUMAN_TRAFFICKING"]}
    assert (hold["requests_received"], hold["held_requests"], hold["data_produced"]) == (5, 3, 2)
    # The data produced is exactly the exception path's.
    exceptions = {history.refs["hk_trafficking"], history.refs["hk_emergency"]}
    assert all(r.needs_human_rights_approval for r in exceptions)
    assert hk["by_kind"]["SEARCH_WARRANT"]["data_produced"] == 1
    assert hk["by_kind"]["EMERGENCY"]["data_produced"] == 1


def test_united_states(history):
    us = jurisdiction_entry(h2(), "US")
    # Preservation and national-security process are not in the exact numbers.
    assert (us["requests"], us["data_produced"], us["data_produced_percent"]) == (6, 2, 33)
    assert us["outcomes"] == {
        "FULL": 1,
        "PARTIAL": 1,
        "REJECTED": 2,
        "NO_DATA": 1,
        "WITHDRAWN": 0,
        "PENDING": 1,
    }
    assert us["rejection_reasons"]["OVERBROAD"] == 1
    assert us["rejection_reasons"]["INVALID_PROCESS"] == 1
    assert us["rejection_reasons"]["OTHER"] == 1  # the lapsed decision's replacement
    assert us["preservation"] == {"requests": 1, "accounts": 1}
    assert us["by_kind"]["PRESERVATION"]["data_produced"] is None
    assert us["gag_order"] == {"requests": 1, "percent": 17}
    assert us["content"] == {
        "sought_content": 2,
        "sought_non_content_only": 4,
        "disclosed_content": 0,  # the partial disclosure left the content out
        "disclosed_non_content_only": 2,
    }
    assert us["national_security"] == {
        "band_width": 250,
        "requests": "0-249",
        "accounts": "0-249",
    }


def test_total_is_the_sum_and_outcomes_add_up(history):
    body = h2()
    total = body["total"]
    assert total["requests"] == sum(e["requests"] for e in body["jurisdictions"]) == 11
    assert total["accounts"] == sum(e["accounts"] for e in body["jurisdictions"])
    assert total["data_produced"] == 4 and total["data_produced_percent"] == 36
    for entry in [total, *body["jurisdictions"]]:
        assert sum(entry["outcomes"].values()) == entry["requests"]
        assert sum(k["requests"] for k in entry["by_kind"].values()) == (
            entry["requests"] + entry["preservation"]["requests"]
        )
    assert total["national_security"]["requests"] == "0-249"
    assert body["complete"] is True and body["as_of"] == H2_END.isoformat()


def test_outcomes_are_counted_as_of_the_end_of_the_period(history):
    """Decided in December, approved in January: pending in the 2020-H2 report, for good."""
    late = history.refs["us_late"]
    assert late.status == "APPROVED"  # today
    us = jurisdiction_entry(h2(), "US")
    assert us["outcomes"]["PENDING"] == 1
    history.deliver(late, timezone.now())
    late.refresh_from_db()
    assert late.status == "DELIVERED"
    assert jurisdiction_entry(h2(), "US") == us  # later history does not change the report


def test_a_draft_of_a_running_period_counts_as_of_now(history):
    """Mid-period, the lapsed decision was current: that request was pending, not rejected."""
    body = report_compute(period=H2, now=at(7, 22))
    assert body["complete"] is False and body["as_of"] == at(7, 22).isoformat()
    us = jurisdiction_entry(body, "US")
    assert us["requests"] == 2  # received by 22 July (the national-security order is banded)
    assert us["outcomes"]["FULL"] == 1
    assert us["outcomes"]["PENDING"] == 1 and us["outcomes"]["REJECTED"] == 0


def test_request_keyed_in_after_the_period_counts_in_it_as_pending(history, rivera):
    ivy = history.actor("ivy")
    received = datetime(2020, 12, 30, 12, tzinfo=UTC)
    request_submit(
        actor=ivy,
        officer=rivera,
        submission=RequestSubmission.model_validate(
            valid_submission(
                **dated(
                    received,
                    kind="SUBPOENA",
                    legal_basis="18 U.S.C. 2703(c)(2)",
                    data_categories=["BASIC_SUBSCRIBER"],
                    targets=[{"type": "USERNAME", "value": "@posted"}],
                )
            )
        ),
        channel=Channel.STAFF,
        received_at=received,
        now=datetime(2021, 1, 3, tzinfo=UTC),
    )
    us = jurisdiction_entry(h2(), "US")
    assert us["requests"] == 7
    assert us["outcomes"]["PENDING"] == 2


def test_year_report_adds_up_what_the_halves_received(history):
    year = report_compute(period=parse_period("2020"), now=timezone.now())
    first = report_compute(period=parse_period("2020-H1"), now=timezone.now())
    second = h2()
    for key in ("requests", "accounts"):
        assert year["total"][key] == first["total"][key] + second["total"][key]
    assert jurisdiction_entry(first, "HK")["data_produced"] == 1
    # The hold began in H1 (30 June), so it is in both halves' reports, and the year's.
    assert [h["id"] for h in jurisdiction_entry(first, "HK")["holds"]] == [history.hold_id]
    assert [h["id"] for h in jurisdiction_entry(year, "HK")["holds"]] == [history.hold_id]


def test_a_hold_lifted_after_the_period_was_still_in_force_at_its_end(history):
    from govreq.holds.models import JurisdictionHold
    from tests.hold_helpers import hold_lift

    hold = JurisdictionHold.objects.get(pk=history.hold_id)
    hold_lift(
        actor=history.actor("pat"),
        hold=hold,
        reason="Due diligence done",
        now=datetime(2021, 3, 1, tzinfo=UTC),
    )
    (entry,) = jurisdiction_entry(h2(), "HK")["holds"]
    assert entry["effective_to"] is None and entry["lifted"] is False
    (entry,) = jurisdiction_entry(
        report_compute(period=parse_period("2021-H1"), now=timezone.now()), "HK"
    )["holds"]
    assert entry["effective_to"] == "2021-03-01T00:00:00+00:00" and entry["lifted"] is True


def test_national_security_bands_are_configurable(history, settings):
    settings.REPORT_NATIONAL_SECURITY_BANDS = ""
    us = jurisdiction_entry(h2(), "US")
    assert us["national_security"] is None and us["requests"] == 7
    settings.REPORT_NATIONAL_SECURITY_BANDS = "US:1000,GB:100"
    body = h2()
    assert body["national_security_bands"] == {"GB": 100, "US": 1000}
    assert jurisdiction_entry(body, "US")["national_security"]["requests"] == "0-999"
    assert body["total"]["national_security"]["band_width"] == 1000  # never finer than a part
    settings.REPORT_NATIONAL_SECURITY_BANDS = "USA=250"
    with pytest.raises(ValidationFailed, match="not CODE:WIDTH"):
        h2()


def test_the_body_is_deterministic_plain_json(history):
    from govreq.core.canonical import canonical_json

    first, second = h2(), h2()
    assert canonical_json(first) == canonical_json(second)  # refuses floats and NaN

    def no_floats(value):
        if isinstance(value, dict):
            return all(no_floats(v) for v in value.values())
        if isinstance(value, list):
            return all(no_floats(v) for v in value)
        return not isinstance(value, float)

    assert no_floats(first)


def test_an_empty_period_reports_nothing_but_its_holds(db):
    body = report_compute(period=parse_period("2015-H1"), now=timezone.now())
    assert body["jurisdictions"] == []
    assert body["total"]["requests"] == 0 and body["total"]["data_produced_percent"] is None


def test_preservation_requests_are_never_data_produced(history):
    us = jurisdiction_entry(h2(), "US")
    preservation = history.refs["us_preservation"]
    assert preservation.status == "PRESERVED"  # its snapshot sealed, nothing disclosed
    assert us["by_kind"]["PRESERVATION"] == {
        "requests": 1,
        "accounts": 1,
        "data_produced": None,
        "data_produced_percent": None,
    }
    assert us["data_produced"] == 2


def test_withdrawn_by_the_officer_is_withdrawn(history):
    assert history.refs["hk_withdrawn"].status == "WITHDRAWN"
    assert jurisdiction_entry(h2(), "HK")["outcomes"]["WITHDRAWN"] == 1


def test_deliveries_by_other_means_are_counted_apart_by_jurisdiction(staff, rivera):
    """A disclosure delivered outside govreq counts under its request's jurisdiction, once per
    delivery recorded by the cut-off; banded national-security process stays out of it."""
    met = officer_add(
        actor=SYSTEM,
        agency=make_agency("Metropolitan Police Service", "GB", "met.police.uk"),
        email="j.smith@met.police.uk",
        name="Jo Smith",
        now=timezone.now(),
    )

    def deliver_elsewhere(request):
        disclosing.delivery_record_other_means(
            actor=staff.actor("rita"),
            request=request,
            reason="Handed over on encrypted media at the court's order",
            evidence=io.BytesIO(b"Receipt\n"),
            evidence_name="receipt.txt",
            now=timezone.now(),
        )

    now = timezone.now()
    period = parse_period(f"{now.year}-H{1 if now.month <= 6 else 2}")
    approved = [approve(submit(officer), staff) for officer in (met, met, rivera, rivera, met)]
    # Received in the half-year before: counted in that one's report, not in this one.
    received = period.start - timedelta(days=2)
    window = {"start": str((received - timedelta(days=90)).date()), "end": str(received.date())}
    earlier = approve(submit(met, now=received, data_range=window), staff)
    before_any = timezone.now()
    for request in [*approved[:4], earlier]:  # approved[4]: delivered nowhere yet
        deliver_elsewhere(request)
    # National-security process is banded (US:250): left out of the count. (Set directly: a
    # disclosure of it would first go to the human-rights officer.)
    LegalRequest.objects.filter(pk=approved[3].pk).update(offence_category="NATIONAL_SECURITY")
    body = report_compute(period=period, now=timezone.now())
    assert jurisdiction_entry(body, "GB")["delivered_by_other_means"] == 2
    assert jurisdiction_entry(body, "US")["delivered_by_other_means"] == 1
    assert body["total"]["delivered_by_other_means"] == 3
    # As of a cut-off after every request was received but before any delivery was recorded.
    earlier = report_compute(period=period, now=before_any)
    assert earlier["total"]["requests"] >= 4
    assert earlier["total"]["delivered_by_other_means"] == 0


def test_the_classification_counts_many_holds_in_one_pass(history):
    """Each request is classified once with the holds whose scope it is in, however many holds
    there are (a nested concatenation overflowed SQLite's parser at 15)."""
    scopes = {hold: Q(jurisdiction_id="US") if hold % 2 else Q(pk__lt=0) for hold in range(1, 61)}
    rows = [
        dict(zip(_CLASSIFIED, row, strict=True))
        for row in _classified(
            received_from=H2.start,
            received_before=H2.end,
            cutoff=H2.end,
            held_jurisdictions=[],
            banded_jurisdictions=[],
            scopes=scopes,
        )
    ]
    odd = "".join(f"{hold}," for hold in range(1, 61, 2))
    assert {row["holds"] for row in rows if row["jurisdiction_id"] == "US"} == {odd}
    assert {row["holds"] for row in rows if row["jurisdiction_id"] != "US"} == {""}
    assert (
        sum(row["requests"] for row in rows)
        == LegalRequest.objects.filter(received_at__gte=H2.start, received_at__lt=H2.end).count()
    )


def test_each_report_is_computed_for_its_own_arguments(history, settings):
    """A closed period's queries are compiled once per distinct set of arguments and kept
    (counting._classifying_sql and its siblings): another band setting, a hold placed since or
    another cut-off gives another query, never a kept one; each body is the one computed with
    nothing kept. A running period's queries are not kept."""
    from tests.hold_helpers import hold_place

    builders = (counting._classifying_sql, counting._other_means_sql, counting._notices_sql)

    def kept() -> dict:
        body = h2()
        counting.compiled_queries_clear()
        assert body == h2()  # compiled afresh
        return body

    settings.REPORT_NATIONAL_SECURITY_BANDS = ""
    assert jurisdiction_entry(kept(), "US")["requests"] == 7  # national security counted exactly
    settings.REPORT_NATIONAL_SECURITY_BANDS = "US:250"
    assert jurisdiction_entry(kept(), "US")["requests"] == 6
    hits = [build.cache_info().hits for build in builders]
    body = h2()
    assert jurisdiction_entry(body, "US")["holds"] == []
    assert [build.cache_info().hits for build in builders] == [hit + 1 for hit in hits]
    hold_place(
        actor=history.actor("pat"),
        jurisdiction_code="US",
        effective_from=H2.start,
        reason="A hold on the United States, recorded after the half-year.",
        review_notes="Due-diligence record.",
        now=timezone.now(),
    )
    (entry,) = jurisdiction_entry(kept(), "US")["holds"]
    assert entry["requests_received"] == 6
    # As of a cut-off before any US request was received, there were none; that period was
    # still running then, so nothing of it is kept.
    sizes = [build.cache_info().currsize for build in builders]
    early = h2(now=H2.start + timedelta(seconds=1))
    assert jurisdiction_entry(early, "US")["requests"] == 0
    assert early["complete"] is False
    assert [build.cache_info().currsize for build in builders] == sizes
