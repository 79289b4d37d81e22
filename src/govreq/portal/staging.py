"""A request being prepared in the portal, between the form and "send".

The checked submission lives in the session (server-side); its documents are staged on disk
under ``DATA_DIR/staging/<draft id>/`` (directory 0700, files 0600) and removed once the request
is sent, discarded, or abandoned for a day.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, TypedDict

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from govreq.intake.documents import claimed_media_type, safe_file_name, sniff_media_type

SESSION_DRAFT = "govreq_portal_draft"
SESSION_SENT = "govreq_portal_sent"
STALE_AFTER = timedelta(days=1)
MAX_DOCUMENTS = 20
_DRAFT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_FILE_ID = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 64 * 1024


class StagedDocument(TypedDict):
    file: str  # the staged file's random name
    name: str  # the original name, cleaned for display
    size: int
    sha256: str
    media_type: str  # what the bytes are
    claimed: str  # what the browser said they are ("" for nothing)


class Draft(TypedDict):
    id: str
    data: dict[str, list[str]]  # the form as typed, to refill it
    payload: dict[str, Any] | None  # the checked RequestSubmission, None until the form is valid
    target_lines: list[int]  # the box line of each target, to point errors at the right line
    documents: list[StagedDocument]


def staging_root() -> Path:
    return Path(settings.DATA_DIR) / "staging"


def _draft_dir(draft_id: str) -> Path:
    if not _DRAFT_ID.match(draft_id):
        raise ValueError("not a draft id")
    return staging_root() / draft_id


def staged_path(draft_id: str, file_id: str) -> Path:
    if not _FILE_ID.match(file_id):
        raise ValueError("not a staged file id")
    return _draft_dir(draft_id) / file_id


def draft_new(session: SessionBase) -> Draft:
    """A fresh draft, replacing (and cleaning up) any earlier one in this session."""
    draft_discard(session)
    draft: Draft = {
        "id": secrets.token_urlsafe(18),
        "data": {},
        "payload": None,
        "target_lines": [],
        "documents": [],
    }
    draft_save(session, draft)
    return draft


def draft_get(session: SessionBase) -> Draft | None:
    draft = session.get(SESSION_DRAFT)
    if not isinstance(draft, dict) or not _DRAFT_ID.match(str(draft.get("id", ""))):
        return None
    return draft  # type: ignore[return-value]


def draft_save(session: SessionBase, draft: Draft) -> None:
    session[SESSION_DRAFT] = draft


def draft_discard(session: SessionBase) -> None:
    """Forget the draft and delete its staged files."""
    draft = draft_get(session)
    session.pop(SESSION_DRAFT, None)
    if draft is not None:
        shutil.rmtree(_draft_dir(draft["id"]), ignore_errors=True)


def document_problem(upload: UploadedFile) -> str | None:
    """Why the API would refuse this file (type by its bytes, claimed type, size), or None.

    The same rules as ``intake.services.document_attach``, which enforces them again on send;
    checking here lets the form show the problem next to the file field at once.
    """
    limit = settings.DOCUMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        return _("is larger than the %(megabytes)d MB limit") % {"megabytes": limit // 2**20}
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not head:
        return _("is empty")

    def read_all() -> bytes:
        upload.seek(0)
        data = upload.read(limit + 1)
        upload.seek(0)
        return data

    actual = sniff_media_type(head, read_all)
    if actual is None:
        return _("is not a PDF, PNG, JPEG, TIFF or plain-text (UTF-8) document")
    claimed = claimed_media_type(upload.content_type)
    if claimed is not None and claimed != actual:
        return _("is declared as %(claimed)s but its content is %(actual)s") % {
            "claimed": claimed,
            "actual": actual,
        }
    return None


def stage_upload(draft: Draft, upload: UploadedFile) -> StagedDocument | None:
    """Copy the upload into the draft's staging directory; None if the same bytes are staged."""
    directory = _draft_dir(draft["id"])
    staging_root().mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.mkdir(exist_ok=True, mode=0o700)
    file_id = secrets.token_hex(16)
    path = staged_path(draft["id"], file_id)
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for chunk in upload.chunks(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            handle.write(chunk)
    sha256 = digest.hexdigest()
    if any(document["sha256"] == sha256 for document in draft["documents"]):
        path.unlink(missing_ok=True)
        return None
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    staged: StagedDocument = {
        "file": file_id,
        "name": safe_file_name(upload.name or "document"),
        "size": size,
        "sha256": sha256,
        "media_type": sniff_media_type(head, path.read_bytes) or "",
        "claimed": upload.content_type or "",
    }
    draft["documents"].append(staged)
    return staged


def unstage(draft: Draft, file_ids: list[str]) -> None:
    """Remove the named documents from the draft and from disk."""
    for document in [d for d in draft["documents"] if d["file"] in file_ids]:
        staged_path(draft["id"], document["file"]).unlink(missing_ok=True)
        draft["documents"].remove(document)


def staging_sweep() -> None:
    """Delete staging directories untouched for a day (drafts that were never sent)."""
    root = staging_root()
    if not root.is_dir():
        return
    cutoff = time.time() - STALE_AFTER.total_seconds()
    for directory in root.iterdir():
        try:
            if directory.is_dir() and directory.stat().st_mtime < cutoff:
                shutil.rmtree(directory, ignore_errors=True)
        except FileNotFoundError:
            continue  # removed meanwhile by its own session
