"""Queueing work for the worker: sealed payloads, queued with the transaction that caused them.

Task arguments are stored in the database's tasks table until a worker runs them, so anything
personal or secret in them (a mail's body, a sign-in address) is sealed first (Fernet, with a
key derived from the configured secret). And a task is queued *in* the caller's transaction when
the queue is a table of the same database: it commits with the change that caused it, or not at
all, so no crash between a commit and the queueing can lose it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.tasks import Task
from django_tasks_db.backend import DatabaseBackend


def _fernet() -> Fernet:
    # The derivation of the first sealed payloads (queued mail): what is queued stays readable.
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"govreq", info=b"govreq queued mail v1"
    ).derive(settings.SECRET_KEY.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal(payload: dict[str, Any]) -> str:
    """``payload`` as JSON, encrypted and authenticated, as text for a task's arguments."""
    return _fernet().encrypt(json.dumps(payload).encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> dict[str, Any] | None:
    """The payload ``seal`` made, or None if it cannot be read (the secret key changed)."""
    try:
        payload = json.loads(_fernet().decrypt(sealed.encode("ascii")))
    except InvalidToken:
        return None
    return payload if isinstance(payload, dict) else None


def enqueue_with_transaction(task: Task[Any, Any], **kwargs: Any) -> None:
    """Queue ``task`` so that it runs only if the current transaction commits (at once when
    there is none): in the transaction itself when the queue is a table of this database,
    otherwise (the tests' immediate backend, which would run it at once) when it commits."""
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(**kwargs))
