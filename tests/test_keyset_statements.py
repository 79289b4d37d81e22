"""A list's SQL compiled once per shape (core.keyset): pages run from kept statements are the
pages the querysets give when built and compiled every time, in both directions, under every
filter; a kept statement never carries one agency's list to another; and a page of a known shape
builds and compiles nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govreq.agencies.models import Officer
from govreq.core import keyset
from govreq.core.keyset import KeysetList, KeysetPage, keyset_page, list_shape
from govreq.intake.models import LegalRequest, RequestStatus
from govreq.intake.selectors import request_list_keyset
from govreq.review.selectors import request_queue_keyset
from govreq.review.services import request_assign
from tests.review_helpers import make_staff, submit

EMERGENCY = {
    "kind": "EMERGENCY",
    "emergency": {"danger": "A child is missing.", "why_now": "Every hour counts."},
}


@pytest.fixture
def history(db: None, chan: Officer, rivera: Officer) -> Any:
    """Requests of two agencies, some emergencies, some closed, some assigned, with ties on the
    response target and on the receipt time."""
    staff = make_staff()
    now = timezone.now()
    made = []
    for i in range(14):
        officer = chan if i % 3 else rivera
        made.append(submit(officer, document=False, **(EMERGENCY if i % 5 == 0 else {})))
    ids = [r.pk for r in made]
    LegalRequest.objects.filter(pk__in=ids[:6]).update(respond_by=now + timedelta(days=3))
    LegalRequest.objects.filter(pk__in=ids[2:5]).update(received_at=now - timedelta(hours=1))
    LegalRequest.objects.filter(pk__in=ids[8:12]).update(status=RequestStatus.CLOSED)
    for request in made[1:5]:
        request_assign(
            actor=staff.actor("rita"), request=request, assignee=staff.users["rita"], now=now
        )
    return staff


def _walk(build: Callable[[], KeysetList], size: int) -> list[KeysetPage]:
    """Every page following next_cursor, then back to the first along previous_cursor, with
    the list built afresh for each page as a request does."""
    pages = [keyset_page(build(), cursor=None, page_size=size, binding={})]
    while pages[-1].next_cursor:
        pages.append(keyset_page(build(), cursor=pages[-1].next_cursor, page_size=size, binding={}))
    back = pages[-1]
    while back.previous_cursor:
        back = keyset_page(build(), cursor=back.previous_cursor, page_size=size, binding={})
        pages.append(back)
    return pages


def _unkept(build: Callable[[], KeysetList]) -> Callable[[], KeysetList]:
    """The same list without a shape: built and compiled on every page."""

    def unshaped() -> KeysetList:
        listing = build()
        return KeysetList(segments=listing.segments, keys=listing.keys)

    return unshaped


def _same_walk(build: Callable[[], KeysetList], size: int) -> list[KeysetPage]:
    kept, fresh = _walk(build, size), _walk(_unkept(build), size)
    # Cursors are signed, not timestamped: the same page has the same cursors.
    assert [(p.items, p.next_cursor, p.previous_cursor) for p in kept] == [
        (p.items, p.next_cursor, p.previous_cursor) for p in fresh
    ]
    # The very same values, down to each moment's zone (equal moments in other zones compare
    # equal; their text does not).
    assert repr([p.items for p in kept]) == repr([p.items for p in fresh])
    return kept


def test_kept_statements_page_exactly_as_compiling_every_time(
    history: Any, chan: Officer, rivera: Officer
) -> None:
    rita = history.users["rita"]
    far = timezone.now() + timedelta(days=2)
    lists: list[Callable[[], KeysetList]] = [
        lambda: request_queue_keyset(),
        lambda: request_queue_keyset(statuses=["CLOSED"]),
        lambda: request_queue_keyset(statuses=["CLOSED", "RECEIVED"]),
        lambda: request_queue_keyset(kind="EMERGENCY"),
        lambda: request_queue_keyset(jurisdiction="hk"),
        lambda: request_queue_keyset(due_before=far),
        lambda: request_queue_keyset(assigned_to=rita),
        lambda: request_queue_keyset(order="confidence"),
        lambda: request_list_keyset(agency=chan.agency),
        lambda: request_list_keyset(agency=rivera.agency, statuses=["CLOSED"]),
        lambda: request_list_keyset(),
    ]
    walked = 0
    for build in lists:
        assert build().shape is not None
        for size in (1, 3, 5):
            pages = _same_walk(build, size)
            walked += sum(len(p.items) for p in pages)
    assert walked > 100  # the lists are not empty
    # The open queue: every open request once, emergencies first.
    pages = _walk(request_queue_keyset, 4)
    ahead = next(i for i, page in enumerate(pages) if page.next_cursor is None)
    forward = [row["id"] for page in pages[: ahead + 1] for row in page.items]
    assert len(forward) == len(set(forward)) == 10
    kinds = [LegalRequest.objects.get(pk=pk).kind for pk in forward]
    assert kinds == sorted(kinds, key=lambda kind: kind != "EMERGENCY")


def test_a_kept_statement_never_shows_one_agency_the_other_agencys_requests(
    history: Any, chan: Officer, rivera: Officer
) -> None:
    own = {
        officer.agency.pk: set(
            LegalRequest.objects.filter(agency=officer.agency).values_list("id", flat=True)
        )
        for officer in (chan, rivera)
    }
    # Taking turns on one connection, page by page, with the same page size.
    cursors: dict[int, str | None] = {chan.agency.pk: None, rivera.agency.pk: None}
    seen: dict[int, set[int]] = {chan.agency.pk: set(), rivera.agency.pk: set()}
    for _ in range(8):
        for officer in (chan, rivera):
            agency = officer.agency
            page = keyset_page(
                request_list_keyset(agency=agency),
                cursor=cursors[agency.pk],
                page_size=2,
                binding={"agency": agency.pk},
            )
            seen[agency.pk] |= {row["id"] for row in page.items}
            cursors[agency.pk] = page.next_cursor
    assert seen == own


@pytest.mark.parametrize("kind", ["queue", "agency list"])
def test_a_page_of_a_known_shape_builds_and_compiles_nothing(
    history: Any, chan: Officer, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(keyset, "CHECK_KEPT", False)  # as in production: no second compile
    built = []

    def listing() -> KeysetList:
        shaped = (
            request_queue_keyset(statuses=["RECEIVED"])
            if kind == "queue"
            else request_list_keyset(agency=chan.agency)
        )

        def segments() -> Any:
            built.append(1)
            return shaped.segments

        return KeysetList(segments=segments, keys=shaped.keys, shape=("test", shaped.shape))

    first_walk = _walk(listing, 2)
    assert built and len(first_walk) > 4
    compiled = []
    as_sql = SQLCompiler.as_sql

    def counting(self: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        compiled.append(self.query.model)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    built.clear()
    with CaptureQueriesContext(connection) as queries:
        second_walk = _walk(listing, 2)
    assert not built and not compiled
    assert [p.items for p in second_walk] == [p.items for p in first_walk]
    assert len(queries) <= 2 * len(second_walk)  # at most one a segment
    # A cursor of the wrong length is refused as the compiled path refuses it.
    forged = keyset.cursor_encode(
        position=keyset.Position(segment=1, values=(1,)), backwards=False, binding={}
    )
    with pytest.raises(keyset.ValidationFailed):
        keyset_page(listing(), cursor=forged, page_size=2, binding={})


def test_numbered_parameters_for_postgresql() -> None:
    sql = "SELECT '%%s', a LIKE '%%' || %s FROM t WHERE (b, c) > (%s, %s) AND d = %s"
    assert keyset._numbered(sql) == (
        "SELECT '%s', a LIKE '%' || $1 FROM t WHERE (b, c) > ($2, $3) AND d = $4"
    )
    assert keyset._numbered("SELECT 1") == "SELECT 1"


def test_a_shape_is_plain_values_only_and_the_kept_statements_are_bounded(
    history: Any, chan: Officer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert list_shape("x", inbox=Q(status="CLOSED")) is None
    assert list_shape("x", flag=True) != list_shape("x", flag=1)
    assert list_shape("x", statuses=["A", "B"]) != list_shape("x", statuses=["B", "A"])
    assert list_shape("x", agency=chan.agency) == list_shape("x", agency=chan.agency)
    # Two instants an hour apart that compare equal (the fold of a clock set back) are two.
    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york)
    second = first.replace(fold=1)
    assert first == second and first.astimezone(UTC) != second.astimezone(UTC)
    assert list_shape("x", due_before=first) != list_shape("x", due_before=second)
    assert list_shape("x", due_before=first) == list_shape("x", due_before=first.astimezone(UTC))
    assert request_queue_keyset(inbox=Q(status="CLOSED")).shape is None

    monkeypatch.setattr(keyset, "STATEMENTS_KEPT", 5)
    for days in range(12):
        due = timezone.now() + timedelta(days=days)
        keyset_page(request_queue_keyset(due_before=due), cursor=None, page_size=2, binding={})
    assert len(keyset._kept()) <= 5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_new_database_session_prepares_its_statements_again(chan: Officer) -> None:
    """On PostgreSQL a kept statement is prepared on the session; after Django reconnects, the
    new session has none, and pages still come (prepared again)."""
    for _ in range(5):
        submit(chan, document=False)
    walked = [p.items for p in _walk(lambda: request_list_keyset(agency=chan.agency), 2)]
    connection.close()
    assert [p.items for p in _walk(lambda: request_list_keyset(agency=chan.agency), 2)] == walked
    assert sum(len(items) for items in walked) >= 5


def test_the_suite_catches_a_shape_that_leaves_out_an_argument(
    history: Any, chan: Officer, rivera: Officer
) -> None:
    """Under the test suite (CHECK_KEPT), a shape that does not name every argument deciding
    the SQL is caught the first time the list is paged with another value of it."""
    assert keyset.CHECK_KEPT

    def careless(agency: Any) -> KeysetList:
        listing = request_list_keyset(agency=agency)
        return KeysetList(segments=lambda: listing.segments, keys=listing.keys, shape=("careless",))

    keyset_page(careless(chan.agency), cursor=None, page_size=2, binding={})
    with pytest.raises(AssertionError, match="other parameters"):
        keyset_page(careless(rivera.agency), cursor=None, page_size=2, binding={})
