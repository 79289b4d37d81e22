#!/usr/bin/env python3
"""Benchmark: a full transparency report against one hand-written SQL aggregate.

For each N (and each database: SQLite always, PostgreSQL with --database-url), a fresh database
is created, migrated and filled with N synthetic requests (`govreq synthetic`); then, on the same
data, it times

* the full period report (`transparency.counting.report_compute`: every jurisdiction, every
  category, the holds), and
* one hand-written SQL aggregate computing the same headline numbers per jurisdiction (requests,
  accounts, requests with some data produced, preservation requests and their accounts: Meta's
  headline columns), as of the end of the period,

checks that the two agree, and prints their times, the ratio, and memory: the peak of Python
allocations while the report is computed (tracemalloc) and the process's peak RSS. The report is
timed twice: with its queries compiled by an earlier run (a closed period's are kept:
``counting._compiled_for``) and compiled afresh in each run (as a running period's are).

    .venv/bin/python scripts/bench_report.py --n 100000 --n 1000000 \\
        [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--period 2020-H2]

Each (N, database) runs in a child process of its own, so settings and memory figures are not
shared. Temporary databases are removed afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HEADLINE_SQL = """
SELECT r.jurisdiction_id,
       SUM(CASE WHEN r.kind <> 'PRESERVATION' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.kind <> 'PRESERVATION'
                THEN (SELECT COUNT(*) FROM intake_target t WHERE t.request_id = r.id)
                ELSE 0 END),
       SUM(CASE WHEN r.kind <> 'PRESERVATION'
                 AND (SELECT d.outcome FROM review_decision d
                       WHERE d.request_id = r.id AND d.decided_at < %(cutoff)s
                         AND (d.superseded_at IS NULL OR d.superseded_at >= %(cutoff)s)
                       ORDER BY d.id DESC LIMIT 1) IN ('FULL', 'PARTIAL')
                 AND (SELECT s.to_status FROM intake_statuschange s
                       WHERE s.request_id = r.id AND s.occurred_at < %(cutoff)s
                       ORDER BY s.occurred_at DESC, s.id DESC LIMIT 1)
                     NOT IN ('WITHDRAWN', 'REJECTED')
                 AND EXISTS (SELECT 1 FROM intake_statuschange s
                              WHERE s.request_id = r.id AND s.to_status = 'DELIVERED'
                                AND s.occurred_at < %(cutoff)s)
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.kind = 'PRESERVATION' THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.kind = 'PRESERVATION'
                THEN (SELECT COUNT(*) FROM intake_target t WHERE t.request_id = r.id)
                ELSE 0 END)
  FROM intake_legalrequest r
 WHERE r.received_at >= %(start)s AND r.received_at < %(cutoff)s
   {banded}
 GROUP BY r.jurisdiction_id
