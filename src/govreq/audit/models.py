from __future__ import annotations

from typing import Any

from django.db import models

from govreq.audit.fields import CanonicalJSONField


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit log.

    ``hash = SHA-256(prev_hash + canonical JSON of the event)``; ``seq`` is gapless from 1, so an
    edited, deleted, inserted or reordered event breaks the chain (see ``audit.chain``).
    """

    seq = models.PositiveBigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor_kind = models.CharField(max_length=10)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, db_index=True)
    data = CanonicalJSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(actor_kind__in=["USER", "OFFICER", "SYSTEM"]),
                name="audit_event_actor_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("audit events are append-only")


class UnchainedEvent(models.Model):
    """An audit event committed with its change and waiting to join the chain.

    Only with ``GOVREQ_AUDIT_CHAINING=after-commit`` (PostgreSQL): the change's transaction writes
    the event here, without the chain lock every writer would otherwise share to its commit; right
    after the commit it is chained in ``id`` order (``audit.services.audit_chain_pending``) and
    deleted from here, in one transaction, by the writer itself or by any worker (every second),
    so one that was committed is chained even if its writer dies straight after (docs/audit.md,
    "Sequencing"). The same columns as ``AuditEvent`` up to its place in the chain.
    """

    occurred_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=10)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    data = CanonicalJSONField(default=dict)
    # The canonical bytes its hash will cover, up to its sequence number
    # (``audit.chain.unsequenced_body``), computed when it was recorded: chaining it only adds the
    # previous hash and its number.
    body = models.BinaryField()
    # The real time it was written (``occurred_at`` is the change's own moment, which a
    # back-dated import may set in the past): how long it has waited.
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"unchained {self.action} {self.object_type}:{self.object_id}"


class AuditCheckpoint(models.Model):
    """A signed statement of the chain head: "at ``made_at`` event #``seq`` had hash ``hash``".

    Published (``/transparency/audit-checkpoints.json``) so that outside parties keep copies: a
    copy made before the log was truncated or re-hashed no longer matches it (docs/audit.md).
    Checkpoints are not themselves audit events: recording one would move the head it signs.
    Like events, they are never changed or deleted.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    made_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    public_key = models.CharField(max_length=64, help_text="Base64 of the raw Ed25519 key.")
    signature = models.CharField(max_length=128, help_text="Base64 Ed25519 signature.")

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} {self.hash[:12]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("audit checkpoints are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("audit checkpoints are append-only")
