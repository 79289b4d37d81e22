"""Where files live: Django's storage API, so that several machines can share them.

Two named storages (``settings.STORAGES``): ``documents`` (legal documents, content-addressed)
and ``packages`` (sealed production packages and preservation snapshots; only ever encrypted
bytes). By default both are folders of the data directory, laid out as before, so existing data
still reads (``LocalStorage``); with ``GOVREQ_STORAGE_URL=s3://bucket/prefix`` both are one S3
compatible bucket (django-storages), under ``prefix/documents/`` and ``prefix/packages/``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage, storages


class LocalStorage(FileSystemStorage):
    """A folder of the data directory named by a setting (``DOCUMENTS_DIR``, read at each use,
    so a changed setting is followed), private (0700 folders, 0600 files), and written
    atomically: a file is written under a temporary name and renamed into place, so a reader
    never sees half a file and rewriting a name replaces it whole."""

    def __init__(self, *, setting: str, **kwargs: Any) -> None:
        self.setting = setting
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(getattr(settings, self.setting))

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name  # names are chosen by govreq (a digest, a package member): overwrite

    def _save(self, name: str, content: Any) -> str:
        final = Path(self.path(name))
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp_name = tempfile.mkstemp(dir=final.parent, prefix=".writing-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk)
            os.chmod(temp_name, 0o600)
            os.replace(temp_name, final)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return name


def documents_storage() -> Storage:
    return storages["documents"]


def packages_storage() -> Storage:
    return storages["packages"]


def save_file(storage: Storage, name: str, path: Path) -> None:
    """Store the local file at ``path`` under ``name`` (replacing what was there)."""
    with path.open("rb") as handle:
        saved = storage.save(name, File(handle, name=name))
    if saved != name:  # a storage that renames instead of replacing would lose the name
        raise RuntimeError(f"storage kept {name!r} as {saved!r}")


def delete_tree(storage: Storage, prefix: str) -> int:
    """Delete every file under ``prefix``; return the bytes freed."""
    freed = 0
    try:
        folders, files = storage.listdir(prefix)
    except FileNotFoundError:
        return 0
    for folder in folders:
        freed += delete_tree(storage, f"{prefix}/{folder}")
    for file_name in files:
        name = f"{prefix}/{file_name}"
        freed += storage.size(name)
        storage.delete(name)
    if isinstance(storage, FileSystemStorage):
        Path(storage.path(prefix)).rmdir()  # local: the emptied folder too
    return freed


def s3_storages(url: str, environ: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The ``documents`` and ``packages`` storages for ``s3://bucket/prefix`` (settings)."""
    rest = url.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError("GOVREQ_STORAGE_URL must be s3://bucket or s3://bucket/prefix")
    prefix = prefix.strip("/")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": environ.get("GOVREQ_S3_ENDPOINT_URL") or environ.get("AWS_ENDPOINT_URL"),
        "region_name": environ.get("GOVREQ_S3_REGION") or environ.get("AWS_DEFAULT_REGION"),
        "access_key": environ.get("AWS_ACCESS_KEY_ID"),
        "secret_key": environ.get("AWS_SECRET_ACCESS_KEY"),
        "file_overwrite": True,
        "default_acl": None,  # private: the bucket's own policy; never public-read
        "querystring_auth": True,
        "addressing_style": environ.get("GOVREQ_S3_ADDRESSING_STYLE") or None,
        "object_parameters": {},
    }
    encryption = environ.get("GOVREQ_S3_SERVER_SIDE_ENCRYPTION", "AES256")
    if encryption and encryption.lower() != "none":
        options["object_parameters"]["ServerSideEncryption"] = encryption
        if encryption == "aws:kms" and environ.get("GOVREQ_S3_KMS_KEY_ID"):
            options["object_parameters"]["SSEKMSKeyId"] = environ["GOVREQ_S3_KMS_KEY_ID"]
    backend = "storages.backends.s3.S3Storage"
    return {
        name: {
            "BACKEND": backend,
            "OPTIONS": {**options, "location": f"{prefix}/{name}" if prefix else name},
        }
        for name in ("documents", "packages")
    }
