"""Deciding what a file is from its bytes, never from its name or its claimed type."""

from __future__ import annotations

from collections.abc import Callable

ALLOWED_MEDIA_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "text/plain",
)
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
# Control characters a plain-text legal document may contain: tab, newline, form feed, return.
_TEXT_CONTROLS_ALLOWED = frozenset(b"\t\n\x0c\r")
_TEXT_CONTROLS_FORBIDDEN = bytes(c for c in range(32) if c not in _TEXT_CONTROLS_ALLOWED) + b"\x7f"


def sniff_media_type(head: bytes, read_all: Callable[[], bytes] | None = None) -> str | None:
    """The media type the bytes really are, among the allowed ones, or None.

    ``head`` is the start of the file; for text the whole file must be valid UTF-8 without control
    characters, so ``read_all`` (returning all bytes) is called only when no binary signature
    matched.
    """
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    data = read_all() if read_all is not None else head
    if looks_like_text(data):
        return "text/plain"
    return None


def looks_like_text(data: bytes) -> bool:
    if not data:
        return False
    body = data.removeprefix(b"\xef\xbb\xbf")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    # bytes.translate runs in C: no Python-level loop over a 25 MB file.
    return len(body.translate(None, _TEXT_CONTROLS_FORBIDDEN)) == len(body)


def claimed_media_type(content_type: str | None) -> str | None:
    """The type a client claims for an upload, without parameters; None when it claims nothing."""
    if not content_type:
        return None
    essence = content_type.split(";", 1)[0].strip().lower()
    if essence in {"", "application/octet-stream"}:
        return None
    if essence in {"image/jpg", "image/pjpeg"}:
        return "image/jpeg"
    return essence


def safe_file_name(name: str) -> str:
    """The original name kept for display: no path, no control characters, at most 255 chars."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>')
    return (cleaned.strip() or "document")[:255]


# The extensions a download's name may end with for each type; the first is added when the
# original name ends with none of them (a .html or .svg file accepted as text must not open as
# what its name says once saved: it downloads as "name.html.txt").
MEDIA_EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/tiff": (".tif", ".tiff"),
    "text/plain": (".txt",),
}


def download_name(name: str, media_type: str) -> str:
    """The name a document is downloaded under: its original name, ending in an extension of
    the type it was accepted as (``report.svg`` accepted as text -> ``report.svg.txt``)."""
    extensions = MEDIA_EXTENSIONS.get(media_type, (".bin",))
    base = safe_file_name(name)
    if base.lower().endswith(extensions):
        return base
    return base[: 255 - len(extensions[0])] + extensions[0]


def download_content_type(media_type: str) -> str:
    """The Content-Type a document is served with (text is UTF-8: ``looks_like_text``)."""
    return f"{media_type}; charset=utf-8" if media_type == "text/plain" else media_type
