"""Reading the text of a legal document: PDF text layers, plain text, and OCR when installed.

Pure of the database: bytes or a file in, an ``Extraction`` out. Every document is hostile until
read, so reading is bounded: at most ``MAX_PAGES`` pages and ``MAX_CHARS`` characters are kept,
and ``extract_guarded`` reads in a child process with a CPU-time, memory and wall-clock limit,
so a decompression bomb or a PDF that loops forever costs one recorded failure, never the worker.
A broken PDF is a recorded failure too (``Extraction.failed``), not an exception.

OCR is optional: scanned images, and PDFs without a text layer, are read with Tesseract only
when the ``tesseract`` binary and its English and Traditional Chinese data (``eng``,
``chi_tra``) are found at run time (Debian: ``tesseract-ocr tesseract-ocr-chi-tra``; PDFs also
need ``pdftoppm`` from ``poppler-utils``). Without them such a document has no readable text,
and the result says OCR is unavailable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

MAX_PAGES = 50
MAX_CHARS = 200_000
TIME_LIMIT_SECONDS = 60
# OCR draws and reads up to OCR_MAX_PAGES pages, each in its own (time-limited) process.
OCR_TIME_LIMIT_SECONDS = 300
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
OCR_LANGUAGES = ("eng", "chi_tra")
OCR_MAX_PAGES = 10

PDF, OCR, PLAIN, NONE = "PDF", "OCR", "PLAIN", "NONE"
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff"})


@dataclass(frozen=True, kw_only=True)
class Extraction:
    """What could be read from one document.

    ``method`` is how the text was read (PDF text layer, OCR, plain text) or NONE; ``note`` says
    why there is no text, or that it was cut short; ``failed`` marks a document that could not
    be read at all (broken, too slow, too big), as opposed to one that simply has no text.
    """

    method: str
    text: str = ""
    pages: int = 0
    truncated: bool = False
    failed: bool = False
    note: str = ""

    @property
    def readable(self) -> bool:
        return bool(self.text.strip())


@cache
def ocr_available() -> bool:
    """Is Tesseract installed with every language in ``OCR_LANGUAGES``? Asked once a process."""
    binary = shutil.which("tesseract")
    if binary is None:
        return False
    try:
        listed = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    languages = set((listed.stdout + listed.stderr).split())
    return all(language in languages for language in OCR_LANGUAGES)


OCR_UNAVAILABLE = (
    "OCR is not available on this server (Tesseract with English and Traditional Chinese "
    "language data is not installed)"
)


# Control characters a broken font can map text to: none can be stored (PostgreSQL refuses NUL).
_CONTROLS = dict.fromkeys([*(c for c in range(32) if chr(c) not in "\t\n\f\r"), 0x7F])


def _cap(text: str, pages: int, method: str, note: str = "") -> Extraction:
    text = text.translate(_CONTROLS)
    truncated = len(text) > MAX_CHARS
    if truncated:
        text = text[:MAX_CHARS]
        note = note or f"text cut at {MAX_CHARS:,} characters"
    return Extraction(method=method, text=text, pages=pages, truncated=truncated, note=note)


def extract_plain(data: bytes) -> Extraction:
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    return _cap(text, 1, PLAIN)


def extract_pdf(data: bytes, *, deadline: float | None = None) -> Extraction:
    """The text layer of a PDF, page by page, up to ``MAX_PAGES`` pages, ``MAX_CHARS``
    characters and the ``deadline`` (a ``time.monotonic()`` value)."""
    # pypdf is imported here, not at the top: the child process of extract_guarded and the
    # worker need it, the web processes that only import this module's names do not.
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return Extraction(method=NONE, failed=True, note="the PDF is encrypted")
        total = len(reader.pages)
        parts: list[str] = []
        size = 0
        note = ""
        for index, page in enumerate(reader.pages):
            if index >= MAX_PAGES:
                note = f"only the first {MAX_PAGES} of {total} pages were read"
                break
            if deadline is not None and time.monotonic() > deadline:
                note = f"reading stopped after {index} pages: it took too long"
                break
            page_text = page.extract_text() or ""
            parts.append(page_text)
            size += len(page_text)
            if size > MAX_CHARS:
                break
    except Exception as error:  # a broken file makes pypdf raise almost anything (PyPdfError...)
        return Extraction(
            method=NONE, failed=True, note=f"the PDF could not be read ({type(error).__name__})"
        )
    text = "\n\f".join(parts)
    if not text.strip():
        if ocr_available():
            return _ocr_pdf(data, pages=total)
        return Extraction(
            method=NONE, pages=total, note=f"the PDF has no text layer; {OCR_UNAVAILABLE}"
        )
    return _cap(text, total, PDF, note)


def _tesseract(image: Path) -> str:
    binary = shutil.which("tesseract") or "tesseract"
    done = subprocess.run(
        [binary, str(image), "stdout", "-l", "+".join(OCR_LANGUAGES)],
        capture_output=True,
        timeout=TIME_LIMIT_SECONDS,
        check=True,
    )
    return done.stdout.decode("utf-8", errors="replace")


def extract_image(data: bytes) -> Extraction:
    if not ocr_available():
        return Extraction(method=NONE, pages=1, note=f"a scanned image; {OCR_UNAVAILABLE}")
    with tempfile.TemporaryDirectory(prefix="govreq-ocr-") as folder:
        image = Path(folder) / "page"
        image.write_bytes(data)
        try:
            text = _tesseract(image)
        except (OSError, subprocess.SubprocessError) as error:
            return Extraction(method=NONE, failed=True, note=f"OCR failed ({type(error).__name__})")
    if not text.strip():
        return Extraction(method=NONE, pages=1, note="OCR found no text in the image")
    return _cap(text, 1, OCR)


def _ocr_pdf(data: bytes, *, pages: int) -> Extraction:
    """A PDF without a text layer: its first pages drawn as images (``pdftoppm``), then OCR."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return Extraction(
            method=NONE,
            pages=pages,
            note="the PDF has no text layer, and pdftoppm (poppler-utils) is not installed "
            "to draw its pages for OCR",
        )
    with tempfile.TemporaryDirectory(prefix="govreq-ocr-") as folder:
        source = Path(folder) / "document.pdf"
        source.write_bytes(data)
        try:
            subprocess.run(
                [
                    pdftoppm,
                    "-r",
                    "200",
                    "-l",
                    str(OCR_MAX_PAGES),
                    "-png",
                    str(source),
                    str(Path(folder) / "page"),
                ],
                capture_output=True,
                timeout=TIME_LIMIT_SECONDS,
                check=True,
            )
            text = "\n\f".join(
                _tesseract(image) for image in sorted(Path(folder).glob("page*.png"))
            )
        except (OSError, subprocess.SubprocessError) as error:
            return Extraction(
                method=NONE, pages=pages, failed=True, note=f"OCR failed ({type(error).__name__})"
            )
    if not text.strip():
        return Extraction(method=NONE, pages=pages, note="OCR found no text in the PDF")
    note = f"OCR of the first {OCR_MAX_PAGES} pages" if pages > OCR_MAX_PAGES else ""
    return _cap(text, pages, OCR, note)


