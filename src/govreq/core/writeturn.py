"""A fair queue for SQLite's one writer.

SQLite lets one transaction write at a time; govreq opens every transaction IMMEDIATE, so a
writer that finds the database locked waits in SQLite's busy handler, which sleeps and retries
with growing pauses (up to 100 ms at a time) and serves whoever happens to retry at the right
moment: under load a few writers wait seconds while others pass. ``write_turn()`` puts writers
that use it in a queue the operating system keeps instead: an exclusive ``flock`` on a file
beside the database, taken before the transaction begins and released after it ends, which wakes
the next waiter as soon as it is free. Writers that do not use it still meet the busy handler,
and never wait on the queue, so nothing can deadlock. On PostgreSQL (row locks, many writers at
once) and inside an open transaction it does nothing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection


@contextmanager
def write_turn() -> Iterator[None]:
    name = str(connection.settings_dict.get("NAME") or "")
    if (
        connection.vendor != "sqlite"
        or connection.in_atomic_block
        or not name
        or name == ":memory:"
        or name.startswith("file:")
    ):
        yield
        return
    with Path(f"{name}.write-turn").open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
