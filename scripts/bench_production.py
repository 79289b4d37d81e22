#!/usr/bin/env python3
"""Benchmark: build a production of ACCOUNTS x RECORDS from the demo platform through govreq's
`sql` data source (CSV and JSON files, hashed, sealed with AES-256-GCM, signed manifest), next
to the same SELECTs run raw with sqlite3 and written to CSV files without govreq.

    .venv/bin/python scripts/bench_production.py [--accounts 10] [--records 100000] [--runs 3]

Prints the median time of each, records per second, their ratio, and the peak of Python memory
allocated while collecting (tracemalloc), for the full size and for the same accounts with a
tenth of the records: memory that does not grow with the number of records shows as two similar
peaks.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def build_platform(path: Path, accounts: int, records: int) -> None:
    """The demo platform with ``accounts`` accounts of ``records`` IP-log rows each."""
    sys.path.insert(0, str(ROOT / "src"))
    from govreq.demo import platform as demo_platform

    connection = demo_platform.connect(path)
    rng = random.Random(1)  # noqa: S311 - sample data, not secrets
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for index in range(accounts):
        account_id = demo_platform.account_add(
            connection,
            demo_platform.DemoAccount(username=f"bench_{index}", email=f"b{index}@mail.example"),
            rng=rng,
            records=4,
        )
        connection.executemany(
            "INSERT INTO logins (account_id, logged_in_at, ip_address, user_agent) "
            "VALUES (?, ?, ?, ?)",
            (
                (
                    account_id,
                    (start + timedelta(seconds=30 * n)).isoformat(timespec="seconds"),
                    f"198.51.{n % 250}.{n % 200 + 1}",
                    demo_platform.AGENTS[n % 3],
                )
                for n in range(records)
            ),
        )
    connection.commit()
    connection.close()


def raw_run(database: Path, out_dir: Path, accounts: int) -> tuple[float, int]:
    """The same SELECT per account, written to one CSV per account with csv.writer."""
    from govreq.disclosure.sources import data_source_from_file  # noqa: F401 - same import cost

    query = (
        "SELECT account_id, logged_in_at, ip_address, user_agent FROM logins "
        "WHERE account_id = :account AND logged_in_at >= :since AND logged_in_at < :until "
        "ORDER BY logged_in_at, id"
    )
    began = time.perf_counter()
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    ids = [r[0] for r in connection.execute("SELECT id FROM accounts ORDER BY id")][:accounts]
    rows = 0
    for account in ids:
        with (out_dir / f"{account}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            cursor = connection.execute(
                query,
                {
                    "account": account,
                    "since": "1900-01-01T00:00:00+00:00",
                    "until": "9999-12-31T00:00:00+00:00",
                },
            )
            writer.writerow([d[0] for d in cursor.description])
            for row in cursor:
                writer.writerow(row)
                rows += 1
    connection.close()
    return time.perf_counter() - began, rows


def _seal_chunk(aead: Any, text: Any, parts: list[str], digests: list[Any], sinks: Any) -> None:
    """Hash and seal the rows buffered as CSV text and JSON parts, then empty the buffers."""
    for data, digest, sink in zip(
        (text.getvalue().encode(), "".join(parts).encode()), digests, sinks, strict=True
    ):
        digest.update(data)
        sink.write(aead.encrypt(os.urandom(12), data, None))
    text.seek(0)
    text.truncate()
    parts.clear()


def raw_full_run(database: Path, out_dir: Path, accounts: int) -> tuple[float, int]:
    """The same work as a package, hand-written without govreq: the SELECT per account, each row
    written as CSV and as a JSON array, both hashed (SHA-256) and sealed with AES-256-GCM in
    chunks of 512 rows. The floor govreq's own collection is measured against."""
    import hashlib
    import io
    import json

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    query = (
        "SELECT account_id, logged_in_at, ip_address, user_agent FROM logins "
        "WHERE account_id = :account AND logged_in_at >= :since AND logged_in_at < :until "
        "ORDER BY logged_in_at, id"
    )
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    began = time.perf_counter()
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    ids = [r[0] for r in connection.execute("SELECT id FROM accounts ORDER BY id")][:accounts]
    rows = 0
    for account in ids:
        with (
            (out_dir / f"{account}.csv.sealed").open("wb") as csv_out,
            (out_dir / f"{account}.json.sealed").open("wb") as json_out,
        ):
            digests = [hashlib.sha256(), hashlib.sha256()]
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\r\n")
            parts: list[str] = []
            cursor = connection.execute(
                query,
                {
                    "account": account,
                    "since": "1900-01-01T00:00:00+00:00",
                    "until": "9999-12-31T00:00:00+00:00",
                },
            )
            writer.writerow([d[0] for d in cursor.description])

            for row in cursor:
                writer.writerow(row)
                parts.append(encode(row) + ",\n")
                rows += 1
                if rows % 512 == 0:
                    _seal_chunk(aead, text, parts, digests, (csv_out, json_out))
            _seal_chunk(aead, text, parts, digests, (csv_out, json_out))
    connection.close()
    return time.perf_counter() - began, rows


