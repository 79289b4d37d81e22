"""Development e-mail: printed to the console and written to files under the data directory.

The files are meant to be read by a person looking for a sign-in code: each message is stored
decoded, as UTF-8 text (a Chinese message would otherwise be base64 on disk), one file per
message."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.message import EmailMessage

_lock = threading.Lock()
_count = 0


def readable(message: EmailMessage) -> str:
    """The message as a person reads it: its headers decoded, then its body as text."""
    mime = message.message()
    lines = []
    for name in ("Subject", "From", "To", "Date", "Message-ID"):
        value = mime.get(name)
        if value is not None:
            lines.append(f"{name}: {make_header(decode_header(str(value)))}")
    lines.append("Content-Type: text/plain; charset=utf-8")
    return "\n".join(lines) + "\n\n" + message.body.rstrip("\n") + "\n"


class ConsoleAndFileBackend(BaseEmailBackend):
    def __init__(self, *, alias: str | None = None, file_path: str = "", **kwargs: Any) -> None:
        super().__init__(alias=alias, **kwargs)
        self.path = Path(file_path or str(settings.MAIL_DIR))
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        self.console = ConsoleBackend(alias=alias)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        global _count
        self.console.send_messages(email_messages)
        sent = 0
        for message in email_messages:
            with _lock:
                _count += 1
                name = f"{datetime.now(UTC):%Y%m%d-%H%M%S-%f}-{os.getpid()}-{_count}.eml.txt"
            (self.path / name).write_text(readable(message), encoding="utf-8")
            sent += 1
        return sent
