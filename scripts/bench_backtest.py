#!/usr/bin/env python3
"""Benchmark: the back-test of "Hong Kong held from 2020-06-30 23:00 HKT" over N requests.

For each N (and each database: SQLite always, PostgreSQL with --database-url), a fresh database
is filled with N synthetic Hong Kong requests (`govreq synthetic`, 2019-2021 history), and on
the same data it times, in turns (the median of --repeat runs):

* the back-test (`backtest.engine.Backtest.run`, every request of the window replayed, the
  report's headline numbers counted as recorded and under the hold), and
* the floor: one raw SQL read of exactly the facts the replay needs (every request's scope
  columns and its whole status history, fetched into Python tuples), plus the transparency
  report for the same periods (`report_compute`), which the back-test's headline counting
  repeats per request.

It prints the times, the ratio, and memory: the peak of Python allocations during the back-test
(tracemalloc) and the process's peak RSS. The aim: 100,000 requests in under a minute, memory
flat in N.

    .venv/bin/python scripts/bench_backtest.py --n 10000 --n 100000 \\
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import _interleaved, _postgres_admin

FACTS_SQL = """
SELECT r.id, r.reference, r.jurisdiction_id, r.kind, r.offence_category, r.agency_id,
       r.legal_basis, r.received_at, s.occurred_at, s.to_status
  FROM intake_legalrequest r
  LEFT JOIN intake_statuschange s ON s.request_id = r.id
 WHERE r.jurisdiction_id = 'HK' AND r.received_at >= %(start)s AND r.received_at < %(end)s
 ORDER BY r.id, s.occurred_at, s.id
"""
WINDOW = "2019-01-01..2021-12-31"
HOLD_FROM = "2020-06-30 23:00 Asia/Hong_Kong"


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govreq.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from govreq.backtest.inputs import backtest_prepare, window_parse
    from govreq.cli.management.commands.synthetic import ProgressBar
    from govreq.core.actors import Actor
    from govreq.core.moments import parse_moment
    from govreq.demo.synthetic import synthetic_generate
    from govreq.transparency.counting import report_compute
    from govreq.transparency.periods import half_year_containing, half_years_between

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    synthetic_generate(
        count=args.n,
        seed=args.seed,
        now=timezone.now(),
        jurisdictions=frozenset({"HK"}),
        progress=ProgressBar(sys.stderr.write, tty=sys.stderr.isatty()),
    )
    generated = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    now = timezone.now()
    window = window_parse(WINDOW)

    def backtest() -> dict[str, int]:
        run = backtest_prepare(
            actor=Actor.system("benchmark"),
            window=window,
            now=now,
            jurisdiction_code="HK",
            effective_from=parse_moment(HOLD_FROM),
            reason="benchmark",
        )
        affected = sum(1 for _ in run.run())
        return {**run.totals.as_dict(), "affected": affected}

    periods = half_years_between(
        half_year_containing(window.start), half_year_containing(window.end)
    )

    def floor() -> int:
        params = {
            "start": connection.ops.adapt_datetimefield_value(window.start),
            "end": connection.ops.adapt_datetimefield_value(window.end),
        }
        with connection.cursor() as cursor:
            cursor.execute(FACTS_SQL, params)
            rows = 0
            while chunk := cursor.fetchmany(5000):
                rows += len(chunk)
        for period in periods:
            report_compute(period=period, now=now)
        return rows

    backtest(), floor()  # warm up: the same caches for both
    timed = _interleaved({"backtest": backtest, "floor": floor}, args.repeat)
    (backtest_s, totals), (floor_s, fact_rows) = timed["backtest"], timed["floor"]
    tracemalloc.start()
    backtest()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "backend": connection.vendor,
                "n": args.n,
                "replayed": totals["requests_replayed"],
                "would_hold": totals["would_hold"],
                "stopped": totals["stopped_deliveries"],
                "fact_rows": fact_rows,
                "generate_s": generated,
                "backtest_s": backtest_s,
                "floor_s": floor_s,
                "ratio": backtest_s / floor_s,
                "peak_heap_mb": peak / 2**20,
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def _run_child(args: argparse.Namespace, n: int, database_url: str | None) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"govreq-bench-backtest-{n}-"))
    env = {**os.environ, "GOVREQ_DATA_DIR": str(data_dir), "GOVREQ_ENV": "development"}
    env.pop("DATABASE_URL", None)
    name = None
    if database_url:
        name = f"govreq_bench_backtest_{n}_{os.getpid()}"
        parts = urlsplit(database_url)
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        _postgres_admin(database_url, f'CREATE DATABASE "{name}"')
    command = [sys.executable, __file__, "--child", "--n", str(n)]
    command += ["--repeat", str(args.repeat), "--seed", str(args.seed)]
    try:
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if name and database_url:
            _postgres_admin(database_url, f'DROP DATABASE IF EXISTS "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, action="append", help="Requests (repeat for several).")
    parser.add_argument("--database-url", help="A PostgreSQL server to benchmark too.")
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs (the median counts).")
    parser.add_argument("--seed", type=int, default=20200630)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.n = args.n or [10_000, 100_000]
    if args.child:
        args.n = args.n[0]
        child(args)
        return
    results = []
    for n in args.n:
        for url in [None] + ([args.database_url] if args.database_url else []):
            print(f"== N = {n:,} on {'PostgreSQL' if url else 'SQLite'}", file=sys.stderr)
            results.append(_run_child(args, n, url))
    header = (
        f"{'database':<11}{'N':>10}{'replayed':>10}{'held':>9}{'stopped':>9}{'back-test':>11}"
        f"{'floor':>9}{'ratio':>7}{'heap peak':>12}{'max RSS':>9}"
    )
    print(f'\nBack-test "HK held from {HOLD_FROM}" over {WINDOW}', end="")
    print(f" vs raw SQL of the same facts + the report (median of {args.repeat})")
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['backend']:<11}{r['n']:>10,}{r['replayed']:>10,}{r['would_hold']:>9,}"
            f"{r['stopped']:>9,}{r['backtest_s']:>10.2f}s{r['floor_s']:>8.2f}s"
            f"{r['ratio']:>6.2f}x{r['peak_heap_mb']:>9.2f} MB{r['max_rss_mb']:>6.0f} MB"
        )


if __name__ == "__main__":
    main()
