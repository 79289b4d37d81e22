"""Keyset (cursor) pagination on every list: walks that see every row once while requests keep
arriving, filters kept across pages, cursors that cannot be forged or carried to another list,
filter or agency, the page-size cap and the offset limit, and the stored target count."""

from __future__ import annotations

import html
import importlib
import re
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govreq.agencies.models import Officer
from govreq.api.pagination import MAX_OFFSET_ROWS, MAX_PAGE_SIZE
from govreq.core.keyset import keyset_page
from govreq.intake.models import LegalRequest, RequestStatus
from govreq.review.confidence import confidence_refresh
from govreq.review.selectors import queue_counts, request_queue, request_queue_keyset
from govreq.review.services import request_assign
from tests.conftest import Api, field_errors
from tests.console.test_console import PASSWORD, signed_in
from tests.review_helpers import make_staff, submit

EMERGENCY = {
    "kind": "EMERGENCY",
    "emergency": {"danger": "A child is missing.", "why_now": "Every hour counts."},
}


@pytest.fixture
def staff(db: None) -> Any:
    staff = make_staff()
    for user in staff.users.values():
        user.set_password(PASSWORD)
        user.save()
    return staff


def walk(api: Api, path: str, between: Any = None, **params: Any) -> list[str]:
    """Every reference met following next_cursor from the first page, calling ``between``
    after each page (to insert requests while the walk goes on)."""
    seen: list[str] = []
    body = api.get(path, **params).json()
    while True:
        seen += [item["reference"] for item in body["items"]]
        if between is not None:
            between()
        if body["next_cursor"] is None:
            return seen
        body = api.get(path, **params, cursor=body["next_cursor"]).json()


# --- the officers' list ------------------------------------------------------------------------


def test_officer_walk_sees_every_request_once_while_more_arrive(
    api_as: Any, chan: Officer, chan_token: str
) -> None:
    now = timezone.now()
    # Some received at one moment (ties broken by id), some at others.
    existing = [submit(chan, document=False, now=now - timedelta(hours=i % 3)) for i in range(9)]
    arrived: list[LegalRequest] = []

    def more_arrive() -> None:  # one new, one keyed in late with an old receipt time
        arrived.append(submit(chan, document=False))
        arrived.append(submit(chan, document=False, now=now - timedelta(hours=1, minutes=30)))

    chan_api = api_as(chan_token)
    seen = walk(chan_api, "/requests", between=more_arrive, page_size=2)
    assert len(seen) == len(set(seen))  # nothing twice
    assert {r.reference for r in existing} <= set(seen)  # nothing missed
    assert set(seen) <= {r.reference for r in existing + arrived}
    # The pages are the list in its order: newest first, then the highest id.
    expected = list(
        LegalRequest.objects.filter(reference__in=seen)
        .order_by("-received_at", "-id")
        .values_list("reference", flat=True)
    )
    assert seen == expected


def test_previous_cursor_walks_back_to_the_first_page(
    api_as: Any, chan: Officer, chan_token: str
) -> None:
    for _ in range(7):
        submit(chan, document=False)
    chan_api = api_as(chan_token)
    first = chan_api.get("/requests", page_size=3).json()
    assert first["previous_cursor"] is None and first["page"] == 1
    second = chan_api.get("/requests", page_size=3, cursor=first["next_cursor"]).json()
    third = chan_api.get("/requests", page_size=3, cursor=second["next_cursor"]).json()
    assert len(third["items"]) == 1 and third["next_cursor"] is None
    back = chan_api.get("/requests", page_size=3, cursor=third["previous_cursor"]).json()
    assert back["items"] == second["items"]
    again = chan_api.get("/requests", page_size=3, cursor=back["previous_cursor"]).json()
    assert again["items"] == first["items"] and again["previous_cursor"] is None