def govreq_run(config: Path, accounts: int, memory: bool) -> tuple[float, int, int]:
    """Build the package through govreq (no database writes: the build phase of a collection)."""
    from django.conf import settings
    from django.utils import timezone

    from govreq.disclosure import services
    from govreq.disclosure.models import Production
    from govreq.disclosure.sources import data_source_from_file

    production = Production.objects.select_related("request__agency", "decision").get(
        request__reference=f"BENCH-{accounts}"
    )
    source = data_source_from_file(config)
    settings.PACKAGES_DIR = Path(tempfile.mkdtemp(prefix="govreq-bench-packages-"))
    if memory:
        tracemalloc.start()
    began = time.perf_counter()
    collected = services.production_build(
        production=production, source=source, source_name="sql", now=timezone.now()
    )
    elapsed = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1] if memory else 0
    if memory:
        tracemalloc.stop()
    source.close()  # type: ignore[attr-defined]
    return elapsed, collected.records, peak


def prepare_requests(accounts_sizes: list[int]) -> None:
    """One approved FULL decision per size, naming that many platform accounts (rows written
    directly: the benchmark measures collection, not review)."""
    from django.utils import timezone

    from govreq.agencies.models import Agency, AgencyDomain, Officer
    from govreq.disclosure.models import Production
    from govreq.intake.models import LegalRequest, Target
    from govreq.review.models import Decision

    now = timezone.now()
    agency = Agency.objects.create(
        name="Bench Police",
        jurisdiction_id="US",
        kind="POLICE",
        status="VERIFIED",
        created_at=now,
        verified_at=now,
        verification_method="benchmark",
    )
    AgencyDomain.objects.create(agency=agency, domain="bench.example")
    officer = Officer.objects.create(
        agency=agency, email="o@bench.example", name="Officer", created_at=now
    )
    for size in accounts_sizes:
        request = LegalRequest.objects.create(
            reference=f"BENCH-{size}",
            agency=agency,
            officer=officer,
            channel="API",
            jurisdiction_id="US",
            received_at=now,
            respond_by=now,
            created_at=now,
            updated_at=now,
            kind="COURT_ORDER",
            offence_category="FRAUD",
            narrative="benchmark",
            data_categories=["IP_LOGS"],
            status="APPROVED",
        )
        Target.objects.bulk_create(
            Target(request=request, type="USERNAME", value=f"bench_{n}", raw_value=f"bench_{n}")
            for n in range(size)
        )
        decision = Decision.objects.create(
            request=request, outcome="FULL", rationale="benchmark", decided_at=now
        )
        Production.objects.create(
            request=request,
            decision=decision,
            purpose="DISCLOSURE",
            status="COLLECTING",
            created_at=now,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="govreq-bench-production-"))
    os.environ["GOVREQ_DATA_DIR"] = str(work / "data")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govreq.settings")
    database = work / "data" / "demo-platform.sqlite3"
    print(f"building the demo platform: {args.accounts} accounts x {args.records:,} records ...")
    began = time.perf_counter()
    build_platform(database, args.accounts, args.records)
    print(f"  built in {time.perf_counter() - began:.1f} s ({database.stat().st_size >> 20} MB)")

    import django

    django.setup()
    from django.core.management import call_command

    from govreq.demo import platform as demo_platform

    call_command("migrate", verbosity=0)
    config = work / "data" / "data-source.toml"
    demo_platform.write_source_config(work / "data", config)
    prepare_requests([args.accounts])

    raw_times, full_times, ours = [], [], []
    for _ in range(args.runs):  # interleaved, so both see the same machine load
        out = Path(tempfile.mkdtemp(prefix="govreq-bench-raw-"))
        raw_elapsed, raw_rows = raw_run(database, out, args.accounts)
        raw_times.append(raw_elapsed)
        full_times.append(raw_full_run(database, out, args.accounts)[0])
        elapsed, records, _ = govreq_run(config, args.accounts, memory=False)
        ours.append(elapsed)
    _, _, peak_full = govreq_run(config, args.accounts, memory=True)
    # The same accounts with a tenth of the records each: memory must not follow the records.
    tenth = work / "tenth"
    build_platform(tenth / "demo-platform.sqlite3", args.accounts, max(1, args.records // 10))
    demo_platform.write_source_config(tenth, tenth / "data-source.toml")
    _, small_records, peak_small = govreq_run(
        tenth / "data-source.toml", args.accounts, memory=True
    )
    raw_median, our_median = statistics.median(raw_times), statistics.median(ours)
    full_median = statistics.median(full_times)
    print()
    print(
        f"{'':34}{'govreq':>10}{'raw: same work':>16}{'ratio':>7}{'raw: one CSV':>14}{'ratio':>7}"
    )
    print(f"{'records':34}{records:>10,}{raw_rows:>16,}{'':7}{raw_rows:>14,}")
    print(
        f"{'time (median of ' + str(args.runs) + ')':34}{our_median:>9.2f}s{full_median:>15.2f}s"
        f"{our_median / full_median:>6.2f}x{raw_median:>13.2f}s{our_median / raw_median:>6.2f}x"
    )
    print(
        f"{'records per second':34}{records / our_median:>10,.0f}"
        f"{raw_rows / full_median:>16,.0f}{'':7}{raw_rows / raw_median:>14,.0f}"
    )
    print(f"{'peak Python memory, ' + f'{records:,} records':34}{peak_full / 2**20:>10.1f}MB")
    print(
        f"{'peak Python memory, ' + f'{small_records:,} records':34}{peak_small / 2**20:>10.1f}MB"
    )
    print("\ngovreq writes CSV and JSON for every record, hashes both, seals them (AES-256-GCM),")
    print("and checks each record's account, category and time against the decision. 'Same work'")
    print("does the writing, hashing and sealing by hand; 'one CSV' only writes one plain CSV.")
    print("Aim: at most 2x the raw time, memory flat in the records.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
