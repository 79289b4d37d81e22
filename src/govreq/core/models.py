"""The ledger of keyed mail sent: a message with a key (a user notice, say) leaves once even if
the worker that sent it dies before it could record its task as done."""

from __future__ import annotations

from django.db import models


class SentMail(models.Model):
    key = models.CharField(max_length=100, unique=True)
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key
