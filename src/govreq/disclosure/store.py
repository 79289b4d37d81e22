"""Where sealed package members live: the ``packages`` storage (``core.storage``: a private
folder of the data directory, or an object store shared by every machine).

A member is written to a private temporary file and stored only when complete (a rename on
disk, one PUT to an object store), so a reader never sees half a file; only sealed (encrypted)
bytes are ever stored.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from govreq.core.storage import delete_tree, packages_storage, save_file


def _name(name: str) -> str:
    if name.startswith("/") or ".." in PurePosixPath(name).parts:
        raise ValueError(f"not a package member name: {name!r}")
    return name


@contextmanager
def member_writer(name: str) -> Iterator[IO[bytes]]:
    """A file to write one sealed member into; it appears under ``name`` only when complete."""
    name = _name(name)
    with tempfile.TemporaryDirectory(prefix="govreq-member-") as folder:
        temp = Path(folder) / "member"
        with temp.open("wb") as handle:
            yield handle
        save_file(packages_storage(), name, temp)


def member_open(name: str) -> IO[bytes]:
    return packages_storage().open(_name(name), "rb")


def member_exists(name: str) -> bool:
    return packages_storage().exists(_name(name))


def members_delete(prefix: str) -> int:
    """Delete every member under ``prefix`` (one production's package); returns bytes freed."""
    return delete_tree(packages_storage(), _name(prefix))
