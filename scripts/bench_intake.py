#!/usr/bin/env python3
"""Benchmark: intake at scale. Starts `govreq serve` on 127.0.0.1 with a fresh data directory and
a fresh database (SQLite, and PostgreSQL on 127.0.0.1:5432 as user postgres: a new database per
run, dropped afterwards), registers CLIENTS verified agencies with one officer and one API token
each, then runs CLIENTS concurrent clients for SECONDS submitting requests over the officer API
(``POST /api/v1/requests``, each with its own Idempotency-Key), and, in the same run and on the
same server, for SECONDS against a bare Django endpoint that inserts one row per request
(``POST /bench/insert``, in scripts/bench_intake_urls.py: the same settings, middleware,
gunicorn configuration and database). Prints throughput, p50/p95/p99 and errors side by side
with their ratio, then checks that every acknowledged request is in the database exactly once.

    .venv/bin/python scripts/bench_intake.py [--seconds 60] [--clients 50] [--keep-alive] \
        [--databases sqlite,postgresql] [--workers 2] [--postgres postgres://postgres@127.0.0.1:5432]

Exits 1 when a check fails (a missing or duplicated acknowledged request). Everything runs on
127.0.0.1 and stops within SECONDS x 2 plus a minute or two of setup per database.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
SITE = "bench_intake_site"
JURISDICTIONS = ("HK", "US", "GB", "DE", "FR", "JP", "CA", "AU", "NL", "SE")
REQUEST_TIMEOUT = 60.0


# --- setup and verification, run inside the server's environment -----------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SITE)
    sys.path.insert(0, str(SCRIPTS))
    import django

    django.setup()


def setup_database(clients: int) -> list[str]:
    """Migrate, create the bare endpoint's table, and register one verified agency with one
    officer and one API token per client; returns the tokens."""
    _django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from govreq.agencies.services import agency_add, officer_add
    from govreq.api.tokens import api_token_issue
    from govreq.core.actors import Actor
    from govreq.lifecycle.rechecking import agency_verify

    call_command("migrate", interactive=False, verbosity=0)
    serial = "BIGSERIAL" if connection.vendor == "postgresql" else "INTEGER"
    with connection.cursor() as cursor:
        cursor.execute(settings.BENCH_CREATE_TABLE.format(serial=serial))
    system = Actor.system("bench")
    tokens = []
    for index in range(clients):
        now = timezone.now()
        agency = agency_add(
            actor=system,
            name=f"Bench Agency {index}",
            jurisdiction_code=JURISDICTIONS[index % len(JURISDICTIONS)],
            kind="POLICE",
            domains=[f"agency{index}.bench.example"],
            now=now,
        )
        agency = agency_verify(actor=system, agency=agency, method="call-back", now=now)
        officer = officer_add(
            actor=system,
            agency=agency,
            email=f"officer@agency{index}.bench.example",
            name=f"Officer {index}",
            now=now,
        )
        tokens.append(api_token_issue(actor=system, officer=officer, now=now).secret)
    return tokens


def verify_database(acknowledged: dict[str, Any]) -> dict[str, Any]:
    """Every acknowledged submission present exactly once, under the reference it was given."""
    _django()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count

    from govreq.intake.models import IdempotencyKey, LegalRequest

    problems: list[str] = []
    govreq = acknowledged["govreq"]  # key -> [public id, reference]
    by_key = {
        key: (str(public_id), reference)
        for key, public_id, reference in IdempotencyKey.objects.filter(
            key__in=list(govreq)
        ).values_list("key", "request__public_id", "request__reference")
    }
    for key, (public_id, reference) in govreq.items():
        if by_key.get(key) != (public_id, reference):
            problems.append(f"govreq {key}: acknowledged {reference}, stored {by_key.get(key)}")
    references = [reference for _, reference in govreq.values()]
    stored = dict(
        LegalRequest.objects.filter(reference__in=references)
        .values("reference")
        .annotate(n=Count("id"))
        .values_list("reference", "n")
    )
    for reference in references:
        if stored.get(reference) != 1:
            problems.append(f"govreq {reference}: stored {stored.get(reference, 0)} times")
    if len(set(references)) != len(references):
        problems.append("govreq: one reference was acknowledged twice")
    total_requests = LegalRequest.objects.count()

    bare = acknowledged["bare"]  # key -> id
    rows: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT request_key, id FROM {settings.BENCH_TABLE}")  # noqa: S608
        for key, row_id in cursor.fetchall():
            rows.setdefault(key, []).append(row_id)
    for key, row_id in bare.items():
        if rows.get(key) != [row_id]:
            problems.append(f"bare {key}: acknowledged id {row_id}, stored {rows.get(key)}")
    return {
        "problems": problems,
        "govreq_acknowledged": len(govreq),
        "bare_acknowledged": len(bare),
        "govreq_stored": total_requests,
        "bare_stored": sum(len(v) for v in rows.values()),
    }


# --- the load ----------------------------------------------------------------------------------


def submission(index: int) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "kind": "COURT_ORDER",
        "legal_basis": "Cap. 455 Organized and Serious Crimes Ordinance, s.4",
        "issuing_authority": "Magistrate, Kowloon City",
        "agency_case_number": f"BENCH-{index}",
        "offence_category": "FRAUD",
        "narrative": "Investment scam advertised through the account.",
        "data_categories": ["BASIC_SUBSCRIBER", "IP_LOGS"],
        "data_range": {
            "start": (today - timedelta(days=60)).isoformat(),
            "end": (today - timedelta(days=1)).isoformat(),
        },
        "deadline_at": (datetime.now(UTC) + timedelta(days=14)).isoformat(),
        "targets": [
            {"type": "USERNAME", "value": f"@bench_{index}"},
            {"type": "EMAIL", "value": f"bench.{index}@example.com"},
            {"type": "PHONE", "value": "+852 9123 4567"},
            {"type": "IP_ADDRESS", "value": "2001:db8::1"},
        ],
    }


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # of acknowledged requests, seconds
    errors: dict[str, int] = field(default_factory=dict)
    acknowledged: dict[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def _client(
    *,
    port: int,
    path: str,
    token: str | None,
    name: str,
    deadline: float,
    outcome: Outcome,
    lock: threading.Lock,
    keep_alive: bool,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    number = 0
    while time.monotonic() < deadline:
        number += 1
        key = f"{name}-{number}-{secrets.token_hex(4)}"
        body = json.dumps(submission(number)).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if not keep_alive:
            # As an agency's script with urllib does: a connection per request.
            headers["Connection"] = "close"
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        started = time.monotonic()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
            with lock:
                outcome.error(type(error).__name__)
            continue
        took = time.monotonic() - started
        with lock:
            if status != 201:
                outcome.error(f"HTTP {status}")
                continue
            answer = json.loads(data)
            outcome.latencies.append(took)
            outcome.acknowledged[key] = (
                [answer["id"], answer["reference"]] if "reference" in answer else answer["id"]
            )
    connection.close()


def load(
    *,
    port: int,
    path: str,
    tokens: list[str | None],
    name: str,
    seconds: float,
    keep_alive: bool = False,
) -> Outcome:
    outcome, lock = Outcome(), threading.Lock()
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=_client,
            kwargs={
                "port": port,
                "path": path,
                "token": token,
                "name": f"{name}-{index}",
                "deadline": deadline,
                "outcome": outcome,
                "lock": lock,
                "keep_alive": keep_alive,
            },
            daemon=True,
        )
        for index, token in enumerate(tokens)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 10)
    outcome.elapsed = time.monotonic() - started
    return outcome


# --- one database ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "GOVREQ_ENV", "DJANGO_SETTINGS_MODULE")
    }
    env["GOVREQ_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = SITE
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SCRIPTS), env.get("PYTHONPATH")]))
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _helper(env: dict[str, str], command: str, payload: Any) -> Any:
    result = subprocess.run(
        [sys.executable, __file__, command],
        input=json.dumps(payload),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{command} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"govreq serve exited:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("govreq serve did not answer /healthz within 120 s")


def _postgres(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (gunicorn, its workers, `govreq worker`)."""
    for sig, wait in ((signal.SIGTERM, 60), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"govreq-bench-{kind}-"))
    database = f"govreq_bench_{os.getpid()}_{secrets.token_hex(3)}"
    database_url = f"{args.postgres}/{database}" if kind == "postgresql" else None
    if database_url:
        _postgres(args.postgres, f'CREATE DATABASE "{database}"')
    try:
        return _measure(kind, args, _env(data_dir, database_url), data_dir)
    finally:
        if database_url:
            _postgres(args.postgres, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def _measure(
    kind: str, args: argparse.Namespace, env: dict[str, str], data_dir: Path
) -> dict[str, Any]:
    print(f"[{kind}] setting up {args.clients} agencies, officers and tokens...", flush=True)
    tokens: list[str | None] = list(_helper(env, "_setup", {"clients": args.clients}))
    port = _free_port()
    log = data_dir / "serve.log"
    with log.open("wb") as handle:
        command = [sys.executable, "-m", "govreq", "serve", "--port", str(port)]
        command += ["--workers", str(args.workers)]
        process = subprocess.Popen(
            command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(port, process, log)
        # A short warm-up of both endpoints (every worker imports and connects), not measured.
        warm_govreq = load(
            port=port,
            path="/api/v1/requests",
            tokens=tokens[:8],
            name="warm-g",
            seconds=2,
            keep_alive=args.keep_alive,
        )
        warm_bare = load(
            port=port,
            path="/bench/insert",
            tokens=[None] * 8,
            name="warm-b",
            seconds=2,
            keep_alive=args.keep_alive,
        )
        print(f"[{kind}] govreq: {args.clients} clients for {args.seconds} s...", flush=True)
        govreq = load(
            port=port,
            path="/api/v1/requests",
            tokens=tokens,
            name="g",
            seconds=args.seconds,
            keep_alive=args.keep_alive,
        )
        print(f"[{kind}] bare endpoint: {args.clients} clients for {args.seconds} s...", flush=True)
        bare = load(
            port=port,
            path="/bench/insert",
            tokens=[None] * args.clients,
            name="b",
            seconds=args.seconds,
            keep_alive=args.keep_alive,
        )
    finally:
        _stop(process)
    # The warm-up's acknowledgements are checked too: what is stored is exactly what was
    # acknowledged, nothing lost and nothing extra.
    checked = _helper(
        env,
        "_verify",
        {
            "govreq": {**warm_govreq.acknowledged, **govreq.acknowledged},
            "bare": {**warm_bare.acknowledged, **bare.acknowledged},
        },
    )
    return {"kind": kind, "govreq": govreq, "bare": bare, "checked": checked}


# --- report ------------------------------------------------------------------------------------


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _figures(outcome: Outcome) -> dict[str, float]:
    return {
        "throughput": len(outcome.latencies) / outcome.elapsed if outcome.elapsed else 0.0,
        "p50": _percentile(outcome.latencies, 0.50) * 1000,
        "p95": _percentile(outcome.latencies, 0.95) * 1000,
        "p99": _percentile(outcome.latencies, 0.99) * 1000,
        "mean": (statistics.fmean(outcome.latencies) * 1000) if outcome.latencies else 0.0,
        "acknowledged": float(len(outcome.latencies)),
        "errors": float(sum(outcome.errors.values())),
    }


def report(result: dict[str, Any], args: argparse.Namespace) -> bool:
    govreq, bare = _figures(result["govreq"]), _figures(result["bare"])
    rows = (
        ("throughput (req/s)", "throughput", "{:.1f}"),
        ("p50 (ms)", "p50", "{:.0f}"),
        ("p95 (ms)", "p95", "{:.0f}"),
        ("p99 (ms)", "p99", "{:.0f}"),
        ("mean (ms)", "mean", "{:.0f}"),
        ("acknowledged", "acknowledged", "{:.0f}"),
        ("errors", "errors", "{:.0f}"),
    )
    print()
    print(
        f"== {result['kind']}: {args.clients} clients, {args.seconds} s each, "
        f"{args.workers} gunicorn workers x 4 threads, "
        + ("one connection per client" if args.keep_alive else "a connection per request")
    )
    print(f"{'':22}{'govreq':>12}{'bare':>12}{'govreq/bare':>14}")
    for label, key, fmt in rows:
        ratio = govreq[key] / bare[key] if bare[key] else float("nan")
        print(f"{label:22}{fmt.format(govreq[key]):>12}{fmt.format(bare[key]):>12}{ratio:>14.2f}")
    for name, outcome in (("govreq", result["govreq"]), ("bare", result["bare"])):
        if outcome.errors:
            print(f"  {name} errors: {outcome.errors}")
    checked = result["checked"]
    problems = checked["problems"]
    print(
        f"  check (warm-up included): {checked['govreq_acknowledged']} govreq acknowledgements, "
        f"{checked['govreq_stored']} requests stored; {checked['bare_acknowledged']} bare "
        f"acknowledgements, {checked['bare_stored']} rows stored; "
        + ("every acknowledged request present exactly once" if not problems else "PROBLEMS:")
    )
    for problem in problems[:20]:
        print(f"    {problem}")
    aims = (
        govreq["throughput"] >= bare["throughput"] / 2,
        govreq["p99"] < 1000,
        govreq["errors"] == 0,
        not problems,
    )
    print(
        "  aims (>= half the bare throughput, p99 < 1 s, no errors, all present once): "
        + ", ".join("met" if aim else "NOT met" for aim in aims)
    )
    return not problems


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("_setup", "_verify"):
        payload = json.loads(sys.stdin.read())
        if sys.argv[1] == "_setup":
            print(json.dumps(setup_database(int(payload["clients"]))))
        else:
            print(json.dumps(verify_database(payload)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GOVREQ_WORKERS", "2")))
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="each client keeps one connection open (default: a connection per request); "
        "gunicorn then binds each client to one worker for the whole run",
    )
    args = parser.parse_args()
    ok = True
    for kind in args.databases.split(","):
        ok = report(run_database(kind.strip(), args), args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
