#!/usr/bin/env python3
"""Benchmark: does the portal's sign-in answer as fast for a known officer's address as for an
unknown one? (It should: the code's e-mail leaves through the worker, so the answer never waits
for an SMTP server, and an address's existence must not show in the time taken.)

    .venv/bin/python scripts/bench_sign_in.py [--n 200] [--warmup 20] [--timeout 180] [--profile]

Starts `govreq serve --no-worker` on 127.0.0.1 (a free port) over a fresh SQLite database in a
temporary GOVREQ_DATA_DIR with one verified agency and enough officers, then POSTs the sign-in
form (`/portal/sign-in`, with its CSRF token) for a known officer's address and for an unknown
address on the same domain, in interleaved pairs (which goes first is random), over one
keep-alive connection, and prints the median, p90 and mean of each, their difference, and a
bootstrap interval of the difference of the medians. All traffic goes to 127.0.0.1.

The rate limits (5 codes per address and 20 per client an hour) are the service's own and are
not changed: each known address is used at most 5 times (the script makes enough officers),
each unknown address once, and the server is told to trust 127.0.0.1 as a proxy
(GOVREQ_TRUSTED_PROXIES, for this server only) so that each request can name its own client
address in X-Forwarded-For. With --profile it also profiles the service call itself in-process
(cProfile), known against unknown.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "bench-police.example.org"
CODES_PER_ADDRESS = 5  # portal.services.CODES_PER_ADDRESS.limit
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- The child: prepare the database (and optionally profile), inside Django ---------------------


def prepare(officers: int) -> None:
    """Migrate the fresh database and add a verified agency with ``officers`` officers."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govreq.settings")
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from govreq.agencies.services import agency_add, officer_add
    from govreq.core.actors import Actor
    from govreq.lifecycle.rechecking import agency_verify

    call_command("migrate", verbosity=0)
    system = Actor.system("bench")
    agency = agency_add(
        actor=system,
        name="Bench Police",
        jurisdiction_code="GB",
        kind="POLICE",
        domains=[DOMAIN],
        now=timezone.now(),
    )
    agency = agency_verify(actor=system, agency=agency, method="bench", now=timezone.now())
    for index in range(officers):
        officer_add(
            actor=system,
            agency=agency,
            email=f"officer{index}@{DOMAIN}",
            name=f"Officer {index}",
            now=timezone.now(),
        )


