"""E-mail leaves through the worker, only once the transaction that caused it commits.

``mail_on_commit`` enqueues a task carrying the message sealed (Fernet, with a key derived from
the configured secret): the tasks table never holds a sign-in code or any other mail body in
clear, and a web request never waits for an SMTP server, so a known officer's sign-in answers
as fast as an unknown address's.
"""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"govreq", info=b"govreq queued mail v1"
    ).derive(settings.SECRET_KEY.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def mail_on_commit(*, subject: str, body: str, to: list[str]) -> None:
    """Send this message from the worker once the current transaction commits (at once when
    there is no transaction)."""
    sealed = (
        _fernet()
        .encrypt(json.dumps({"subject": subject, "body": body, "to": to}).encode("utf-8"))
        .decode("ascii")
    )
    transaction.on_commit(lambda: deliver_mail.enqueue(sealed=sealed))


@task()
def deliver_mail(sealed: str) -> str:
    try:
        message = json.loads(_fernet().decrypt(sealed.encode("ascii")))
    except InvalidToken:
        return "unreadable: the secret key changed since it was queued"
    EmailMessage(message["subject"], message["body"], None, message["to"]).send()
    return f"sent to {len(message['to'])}"
