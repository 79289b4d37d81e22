"""The hash chain: how an event is hashed, and verification of the whole log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from govreq.core.canonical import canonical_json, sha256_hex

GENESIS_HASH = "0" * 64


def event_hash(
    *,
    prev_hash: str,
    seq: int,
    occurred_at: datetime,
    actor_kind: str,
    actor_id: str,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    data: Any,
) -> str:
    body = {
        "seq": seq,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": [actor_kind, actor_id, actor_label],
        "action": action,
        "object": [object_type, object_id],
        "data": data,
    }
    return sha256_hex(prev_hash.encode("ascii") + canonical_json(body))


@dataclass(frozen=True, kw_only=True)
class ChainVerification:
    ok: bool
    count: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def verify_events(
    rows: Any, *, after_seq: int = 0, after_hash: str = GENESIS_HASH
) -> ChainVerification:
    """Walk events in ``seq`` order (any iterable of AuditEvent-like rows) and check the chain.

    By default from the genesis; ``after_seq``/``after_hash`` start the walk after an event
    already trusted (a checkpoint), so ``rows`` are the events after it and ``count`` counts them.
    """
    expected_seq = after_seq + 1
    prev = after_hash
    count = 0
    for row in rows:
        if row.seq != expected_seq:
            problem = (
                f"event #{expected_seq} is missing (next is #{row.seq})"
                if row.seq > expected_seq
                else f"event #{row.seq} is out of order"
            )
            return ChainVerification(
                ok=False, count=count, head_hash=prev, first_bad_seq=expected_seq, problem=problem
            )
        if row.prev_hash != prev:
            return ChainVerification(
                ok=False,
                count=count,
                head_hash=prev,
                first_bad_seq=row.seq,
                problem=f"event #{row.seq} does not link to the event before it",
            )
        recomputed = event_hash(
            prev_hash=row.prev_hash,
            seq=row.seq,
            occurred_at=row.occurred_at,
            actor_kind=row.actor_kind,
            actor_id=row.actor_id,
            actor_label=row.actor_label,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            data=row.data,
        )
        if recomputed != row.hash:
            return ChainVerification(
                ok=False,
                count=count,
                head_hash=prev,
                first_bad_seq=row.seq,
                problem=f"event #{row.seq} ({row.action}) was altered: its hash does not match",
            )
        prev = row.hash
        count += 1
        expected_seq += 1
    return ChainVerification(ok=True, count=count, head_hash=prev)
