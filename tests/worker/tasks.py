"""Tasks for the worker tests: each run leaves a file named after its key, once (idempotent,
like govreq's own tasks), so a test can count how often each ran and that none was lost."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.tasks import task


@task()
def leave_mark(folder: str, key: int, seconds: float = 0.0) -> str:
    time.sleep(seconds)
    mark = Path(folder) / f"{key}.done"
    try:
        fd = os.open(mark, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return "already done"
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{os.getpid()}\n")
    with (Path(folder) / "runs.log").open("a") as log:
        log.write(f"{key} {os.getpid()}\n")
    return "done"


@task()
def fail_always(reason: str) -> str:
    raise RuntimeError(reason)
