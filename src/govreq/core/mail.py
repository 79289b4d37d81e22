"""E-mail leaves through the worker, only once the transaction that caused it commits.

``mail_on_commit`` enqueues, in the caller's transaction, a task carrying the message sealed
(Fernet, with a key derived from the configured secret): the tasks table never holds a sign-in
code or any other mail body in clear, and a web request never waits for an SMTP server.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError
from django.tasks import task
from django.utils import timezone

from govreq.core.models import SentMail
from govreq.core.queue import enqueue_with_transaction, seal, unseal


def mail_on_commit(*, subject: str, body: str, to: list[str], key: str = "") -> None:
    """Send this message from the worker once the current transaction commits (at once when
    there is no transaction). A ``key`` makes it once-only: a retried task whose message was
    sent already sends nothing, and the key is the message's Message-ID, so that even the
    duplicate a crash in the instant after the SMTP server accepted it could cause is one a
    mail client recognises.

    The task is queued in the caller's transaction (``core.queue``): it commits with the change
    that caused the mail (a notice marked sent) or not at all. Queued after the commit, as it
    once was, a crash or a database error between the two lost the mail for good."""
    sealed = seal({"subject": subject, "body": body, "to": to, "key": key})
    enqueue_with_transaction(deliver_mail, sealed=sealed)


def message_id(key: str) -> str:
    """The same for the same key on this installation, unlike any other installation's."""
    tag = hmac.new(settings.SECRET_KEY.encode("utf-8"), key.encode("utf-8"), "sha256")
    return f"<{key}.{tag.hexdigest()[:16]}@{settings.MAIL_ID_DOMAIN}>"


@task()
def deliver_mail(sealed: str) -> str:
    message = unseal(sealed)
    if message is None:
        return "unreadable: the secret key changed since it was queued"
    key = message.get("key", "")
    if key and SentMail.objects.filter(key=key).exists():
        return f"{key} was sent already"
    headers = {"Message-ID": message_id(key)} if key else None
    EmailMessage(message["subject"], message["body"], None, message["to"], headers=headers).send()
    if key:
        # Recorded the moment the server accepted it (its own autocommit), before the task
        # itself is marked done.
        try:
            SentMail.objects.create(key=key, sent_at=timezone.now())
        except IntegrityError:
            return f"{key} was sent by another run too"
    return f"sent to {len(message['to'])}"
