#!/usr/bin/env python3
"""Benchmark: the staff queue (`?status=CLOSED`) and an agency's list, at page 1 and at a deep
cursor, against hand-written keyset SQL on the same database.

    GOVREQ_DATA_DIR=/tmp/bench-lists .venv/bin/python scripts/bench_lists.py --n 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python scripts/bench_lists.py --n 100000

The database (SQLite in GOVREQ_DATA_DIR, or DATABASE_URL) is migrated and, if it holds fewer
than N synthetic requests, filled with `govreq synthetic N` first. Each figure is the median of
interleaved runs: govreq (the selector building the list, and core.keyset taking the page with
its cursors, rows materialised as the API does) and
the raw keyset SQL floor (the same rows, every column of the request, no joins), with the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

PAGE = 25


def _median_ms(functions: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govreq.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    # The script is outside the package: imported here, after django.setup().
    from govreq.agencies.models import Agency
    from govreq.core.keyset import Position, cursor_encode, keyset_page
    from govreq.intake.models import LegalRequest
    from govreq.intake.selectors import request_list_keyset
    from govreq.review.selectors import request_queue_keyset

    call_command("migrate", verbosity=0)
    if LegalRequest.objects.count() < args.n:
        started = time.perf_counter()
        call_command("synthetic", str(args.n - LegalRequest.objects.count()))
        print(f"synthetic {args.n}: {time.perf_counter() - started:.0f} s")
        # Fresh bulk-loaded tables have no planner statistics yet (PostgreSQL then chose a
        # 244 ms plan for page 1 of the queue at 1M instead of a 2.5 ms one).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    total = LegalRequest.objects.count()
    agency_id = (LegalRequest.objects.values("agency").order_by().annotate(n=Count("id"))).order_by(
        "-n"
    )[0]["agency"]
    vendor = connection.vendor

    def raw(sql: str, params: list[Any]) -> Callable[[], Any]:
        def run() -> Any:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

        return run

    # Deep positions: 90% of the way through each list.
    closed = LegalRequest.objects.filter(status="CLOSED").exclude(kind="EMERGENCY")
    n_closed = closed.count()
    deep_queue = closed.order_by("respond_by", "received_at", "id").values_list(
        "respond_by", "received_at", "id"
    )[int(n_closed * 0.9)]
    mine = LegalRequest.objects.filter(agency_id=agency_id)
    n_mine = mine.count()
    deep_list = mine.order_by("-received_at", "-id").values_list("received_at", "id")[
        int(n_mine * 0.9)
    ]

    queue_binding = {"bench": "queue"}
    list_binding = {"bench": "list"}
    agency = Agency.objects.get(pk=agency_id)

    def queue_listing() -> Any:
        return request_queue_keyset(statuses=["CLOSED"])

    def agency_listing() -> Any:
        return request_list_keyset(agency=agency)

    queue_cursor = cursor_encode(
        position=Position(segment=1, values=tuple(deep_queue)),
        backwards=False,
        binding=queue_binding,
    )
    list_cursor = cursor_encode(
        position=Position(segment=0, values=tuple(deep_list)), backwards=False, binding=list_binding
    )
    q = connection.ops.quote_name
    t = q(LegalRequest._meta.db_table)
    raw_queue_first = raw(
        f"SELECT * FROM {t} WHERE status = 'CLOSED' AND kind <> 'EMERGENCY' "  # noqa: S608
        f"ORDER BY respond_by, received_at, id LIMIT {PAGE + 1}",
        [],
    )
    raw_queue_deep = raw(
        f"SELECT * FROM {t} WHERE status = 'CLOSED' AND kind <> 'EMERGENCY' "  # noqa: S608
        "AND respond_by >= %s AND (respond_by > %s OR (respond_by = %s AND (received_at > %s "
        "OR (received_at = %s AND id > %s)))) "
        f"ORDER BY respond_by, received_at, id LIMIT {PAGE + 1}",
        [deep_queue[0], deep_queue[0], deep_queue[0], deep_queue[1], deep_queue[1], deep_queue[2]],
    )
    raw_list_first = raw(
        f"SELECT * FROM {t} WHERE agency_id = %s "  # noqa: S608
        f"ORDER BY received_at DESC, id DESC LIMIT {PAGE + 1}",
        [agency_id],
    )
    raw_list_deep = raw(
        f"SELECT * FROM {t} WHERE agency_id = %s AND received_at <= %s "  # noqa: S608
        "AND (received_at < %s OR (received_at = %s AND id < %s)) "
        f"ORDER BY received_at DESC, id DESC LIMIT {PAGE + 1}",
        [agency_id, deep_list[0], deep_list[0], deep_list[0], deep_list[1]],
    )

    def page(
        listing: Callable[[], Any], cursor: str | None, binding: dict[str, str]
    ) -> Callable[[], Any]:
        # What a request does: the selector builds the list, core.keyset takes the page.
        return lambda: keyset_page(listing(), cursor=cursor, page_size=PAGE, binding=binding)

    cases = {
        "queue CLOSED page 1": (page(queue_listing, None, queue_binding), raw_queue_first),
        "queue CLOSED deep cursor": (
            page(queue_listing, queue_cursor, queue_binding),
            raw_queue_deep,
        ),
        "agency list page 1": (page(agency_listing, None, list_binding), raw_list_first),
        "agency list deep cursor": (page(agency_listing, list_cursor, list_binding), raw_list_deep),
    }
    print(
        f"{vendor}, {total:,} requests "
        f"({n_closed:,} CLOSED non-emergency; {n_mine:,} of one agency)"
    )
    print(f"{'list':28} {'govreq ms':>10} {'raw ms':>8} {'ratio':>6}")
    for name, (ours, floor) in cases.items():
        times = _median_ms({"govreq": ours, "raw": floor}, args.repeat)
        ratio = times["govreq"] / times["raw"] if times["raw"] else float("inf")
        print(f"{name:28} {times['govreq']:10.2f} {times['raw']:8.2f} {ratio:6.2f}x")


if __name__ == "__main__":
    main()
