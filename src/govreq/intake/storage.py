"""Legal documents on disk, outside the database, content-addressed by SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings


def document_path(sha256: str) -> Path:
    return Path(settings.DOCUMENTS_DIR) / sha256[:2] / sha256


def store_document(chunks: Iterable[bytes]) -> tuple[str, int]:
    """Write the bytes to the document store; return (sha256, size).

    Written to a temporary file first and renamed into place, so a reader never sees half a file;
    identical bytes are stored once.
    """
    root = Path(settings.DOCUMENTS_DIR)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256()
    size = 0
    fd, temp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                handle.write(chunk)
        sha256 = digest.hexdigest()
        final = document_path(sha256)
        final.parent.mkdir(exist_ok=True, mode=0o700)
        os.chmod(temp_name, 0o600)
        os.replace(temp_name, final)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return sha256, size