"""


# --- The child: one database, one N ---------------------------------------------------------


def _headline_sql(period: Any) -> list[tuple[Any, ...]]:
    from django.db import connection, transaction

    from govreq.transparency.counting import national_security_bands

    bands = sorted(national_security_bands())
    banded = ""
    if bands:
        codes = ", ".join(f"'{code}'" for code in bands)  # two capital letters, checked
        banded = (
            f"AND NOT (r.jurisdiction_id IN ({codes}) AND r.offence_category = 'NATIONAL_SECURITY')"
        )
    params = {
        "start": connection.ops.adapt_datetimefield_value(period.start),
        "cutoff": connection.ops.adapt_datetimefield_value(period.end),
    }
    postgres = connection.vendor == "postgresql"
    with (
        transaction.atomic() if postgres else contextlib.nullcontext(),
        connection.cursor() as cursor,
    ):
        if postgres:
            cursor.execute("SET LOCAL jit = off")  # as the report does: a fair comparison
        cursor.execute(HEADLINE_SQL.format(banded=banded), params)
        return sorted(tuple(row) for row in cursor.fetchall())


def _interleaved(functions: dict[str, Any], repeat: int) -> dict[str, tuple[float, Any]]:
    """Median seconds (and last result) of each function, run in turns so that a busy machine
    slows them alike."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for name, function in functions.items():
            started = time.perf_counter()
            results[name] = function()
            times[name].append(time.perf_counter() - started)
    return {name: (statistics.median(times[name]), results[name]) for name in functions}


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govreq.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from govreq.cli.management.commands.synthetic import ProgressBar
    from govreq.demo.synthetic import synthetic_generate
    from govreq.transparency.counting import compiled_queries_clear, report_compute
    from govreq.transparency.periods import parse_period

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    synthetic_generate(
        count=args.n,
        seed=args.seed,
        now=timezone.now(),
        progress=ProgressBar(sys.stderr.write, tty=sys.stderr.isatty()),
    )
    generated = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics for both queries' plans
    # Both are timed on a connection configured as govreq's (settings.DATABASES), not on the
    # generator's: on SQLite that one has a 256 MB page cache, which sped the aggregate (its
    # per-request look-ups of the targets fit in it) by a tenth at 100,000 requests, and the
    # report not at all.
    connection.close()
    period = parse_period(args.period)
    now = timezone.now()

    def report() -> dict[str, Any]:
        return report_compute(period=period, now=now)

    def report_compiled_afresh() -> dict[str, Any]:
        compiled_queries_clear()
        return report_compute(period=period, now=now)

    report(), _headline_sql(period)  # warm both up: same caches for both
    timed = _interleaved(
        {"report": report, "afresh": report_compiled_afresh, "sql": lambda: _headline_sql(period)},
        args.repeat,
    )
    (report_seconds, body), (sql_seconds, rows) = timed["report"], timed["sql"]
    afresh_seconds, afresh_body = timed["afresh"]
    if afresh_body != body:
        raise SystemExit("the report differs when its queries are compiled afresh")
    mine = sorted(
        (
            entry["code"],
            entry["requests"],
            entry["accounts"],
            entry["data_produced"],
            entry["preservation"]["requests"],
            entry["preservation"]["accounts"],
        )
        for entry in body["jurisdictions"]
        if entry["requests"] or entry["preservation"]["requests"]
    )
    if mine != [tuple(int(v) if not isinstance(v, str) else v for v in row) for row in rows]:
        raise SystemExit("the report and the SQL aggregate disagree: the benchmark is void")
    tracemalloc.start()
    report()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "backend": connection.vendor,
                "n": args.n,
                "in_period": body["total"]["requests"] + body["total"]["preservation"]["requests"],
                "generate_s": generated,
                "report_s": report_seconds,
                "afresh_s": afresh_seconds,
                "sql_s": sql_seconds,
                "ratio": report_seconds / sql_seconds,
                "afresh_ratio": afresh_seconds / sql_seconds,
                "peak_heap_mb": peak / 2**20,
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


# --- The parent: fresh databases, a table ---------------------------------------------------


def _postgres_admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql)


def _run_child(args: argparse.Namespace, n: int, database_url: str | None) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"govreq-bench-{n}-"))
    env = {**os.environ, "GOVREQ_DATA_DIR": str(data_dir), "GOVREQ_ENV": "development"}
    env.pop("DATABASE_URL", None)
    name = None
    if database_url:
        name = f"govreq_bench_{n}_{os.getpid()}"
        parts = urlsplit(database_url)
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        _postgres_admin(database_url, f'CREATE DATABASE "{name}"')
    command = [
        sys.executable,
        __file__,
        "--child",
        "--n",
        str(n),
        "--period",
        args.period,
        "--repeat",
        str(args.repeat),
        "--seed",
        str(args.seed),
    ]
    try:
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            if name and database_url:
                _postgres_admin(database_url, f'DROP DATABASE IF EXISTS "{name}"')
        else:
            print(f"kept: {data_dir}" + (f" and database {name}" if name else ""), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, action="append", help="Requests (repeat for several).")
    parser.add_argument("--database-url", help="A PostgreSQL server to benchmark too.")
    parser.add_argument("--period", default="2020-H2", help="The period reported on.")
    parser.add_argument("--repeat", type=int, default=7, help="Timed runs (the median counts).")
    parser.add_argument("--seed", type=int, default=20200630)
    parser.add_argument("--keep", action="store_true", help="Keep the databases.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.n = args.n or [100_000, 1_000_000]
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
        f"{'database':<11}{'N':>11}{'in period':>11}{'generate':>10}{'report':>10}"
        f"{'SQL':>10}{'ratio':>7}{'afresh':>10}{'ratio':>7}{'report heap':>13}{'max RSS':>9}"
    )
    print(f"\nFull {args.period} report vs one hand-written SQL aggregate", end="")
    print(f" (median of {args.repeat} runs)")
    print(
        "report: its queries compiled earlier (kept for a closed period);"
        " afresh: compiled in each run, as for a running period's draft"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['backend']:<11}{r['n']:>11,}{r['in_period']:>11,}{r['generate_s']:>9.0f}s"
            f"{r['report_s'] * 1000:>7.0f} ms{r['sql_s'] * 1000:>7.0f} ms{r['ratio']:>6.2f}x"
            f"{r['afresh_s'] * 1000:>7.0f} ms{r['afresh_ratio']:>6.2f}x"
            f"{r['peak_heap_mb']:>10.2f} MB{r['max_rss_mb']:>6.0f} MB"
        )


if __name__ == "__main__":
    main()