def extract(data: bytes, media_type: str, *, deadline: float | None = None) -> Extraction:
    """Read the text of a document of ``media_type`` (as decided by ``intake.documents``)."""
    if media_type == "text/plain":
        return extract_plain(data)
    if media_type == "application/pdf":
        return extract_pdf(data, deadline=deadline)
    if media_type in IMAGE_TYPES:
        return extract_image(data)
    return Extraction(method=NONE, note=f"documents of type {media_type} are not read")


def _limit_this_process() -> None:
    """The child's own limits, set before it reads anything (no preexec_fn: the parent may
    have threads)."""
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (TIME_LIMIT_SECONDS, TIME_LIMIT_SECONDS + 5))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def extract_guarded(path: Path, media_type: str, *, timeout: float | None = None) -> Extraction:
    """``extract`` of the file at ``path`` in a child process limited in CPU time, memory and
    wall-clock time. Plain text is read here (it needs no parser)."""
    if media_type == "text/plain":
        return extract_plain(path.read_bytes())
    if timeout is None:
        timeout = OCR_TIME_LIMIT_SECONDS if ocr_available() else TIME_LIMIT_SECONDS
    command = [sys.executable, "-m", "govreq.intake.reading", str(path), media_type]
    passed = {"PATH", "LANG", "LC_ALL", "TESSDATA_PREFIX", "OMP_THREAD_LIMIT"}
    env = {key: value for key, value in os.environ.items() if key in passed}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return Extraction(
            method=NONE, failed=True, note=f"reading took longer than {timeout:g} seconds"
        )
    if done.returncode != 0:
        return Extraction(
            method=NONE,
            failed=True,
            note="the document could not be read (the reader stopped: too large or too complex)",
        )
    try:
        return Extraction(**json.loads(done.stdout))
    except (ValueError, TypeError):
        return Extraction(method=NONE, failed=True, note="the reader's answer was not understood")


def main(argv: list[str]) -> int:
    """``python -m govreq.intake.reading FILE MEDIA_TYPE``: the Extraction as JSON on stdout."""
    path, media_type = Path(argv[0]), argv[1]
    _limit_this_process()
    deadline = time.monotonic() + TIME_LIMIT_SECONDS - 5
    extraction = extract(path.read_bytes(), media_type, deadline=deadline)
    sys.stdout.write(json.dumps(asdict(extraction)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