def test_status_filter_is_kept_across_pages_and_binds_the_cursor(
    api_as: Any, chan: Officer, chan_token: str
) -> None:
    requests = [submit(chan, document=False) for _ in range(6)]
    withdrawn = {r.reference for r in requests[::2]}
    LegalRequest.objects.filter(reference__in=withdrawn).update(status=RequestStatus.WITHDRAWN)
    chan_api = api_as(chan_token)
    seen = walk(chan_api, "/requests", page_size=1, status="WITHDRAWN")
    assert set(seen) == withdrawn and len(seen) == 3
    cursor = chan_api.get("/requests", page_size=1, status="WITHDRAWN").json()["next_cursor"]
    other_filter = chan_api.get("/requests", page_size=1, status="RECEIVED", cursor=cursor)
    assert other_filter.status_code == 422
    assert "cursor" in field_errors(other_filter)
    no_filter = chan_api.get("/requests", page_size=1, cursor=cursor)
    assert no_filter.status_code == 422 and "cursor" in field_errors(no_filter)


def test_tampered_and_foreign_cursors_are_refused(
    api_as: Any, chan: Officer, rivera: Officer, chan_token: str, rivera_token: str, staff: Any
) -> None:
    for _ in range(3):
        submit(chan, document=False)
    submit(rivera, document=False)
    chan_api, rivera_api = api_as(chan_token), api_as(rivera_token)
    cursor = chan_api.get("/requests", page_size=1).json()["next_cursor"]
    payload = cursor.rpartition(":")[0]
    for forged in (cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"), "nonsense", payload):
        refused = chan_api.get("/requests", page_size=1, cursor=forged)
        assert refused.status_code == 422
        assert "cursor" in field_errors(refused)
    # Chan's cursor in Rivera's hands: refused, and Chan's requests never shown.
    stolen = rivera_api.get("/requests", page_size=1, cursor=cursor)
    assert stolen.status_code == 422 and "cursor" in field_errors(stolen)
    # A cursor from the staff queue is no cursor for the officers' list, and the reverse.
    queue_cursor = (
        api_as(staff.tokens["rita"]).get("/staff/requests", page_size=1).json()["next_cursor"]
    )
    assert queue_cursor is not None
    assert chan_api.get("/requests", page_size=1, cursor=queue_cursor).status_code == 422
    staff_side = api_as(staff.tokens["rita"]).get("/staff/requests", page_size=1, cursor=cursor)
    assert staff_side.status_code == 422 and "cursor" in field_errors(staff_side)


def test_an_agency_never_pages_into_another_agencys_requests(
    api_as: Any, chan: Officer, rivera: Officer, chan_token: str, rivera_token: str
) -> None:
    now = timezone.now()
    chans = {
        submit(chan, document=False, now=now - timedelta(minutes=i)).reference for i in (0, 2, 4)
    }
    riveras = {
        submit(rivera, document=False, now=now - timedelta(minutes=i)).reference for i in (1, 3, 5)
    }
    assert set(walk(api_as(chan_token), "/requests", page_size=1)) == chans
    assert set(walk(api_as(rivera_token), "/requests", page_size=1)) == riveras


def test_page_size_is_capped_and_the_openapi_shows_the_cap_and_the_cursor(
    api_as: Any, chan_token: str, staff: Any, client: Any
) -> None:
    too_big = api_as(chan_token).get("/requests", page_size=MAX_PAGE_SIZE + 1)
    assert too_big.status_code == 422 and "page_size" in field_errors(too_big)
    queue = api_as(staff.tokens["rita"]).get("/staff/requests", page_size=MAX_PAGE_SIZE + 1)
    assert queue.status_code == 422 and "page_size" in field_errors(queue)
    assert api_as(chan_token).get("/requests", page_size=MAX_PAGE_SIZE).status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/requests", "/api/v1/staff/requests"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert "cursor" in parameters
        assert parameters["page_size"]["schema"]["maximum"] == MAX_PAGE_SIZE


def test_page_numbers_work_only_for_shallow_pages(
    api_as: Any, chan: Officer, chan_token: str
) -> None:
    submit(chan, document=False)
    chan_api = api_as(chan_token)
    deepest = MAX_OFFSET_ROWS // MAX_PAGE_SIZE
    assert chan_api.get("/requests", page=deepest, page_size=MAX_PAGE_SIZE).status_code == 200
    deeper = chan_api.get("/requests", page=deepest + 1, page_size=MAX_PAGE_SIZE)
    assert deeper.status_code == 422
    assert "next_cursor" in field_errors(deeper)["page"]
    cursor = chan_api.get("/requests", page_size=1).json()["next_cursor"]
    both = chan_api.get("/requests", page=1, cursor=cursor or "x")
    assert both.status_code == 422 and "cursor" in field_errors(both)


# --- the staff queue ---------------------------------------------------------------------------


def test_queue_walk_follows_urgency_order_across_emergencies_while_more_arrive(
    api_as: Any, chan: Officer, rivera: Officer, staff: Any
) -> None:
    now = timezone.now()
    normal = [submit(chan, document=False) for _ in range(5)]
    urgent = [submit(rivera, document=False, **EMERGENCY) for _ in range(3)]
    # Ties on the response target, broken by receipt time and id.
    LegalRequest.objects.filter(pk__in=[r.pk for r in normal[:3]]).update(
        respond_by=now + timedelta(days=2)
    )
    LegalRequest.objects.filter(pk__in=[r.pk for r in urgent[:2]]).update(
        respond_by=now + timedelta(hours=1)
    )
    existing = {r.reference for r in normal + urgent}
    expected_order = list(request_queue().values_list("reference", flat=True))
    rita = api_as(staff.tokens["rita"])
    assert walk(rita, "/staff/requests", page_size=3) == expected_order
    assert [r.kind for r in request_queue()][:3] == ["EMERGENCY"] * 3

    arrived: list[str] = []

    def more_arrive() -> None:
        arrived.append(submit(chan, document=False).reference)
        arrived.append(submit(rivera, document=False, **EMERGENCY).reference)

    seen = walk(rita, "/staff/requests", between=more_arrive, page_size=2)
    assert len(seen) == len(set(seen))
    assert existing <= set(seen) <= existing | set(arrived)


def test_queue_confidence_order_walks_every_row_once(
    api_as: Any, chan: Officer, rivera: Officer, staff: Any
) -> None:
    for officer in (chan, rivera, chan, rivera, chan):
        submit(officer, document=False)
    rita = api_as(staff.tokens["rita"])
    expected = list(request_queue(order="confidence").values_list("reference", flat=True))
    assert walk(rita, "/staff/requests", page_size=2, order="confidence") == expected
    assert len(expected) == 5


def test_queue_filters_are_kept_and_counts_cover_open_statuses_only(
    api_as: Any, chan: Officer, staff: Any
) -> None:
    requests = [submit(chan, document=False) for _ in range(5)]
    closed = [r.reference for r in requests[:3]]
    LegalRequest.objects.filter(reference__in=closed).update(status=RequestStatus.CLOSED)
    rita = api_as(staff.tokens["rita"])
    assert set(walk(rita, "/staff/requests", page_size=1, status="CLOSED")) == set(closed)
    page = rita.get("/staff/requests", page_size=1, status="CLOSED").json()
    assert page["count"] is None  # a closed status is the whole history: not counted
    open_page = rita.get("/staff/requests", page_size=1).json()
    assert open_page["count"] == 2
    assert "CLOSED" not in open_page["counts_by_status"]
    assert sum(open_page["counts_by_status"].values()) == 2
    with CaptureQueriesContext(connection) as queries:
        assert "CLOSED" not in queue_counts()
    # The count reads open statuses only (never groups the whole table).
    assert all("WHERE" in q["sql"] for q in queries.captured_queries)


# --- console and portal ------------------------------------------------------------------------


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    return html.unescape(found[1]) if found else None


def test_console_queue_and_audit_page_with_cursors(staff: Any, chan: Officer) -> None:
    references = [submit(chan, document=False).reference for _ in range(27)]
    rita = signed_in(staff, "rita")
    first = rita.get("/console/").content.decode()
    assert sum(ref in first for ref in references) == 25
    assert _link(first, "prev") is None
    second = rita.get("/console/" + _link(first, "next")).content.decode()  # type: ignore[operator]
    assert sum(ref in second for ref in references) == 2
    assert _link(second, "next") is None
    assert rita.get("/console/?cursor=forged").status_code == 400

    aud = signed_in(staff, "aud")
    audit_first = aud.get("/console/audit").content.decode()
    older = _link(audit_first, "next")
    assert older is not None and "cursor=" in older
    audit_second = aud.get("/console/audit" + older).content.decode()
    first_seqs = set(re.findall(r"<tr data-testid=\"audit-event\"><td>(\d+)</td>", audit_first))
    second_seqs = set(re.findall(r"<tr data-testid=\"audit-event\"><td>(\d+)</td>", audit_second))
    assert len(first_seqs) == 50 and second_seqs and not first_seqs & second_seqs
    assert max(map(int, second_seqs)) < min(map(int, first_seqs))
    # A cursor taken with one filter is no good with another.
    filtered = aud.get("/console/audit", {"action": "request."}).content.decode()
    moved = _link(filtered, "next")
    if moved:
        assert (
            aud.get(
                "/console/audit" + moved.replace("action=request.", "action=agency.")
            ).status_code
            == 400
        )


def test_queue_rows_carry_the_agency_its_confidence_and_the_assignee_in_one_query_a_page(
    staff: Any, chan: Officer, api_as: Any
) -> None:
    """The queue is read as plain rows with three joined columns: the API and the console show
    the agency's name, its stored confidence (none yet: null) and the assignee, and a page is
    one query per segment whatever it holds."""
    now = timezone.now()
    assigned, unassigned = submit(chan, document=False), submit(chan, document=False)
    request_assign(
        actor=staff.actor("rita"), request=assigned, assignee=staff.users["rita"], now=now
    )
    rita = api_as(staff.tokens["rita"])
    items = {item["reference"]: item for item in rita.get("/staff/requests").json()["items"]}
    for request in (assigned, unassigned):
        assert items[request.reference]["agency"] == chan.agency.name
        assert items[request.reference]["agency_confidence"] is None
    assert items[assigned.reference]["assigned_to"] == staff.users["rita"].email
    assert items[unassigned.reference]["assigned_to"] is None

    score = confidence_refresh(chan.agency, now=now).score
    items = {item["reference"]: item for item in rita.get("/staff/requests").json()["items"]}
    assert items[assigned.reference]["agency_confidence"] == score

    page = signed_in(staff, "rita").get("/console/")
    text = html.unescape(page.content.decode())
    assert chan.agency.name in text and staff.users["rita"].email in text
    assert f'<td data-testid="confidence">{score}</td>' in text or score == 0

    for _ in range(30):
        submit(chan, document=False)
    listing = request_queue_keyset()
    with CaptureQueriesContext(connection) as queries:
        page_rows = keyset_page(listing, cursor=None, page_size=25, binding={}).items
    assert len(page_rows) == 25
    assert len(queries) <= len(listing.segments)  # no query per row


# --- the stored target count -------------------------------------------------------------------


def test_target_count_is_stored_at_intake_and_back_filled(chan: Officer) -> None:
    targets = [{"type": "USERNAME", "value": f"someone{i}"} for i in range(4)]
    request = submit(chan, document=False, targets=targets)
    request.refresh_from_db()
    assert request.target_count == 4 == request.targets.count()
    LegalRequest.objects.update(target_count=0)
    migration = importlib.import_module(
        "govreq.intake.migrations.0006_list_indexes_and_target_count"
    )
    migration.fill_in(apps, connection.schema_editor())
    request.refresh_from_db()
    assert request.target_count == 4
