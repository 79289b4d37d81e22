"""Development e-mail: printed to the console and written to files under the data directory."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.core.mail.message import EmailMessage


class ConsoleAndFileBackend(BaseEmailBackend):
    def __init__(self, *, alias: str | None = None, file_path: str = "", **kwargs: Any) -> None:
        super().__init__(alias=alias, **kwargs)
        path = file_path or str(settings.MAIL_DIR)
        os.makedirs(path, mode=0o700, exist_ok=True)
        self.console = ConsoleBackend(alias=alias)
        self.file = FileBackend(alias=alias, file_path=path)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.console.send_messages(email_messages)
        return self.file.send_messages(email_messages)
