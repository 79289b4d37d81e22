"""Settings for scripts/bench_intake.py only: govreq's own settings, with the URLs of
bench_intake_urls (govreq's, plus one bare endpoint). Never used outside the benchmark
(``DJANGO_SETTINGS_MODULE=bench_intake_site`` with ``scripts/`` on the path)."""

from __future__ import annotations

from govreq.settings import *  # noqa: F403 - the very settings govreq serves with

ROOT_URLCONF = "bench_intake_urls"
BENCH_TABLE = "bench_row"
BENCH_CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {BENCH_TABLE} (id {{serial}} PRIMARY KEY, "
    "request_key VARCHAR(200) NOT NULL UNIQUE, body TEXT NOT NULL, created_at VARCHAR(40) NOT NULL)"
)
