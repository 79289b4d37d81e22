#!/usr/bin/env python3
"""Benchmark: audit-chain verification against hashlib's SHA-256 over the same bytes, and state
changes per second with 1 and 8 writers.

For each N (and each database: SQLite always, PostgreSQL with --database-url), a fresh database
is created, migrated and filled with a generated history of N audit events (realistic actions,
actors and data; chained with the real hash, inserted in bulk). Then, on the same data:

* **floor**: the exact bytes every event hashes (``prev_hash + canonical JSON``), built
  beforehand in slices, hashed with ``hashlib.sha256`` (only the hashing is timed);
* **verify, 1 process**: ``audit_chain_verify()`` (the database writes each event's text; on
  PostgreSQL it hashes it too and sends only the events that need a look, on SQLite the text
  is hashed by hashlib here);
* **verify, N processes**: ``audit_chain_verify(workers=2)``, what ``govreq audit verify`` runs;

each printed as events/s and MB/s of hashed bytes, with its share of the floor. With
--writers (PostgreSQL), it then runs W writer processes for --seconds each: each state change
is one transaction that locks one request-like row of its own (``SELECT ... FOR UPDATE``),
updates it and records one audit event through ``audit_record``, chained in the transaction
(``GOVREQ_AUDIT_CHAINING=in-transaction``: the chain lock, the head, the insert, the commit) or
after its commit (``after-commit``: the event commits unchained, and the writer then chains what
is waiting, in one short transaction of its own), side by side with the same transaction without
the audit event; with the chain lock's hold time (lock granted to commit).

    .venv/bin/python scripts/bench_audit.py --n 100000 --n 1000000 \\
        [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--writers 1 --writers 8]

Each (N, database) runs in a child process of its own. Temporary databases are removed
afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ACTIONS = [
    ("request.received", "legal_request"),
    ("request.status_changed", "legal_request"),
    ("decision.made", "decision"),
    ("approval.given", "approval"),
    ("document.downloaded", "document"),
    ("officer.signed_in", "officer"),
]


def _history(n: int) -> None:
    """N chained events in bulk (the append path's hash, none of its locking)."""
    from django.db import transaction

    from govreq.audit.chain import GENESIS_HASH, sequenced_hash, unsequenced_body
    from govreq.audit.models import AuditEvent

    start = datetime(2019, 1, 1, tzinfo=UTC)
    prev = GENESIS_HASH
    batch: list[AuditEvent] = []
    with transaction.atomic():
        for seq in range(1, n + 1):
            action, object_type = ACTIONS[seq % len(ACTIONS)]
            fields = {
                "occurred_at": start + timedelta(seconds=seq * 37, microseconds=seq % 997),
                "actor_kind": ("USER", "OFFICER", "SYSTEM")[seq % 3],
                "actor_id": str(seq % 500),
                "actor_label": f"reviewer{seq % 500}@platform.example",
                "action": action,
                "object_type": object_type,
                "object_id": str(seq // 7),
                "data": {
                    "from": "IN_REVIEW",
                    "to": "APPROVED",
                    "reason": "Scope narrowed to the named account, 30 days.",
                    "targets": [seq % 11, seq % 13],
                    "reference": f"GR-2020-{seq:07d}",
                },
            }
            digest = sequenced_hash(prev_hash=prev, seq=seq, unsequenced=unsequenced_body(**fields))
            batch.append(AuditEvent(seq=seq, prev_hash=prev, hash=digest, **fields))
            prev = digest
            if len(batch) >= 5000:
                AuditEvent.objects.bulk_create(batch)
                batch = []
        AuditEvent.objects.bulk_create(batch)


def _floor() -> tuple[float, int]:
    """hashlib over exactly the bytes verification hashes: (seconds hashing, bytes)."""
    import hashlib

    from govreq.audit.chain import EVENT_COLUMNS
    from govreq.audit.models import AuditEvent

    total = 0.0
    size = 0
    rows = AuditEvent.objects.order_by("seq").values_list(*EVENT_COLUMNS).iterator(20000)
    payloads: list[bytes] = []

    def hash_all() -> float:
        began = time.perf_counter()
        for payload in payloads:
            hashlib.sha256(payload).hexdigest()
        return time.perf_counter() - began

    from govreq.core.canonical import canonical_json

    for seq, at, kind, actor_id, label, action, otype, oid, data, prev, _h in rows:
        body = {
            "seq": seq,
            "occurred_at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": [kind, actor_id, label],
            "action": action,
            "object": [otype, oid],
            "data": data,
        }
        payload = prev.encode("ascii") + canonical_json(body)
        payloads.append(payload)
        size += len(payload)
        if len(payloads) >= 100_000:
            total += hash_all()
            payloads = []
    total += hash_all()
    return total, size


def _writer(args: tuple[int, float, str, int]) -> tuple[int, list[float]]:
    """One writer process: state changes for ``seconds``; the chain lock's hold times.

    ``mode``: "none" (no audit event), or how events are chained (``GOVREQ_AUDIT_CHAINING``):
    "in-transaction" or "after-commit" (where the writer chains after its commit, as the
    services do, and that is counted in its time)."""
    index, seconds, mode, rows = args
    if mode != "none":
        os.environ["GOVREQ_AUDIT_CHAINING"] = mode
    import django
    from django.db import connection, transaction

    django.setup()
    from django.utils import timezone

    from govreq.audit import services
    from govreq.audit.services import audit_record
    from govreq.core.actors import Actor

    held: list[float] = []
    granted: list[float] = []
    original_lock = services._advisory_lock_chain
    original_chaining_lock = services._lock_for_chaining

    def timed_lock() -> None:
        original_lock()
        granted.append(time.perf_counter())

    def timed_chaining_lock(*, wait: bool) -> bool:
        taken = original_chaining_lock(wait=wait)
        if taken:
            granted.append(time.perf_counter())
        return taken

    services._advisory_lock_chain = timed_lock  # type: ignore[assignment]
    services._lock_for_chaining = timed_chaining_lock  # type: ignore[assignment]
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        row = index * rows + done % rows + 1
        granted.clear()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT n FROM bench_state WHERE id = %s FOR UPDATE", [row])
                cursor.execute("UPDATE bench_state SET n = n + 1 WHERE id = %s", [row])
            if mode != "none":
                audit_record(
                    actor=Actor.system(f"writer-{index}"),
                    action="request.status_changed",
                    object_type="legal_request",
                    object_id=row,
                    data={"from": "IN_REVIEW", "to": "APPROVED"},
                    now=timezone.now(),
                )
        if granted:  # after-commit: the writer's chaining ran (it found events to chain)
            held.append(time.perf_counter() - granted[-1])
        done += 1
    connection.close()
    return done, held


MODES = ("in-transaction", "after-commit", "none")


def _state_changes(writers: int, seconds: float, mode: str) -> dict[str, Any]:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from django.db import connections

    connections.close_all()
    with ProcessPoolExecutor(writers, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(_writer, [(i, seconds, mode, 50) for i in range(writers)]))
    done = sum(count for count, _held in results)
    held = sorted(h for _count, hs in results for h in hs)
    figures: dict[str, Any] = {"per_second": done / seconds}
    if held:
        figures["lock_held_ms_p50"] = 1000 * statistics.median(held)
        figures["lock_held_ms_p95"] = 1000 * held[int(0.95 * (len(held) - 1))]
    return figures


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govreq.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from govreq.audit.selectors import audit_chain_verify

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    _history(args.n[0])
    made = time.perf_counter() - began
    out: dict[str, Any] = {"n": args.n[0], "database": connection.vendor, "history_s": made}
    floor_s, size = _floor()
    out.update(floor_s=floor_s, bytes=size)
    for name, workers in (("verify_1", 1), ("verify_2", 2)):
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            result = audit_chain_verify(workers=workers)
            times.append(time.perf_counter() - began)
            assert result.ok and result.count == args.n[0], result
        out[name] = min(times)
    if args.writers and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_state (id integer PRIMARY KEY, n integer)")
            cursor.execute(
                "INSERT INTO bench_state SELECT g, 0 FROM generate_series(1, %s) g",
                [50 * max(args.writers)],
            )
        for writers in args.writers:
            for mode in MODES:
                out[f"writers_{writers}_{mode}"] = _state_changes(writers, args.seconds, mode)
        from govreq.audit.models import AuditEvent, UnchainedEvent

        result = audit_chain_verify(workers=2)
        assert result.ok, result
        # Every event the writers recorded, in either mode, is in the chain and none waits.
        assert not UnchainedEvent.objects.exists()
        assert result.count == AuditEvent.objects.count()
    print(json.dumps(out))


def _postgres_admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql)


def _run_child(args: argparse.Namespace, n: int, database_url: str | None) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"govreq-bench-audit-{n}-"))
    env = {**os.environ, "GOVREQ_DATA_DIR": str(data_dir), "GOVREQ_ENV": "development"}
    env.pop("DATABASE_URL", None)
    name = None
    if database_url:
        name = f"govreq_bench_audit_{n}_{os.getpid()}"
        parts = urlsplit(database_url)
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        _postgres_admin(database_url, f'CREATE DATABASE "{name}"')
    command = [sys.executable, __file__, "--child", "--n", str(n), "--repeat", str(args.repeat)]
    command += ["--seconds", str(args.seconds)]
    for writers in args.writers or []:
        command += ["--writers", str(writers)]
    try:
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            if name and database_url:
                _postgres_admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _print(figures: dict[str, Any]) -> None:
    n, size = figures["n"], figures["bytes"]
    print(
        f"\n{figures['database']}, {n:,} events ({size / 1e6:.0f} MB hashed; history made in "
        f"{figures['history_s']:.0f} s)"
    )
    print(f"  {'':28} {'seconds':>8} {'events/s':>11} {'MB/s':>8} {'of floor':>9}")
    floor = figures["floor_s"]
    for label, key in (
        ("hashlib SHA-256 (floor)", "floor_s"),
        ("audit verify, 1 process", "verify_1"),
        ("audit verify, 2 processes", "verify_2"),
    ):
        seconds = figures[key]
        print(
            f"  {label:28} {seconds:8.2f} {n / seconds:11,.0f} {size / seconds / 1e6:8.1f} "
            f"{100 * floor / seconds:8.1f}%"
        )
    writers = sorted({int(k.split("_")[1]) for k in figures if k.startswith("writers_")})
    if writers:
        print(
            f"  {'state changes/s':28} {'no audit':>9} {'in-transaction':>15} {'lock p50/p95':>13}"
            f" {'after-commit':>13} {'lock p50/p95':>13}"
        )
        for count in writers:
            bare = figures[f"writers_{count}_none"]
            line = f"  {f'{count} writer(s)':28} {bare['per_second']:9.0f}"
            for mode in ("in-transaction", "after-commit"):
                run = figures[f"writers_{count}_{mode}"]
                lock = (
                    f"{run['lock_held_ms_p50']:.2f}/{run['lock_held_ms_p95']:.2f} ms"
                    if "lock_held_ms_p50" in run
                    else "-"
                )
                line += f" {run['per_second']:15.0f} {lock:>13}"
            print(line)
        first, last = writers[0], writers[-1]
        if first != last:
            for mode in ("none", "in-transaction", "after-commit"):
                ratio = (
                    figures[f"writers_{last}_{mode}"]["per_second"]
                    / figures[f"writers_{first}_{mode}"]["per_second"]
                )
                print(f"  {last} writers / {first} ({mode}): {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append")
    parser.add_argument("--database-url", help="a PostgreSQL server (a database is made per run)")
    parser.add_argument("--writers", type=int, action="append", help="PostgreSQL only")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.n = args.n or [100_000]
    if args.child:
        child(args)
        return
    for n in args.n:
        _print(_run_child(args, n, None))
        if args.database_url and not args.sqlite_only:
            _print(_run_child(args, n, args.database_url))


if __name__ == "__main__":
    main()
