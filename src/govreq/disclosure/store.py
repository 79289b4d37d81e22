"""Where sealed package members live: a private directory under the data directory.

Members are written to a temporary name and renamed into place, so a reader never sees half a
file; only sealed (encrypted) bytes are ever written here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.conf import settings


def _root() -> Path:
    root = Path(settings.PACKAGES_DIR)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def _path(name: str) -> Path:
    if name.startswith("/") or ".." in Path(name).parts:
        raise ValueError(f"not a package member name: {name!r}")
    return _root() / name


@contextmanager
def member_writer(name: str) -> Iterator[IO[bytes]]:
    """A file to write one sealed member into; it appears under ``name`` only when complete."""
    final = _path(name)
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp_name = tempfile.mkstemp(dir=final.parent, prefix=".writing-")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(temp_name, 0o600)
        os.replace(temp_name, final)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def member_open(name: str) -> IO[bytes]:
    return _path(name).open("rb")


def member_exists(name: str) -> bool:
    return _path(name).exists()


def members_delete(prefix: str) -> int:
    """Delete every member under ``prefix`` (one production's package); returns bytes freed."""
    folder = _path(prefix)
    if not folder.exists():
        return 0
    freed = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    shutil.rmtree(folder)
    return freed
