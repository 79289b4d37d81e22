"""Legal documents outside the database, content-addressed by SHA-256, in the ``documents``
storage (``core.storage``: the data directory's ``documents/`` folder, or an object store)."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from govreq.core.storage import documents_storage, save_file


def document_name(sha256: str) -> str:
    """A document's name in the storage: the layout of the earlier on-disk store."""
    return f"{sha256[:2]}/{sha256}"


def store_document(chunks: Iterable[bytes]) -> tuple[str, int]:
    """Write the bytes to the document store; return (sha256, size).

    Spooled to a private temporary file while the digest is taken, then stored under the digest
    in one piece (a rename on disk, one PUT to an object store), so a reader never sees half a
    document; identical bytes are stored once.
    """
    storage = documents_storage()
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryDirectory(prefix="govreq-upload-") as folder:
        temp = Path(folder) / "document"
        with temp.open("wb") as handle:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                handle.write(chunk)
        sha256 = digest.hexdigest()
        name = document_name(sha256)
        if not storage.exists(name):
            save_file(storage, name, temp)
    return sha256, size


def document_read(sha256: str) -> IO[bytes]:
    """The stored document's bytes, to read."""
    return documents_storage().open(document_name(sha256), "rb")
