"""The scope check: a pure function, and refused releases naming what is outside the decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from govreq.core.errors import Conflict
from govreq.disclosure.scope import ApprovedScope, scope_violations
from govreq.lifecycle import disclosing
from tests.review_helpers import approve, collect, make_staff, submit

SINCE = datetime(2020, 1, 1, tzinfo=UTC)
UNTIL = datetime(2020, 7, 1, tzinfo=UTC)
SCOPE = ApprovedScope(
    target_ids=frozenset({1, 2}),
    categories=frozenset({"BASIC_SUBSCRIBER", "IP_LOGS"}),
    since=SINCE,
    until=UNTIL,
    range_limited=True,
)
TARGETS = [
    {"index": 1, "account": "a1", "target": {"id": 1, "type": "USERNAME", "value": "one"}},
    {"index": 2, "account": "a2", "target": {"id": 2, "type": "USERNAME", "value": "two"}},
]


def file(
    account="a1", category="IP_LOGS", first=SINCE, last=UNTIL - timedelta(seconds=1), undated=0
):
    return {
        "name": f"{account}/{category}.csv",
        "account": account,
        "category": category,
        "first_at": first.isoformat() if first else None,
        "last_at": last.isoformat() if last else None,
        "undated": undated,
    }


def kinds(files, accounts=TARGETS, scope=SCOPE):
    return [v.kind for v in scope_violations(scope, {"accounts": accounts, "files": files})]


def test_within_scope_passes():
    assert (
        kinds(
            [
                file(),
                file("a2"),
                file(category="BASIC_SUBSCRIBER", first=None, last=None, undated=1),
            ]
        )
        == []
    )


def test_each_way_out_of_scope_is_named():
    assert kinds([file(account="a3")]) == ["ACCOUNT"]
    assert kinds([file(category="CONTENT")]) == ["CATEGORY"]
    assert kinds([file(first=SINCE - timedelta(microseconds=1))]) == ["TIME"]
    assert kinds([file(last=UNTIL)]) == ["TIME"]  # the range is half-open
    assert kinds([file(undated=2)]) == ["UNDATED"]
    stray = [
        *TARGETS,
        {"index": 3, "account": "a3", "target": {"id": 9, "type": "EMAIL", "value": "x"}},
    ]
    assert kinds([], accounts=stray) == ["TARGET"]
    message = scope_violations(SCOPE, {"accounts": TARGETS, "files": [file(account="a3")]})[0]
    assert "a3" in message.message and "a3/IP_LOGS.csv" in message.message


def test_an_unresolved_target_allows_nothing():
    accounts = [
        {"index": 0, "account": None, "target": {"id": 1, "type": "USERNAME", "value": "one"}}
    ]
    assert kinds([file(account="a1")], accounts=accounts) == ["ACCOUNT"]


def test_without_a_range_undated_records_are_fine():
    open_scope = ApprovedScope(
        target_ids=SCOPE.target_ids,
        categories=SCOPE.categories,
        since=datetime(1900, 1, 1, tzinfo=UTC),
        until=datetime(9999, 12, 31, tzinfo=UTC),
        range_limited=False,
    )
    assert kinds([file(undated=5)], scope=open_scope) == []


moments = st.datetimes(
    min_value=datetime(2019, 1, 1), max_value=datetime(2021, 1, 1), timezones=st.just(UTC)
)
files_strategy = st.lists(
    st.builds(
        lambda account, category, a, b, undated: file(
            account, category, min(a, b), max(a, b), undated
        ),
        st.sampled_from(["a1", "a2", "a3"]),
        st.sampled_from(["BASIC_SUBSCRIBER", "IP_LOGS", "CONTENT", "LOCATION"]),
        moments,
        moments,
        st.integers(0, 2),
    ),
    max_size=8,
)


@given(files_strategy)
def test_a_package_passes_exactly_when_every_file_is_within_scope(files):
    def within(f):
        return (
            f["account"] in {"a1", "a2"}
            and f["category"] in SCOPE.categories
            and SINCE.isoformat() <= f["first_at"]
            and f["last_at"] < UNTIL.isoformat()
            and (f["undated"] == 0 or f["category"] == "BASIC_SUBSCRIBER")
        )

    violations = scope_violations(SCOPE, {"accounts": TARGETS, "files": files})
    assert (violations == []) == all(within(f) for f in files)
    # Every file outside the scope is named by at least one violation.
    named = {v.file for v in violations}
    assert all(f["name"] in named for f in files if not within(f))


@given(files_strategy, st.sampled_from(["a3", "a9"]))
def test_adding_any_other_accounts_file_is_refused(files, stranger):
    violations = scope_violations(
        SCOPE, {"accounts": TARGETS, "files": [*files, file(account=stranger)]}
    )
    assert any(v.kind == "ACCOUNT" and stranger in v.message for v in violations)


@pytest.mark.django_db
def test_a_careless_source_is_caught_before_release(chan, careless_source):
    staff = make_staff()
    request = approve(submit(chan), staff)
    production = collect(request)
    assert production.status == "OUT_OF_SCOPE"
    messages = [v["message"] for v in production.scope_violations]
    assert any("account 999999 is not an approved target's account" in m for m in messages)
    assert any("CONTENT was not approved" in m for m in messages)
    assert any("before the approved range starts" in m for m in messages)
    with pytest.raises(Conflict) as refused:
        disclosing.production_release(
            actor=staff.actor("rita"), production=production, now=timezone.now()
        )
    assert refused.value.code == "out_of_scope"
    assert "999999" in refused.value.message and "CONTENT" in refused.value.message
    request.refresh_from_db()
    assert request.status == "APPROVED"
    assert production.source == "careless"
