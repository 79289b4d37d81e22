"""Appending to the audit log. Called by every service inside its own transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from django.db import connection, transaction

from govreq.audit.chain import GENESIS_HASH, event_hash
from govreq.audit.models import AuditEvent
from govreq.core.actors import Actor

# Arbitrary constant naming the PostgreSQL advisory lock that serialises chain appends.
_CHAIN_LOCK_KEY = 0x67_6F_76_72_65_71


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"audit data must be JSON-like, not {type(value).__name__}")


def audit_chain_lock() -> None:
    """Hold the chain's append lock until the current transaction ends.

    On PostgreSQL a transaction-scoped advisory lock; on SQLite the connection runs transactions
    in IMMEDIATE mode, so the database's write lock is already held.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    data: dict[str, Any] | None = None,
    now: datetime,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    audit_chain_lock()
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    payload = _jsonable(data or {})
    fields = {
        "seq": seq,
        "occurred_at": now,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "data": payload,
    }
    digest = event_hash(prev_hash=prev_hash, **fields)
    return AuditEvent.objects.create(prev_hash=prev_hash, hash=digest, **fields)


@transaction.atomic
def audit_record_standalone(**kwargs: Any) -> AuditEvent:
    """For events that are not part of another change (sign-ins, downloads)."""
    return audit_record(**kwargs)