def profile(calls: int) -> None:
    """cProfile of ``login_code_request`` itself, ``calls`` times for known addresses and
    ``calls`` times for unknown ones (distinct clients, so no limit is reached)."""
    import cProfile
    import pstats

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govreq.settings")
    django.setup()
    from django.utils import timezone

    from govreq.agencies.models import Officer
    from govreq.portal.services import login_code_request

    known = list(Officer.objects.values_list("email", flat=True))
    later = timezone.now() + timedelta(hours=2)  # past the HTTP run's per-address limits
    for kind in ("known", "unknown"):
        profiler = cProfile.Profile()
        started = time.perf_counter()
        for index in range(calls):
            # Each profiled address is asked for once more than the HTTP run did, at most.
            email = known[index % len(known)] if kind == "known" else f"ghost{index}@{DOMAIN}"
            now = later + timedelta(hours=2 * (index // len(known)))
            profiler.enable()
            login_code_request(
                email=email, client_ip=f"10.9.{index // 250}.{index % 250}", language="en", now=now
            )
            profiler.disable()
        elapsed = (time.perf_counter() - started) / calls
        print(f"\n--- {kind}: {elapsed * 1000:.2f} ms per call (in-process) ---")
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(r"govreq|django/db/backends|cryptography", 14)


# --- The parent: serve, measure, report ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def bootstrap_median_difference(
    known: list[float], unknown: list[float], rounds: int = 2000
) -> tuple[float, float]:
    """A 95% interval of median(known) - median(unknown), resampling each side."""
    rng = random.Random(20201)  # noqa: S311 - resampling, not secrets
    differences = sorted(
        statistics.median(rng.choices(known, k=len(known)))
        - statistics.median(rng.choices(unknown, k=len(unknown)))
        for _ in range(rounds)
    )
    return differences[int(0.025 * rounds)], differences[int(0.975 * rounds) - 1]


class Portal:
    """One keep-alive connection to the portal, with its CSRF cookie and token."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request("GET", "/portal/sign-in")
        response = self.connection.getresponse()
        page = response.read().decode()
        if response.status != 200:
            raise SystemExit(f"GET /portal/sign-in answered {response.status}")
        cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
        csrf = [c.split(";", 1)[0] for c in cookies if c.startswith("csrftoken=")]
        token = CSRF_INPUT.search(page)
        if not csrf or token is None:
            raise SystemExit("no CSRF cookie or token on the sign-in page")
        self.cookie = csrf[0]
        self.token = token.group(1)

    def ask_code(self, email: str, client: str) -> float:
        """POST the sign-in form; seconds until the whole answer was read."""
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": self.token, "email": email})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": self.cookie,
            "X-Forwarded-For": client,
        }
        started = time.perf_counter()
        self.connection.request("POST", "/portal/sign-in", body=body, headers=headers)
        response = self.connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 302 or response.getheader("Location") != "/portal/sign-in/code":
            raise SystemExit(f"POST /portal/sign-in for {email} answered {response.status}")
        return elapsed


def wait_until_serving(port: int, server: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"govreq serve exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/portal/sign-in")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("govreq serve did not answer in time")


def report(known: list[float], unknown: list[float]) -> None:
    def row(name: str, values: list[float]) -> str:
        return (
            f"{name:<10}{statistics.median(values) * 1000:>9.2f}"
            f"{percentile(values, 0.9) * 1000:>9.2f}{statistics.fmean(values) * 1000:>9.2f}"
            f"{min(values) * 1000:>9.2f}{len(values):>7}"
        )

    print(f"{'':<10}{'median':>9}{'p90':>9}{'mean':>9}{'min':>9}{'n':>7}   (ms)")
    print(row("known", known))
    print(row("unknown", unknown))
    median_gap = statistics.median(known) - statistics.median(unknown)
    p90_gap = percentile(known, 0.9) - percentile(unknown, 0.9)
    low, high = bootstrap_median_difference(known, unknown)
    relative = 100 * median_gap / statistics.median(unknown)
    print(
        f"{'known-unk':<10}{median_gap * 1000:>+9.2f}{p90_gap * 1000:>+9.2f}"
        f"{(statistics.fmean(known) - statistics.fmean(unknown)) * 1000:>+9.2f}"
        f"   median {relative:+.1f}%, 95% bootstrap interval "
        f"[{low * 1000:+.2f}, {high * 1000:+.2f}] ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="Measured requests of each kind.")
    parser.add_argument("--warmup", type=int, default=20, help="Unmeasured pairs first.")
    parser.add_argument("--timeout", type=float, default=180.0, help="Stop after this long (s).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="Also profile in-process.")
    parser.add_argument(
        "--worker",
        action="store_true",
        help="Serve with its background worker (by default --no-worker: the request alone).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the data directory.")
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)  # child: N officers
    parser.add_argument("--profile-child", type=int, help=argparse.SUPPRESS)  # child: N calls
    args = parser.parse_args()
    if args.prepare is not None:
        prepare(args.prepare)
        return
    if args.profile_child is not None:
        profile(args.profile_child)
        return

    deadline = time.monotonic() + args.timeout
    pairs = args.warmup + args.n
    officers = math.ceil(pairs / CODES_PER_ADDRESS)
    data_dir = Path(tempfile.mkdtemp(prefix="govreq-bench-sign-in-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "GOVREQ_SMTP_HOST", "GOVREQ_ENV"}
    }
    env |= {
        "GOVREQ_DATA_DIR": str(data_dir),
        "GOVREQ_TRUSTED_PROXIES": "127.0.0.1",  # this server only: one client address each
        "GOVREQ_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT / "src"),
    }
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [sys.executable, __file__, "--prepare", str(officers)], env=env, check=True, cwd=ROOT
        )
        port = free_port()
        log = (data_dir / "serve.log").open("wb")
        serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        server = subprocess.Popen(
            [sys.executable, "-m", "govreq", *serve, *([] if args.worker else ["--no-worker"])],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until_serving(port, server, min(deadline, time.monotonic() + 60))
        portal = Portal(port)
        rng = random.Random(args.seed)  # noqa: S311 - the order of the pairs, not secrets
        known: list[float] = []
        unknown: list[float] = []
        for index in range(pairs):
            if time.monotonic() > deadline:
                print(f"time is up after {index} pairs", file=sys.stderr)
                break
            asks = [
                ("known", f"officer{index % officers}@{DOMAIN}"),
                ("unknown", f"nobody{index}@{DOMAIN}"),
            ]
            rng.shuffle(asks)
            for turn, (kind, email) in enumerate(asks):
                client = f"10.{index // 250 % 250}.{index % 250}.{turn + 1}"
                elapsed = portal.ask_code(email, client)
                if index >= args.warmup:
                    (known if kind == "known" else unknown).append(elapsed)
        if not known or not unknown:
            raise SystemExit("nothing measured")
        print(
            f"POST /portal/sign-in (govreq serve{'' if args.worker else ' --no-worker'}, "
            f"1 gunicorn worker, SQLite), {len(known)} pairs, known and unknown interleaved:"
        )
        report(known, unknown)
        if args.profile:
            subprocess.run(
                [sys.executable, __file__, "--profile-child", "100"], env=env, check=True, cwd=ROOT
            )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if args.keep:
            print(f"kept: {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
