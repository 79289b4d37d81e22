"""Appending to the audit log. Called by every service inside its own transaction."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from govreq.audit.chain import (
    EVENT_COLUMNS,
    GENESIS_HASH,
    sequenced_hash,
    unsequenced_body,
    verify_tuples,
)
from govreq.audit.checkpoints import AuditChainBroken, made_at_text, statement_payload
from govreq.audit.models import AuditCheckpoint, AuditEvent, UnchainedEvent
from govreq.core.actors import Actor
from govreq.core.canonical import canonical_json
from govreq.core.signing import key_id, public_key_b64, sign_payload, signing_key

# Arbitrary constant naming the PostgreSQL advisory lock that serialises chain appends.
_CHAIN_LOCK_KEY = 0x67_6F_76_72_65_71
# With after-commit chaining: held shared by every transaction that records an event, to its
# commit, and exclusively by ``audit_chain_lock`` (nothing audited commits while it is held).
_COMMIT_LOCK_KEY = _CHAIN_LOCK_KEY + 1
# How many unchained events one chaining transaction takes at most.
CHAIN_BATCH = 1000
# Events recorded inside ``audit_deferred()``: appended to the chain when the block ends.
_deferred: ContextVar[list[dict[str, Any]] | None] = ContextVar("audit_deferred", default=None)


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


def _after_commit() -> bool:
    """Events join the chain after their change commits (``GOVREQ_AUDIT_CHAINING``)."""
    return connection.vendor == "postgresql" and settings.AUDIT_CHAINING == "after-commit"


def _advisory_lock(key: int, *, shared: bool = False) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [key])


def audit_chain_lock() -> None:
    """Hold the chain still until the current transaction ends: no audited change commits
    meanwhile, and the chain already holds the event of every change committed before.

    On PostgreSQL a transaction-scoped advisory lock, which chaining writers share to their
    commit; with after-commit chaining, writers hold a second lock in shared mode instead, taken
    here exclusively first, and the events they committed are chained here before anything is
    read. On SQLite the connection runs transactions in IMMEDIATE mode, so the database's write
    lock is already held.
    """
    if connection.vendor == "postgresql":
        if _after_commit():
            _advisory_lock(_COMMIT_LOCK_KEY)
        _advisory_lock(_CHAIN_LOCK_KEY)
        _chain_unchained(limit=None)


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
    fields = {
        "occurred_at": now,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "data": _jsonable(data or {}),
    }
    pending = _deferred.get()
    if pending is not None:
        pending.append(fields)
        return AuditEvent(**fields)  # not yet in the chain: written when the block ends
    return _append([fields])[0]


# One statement under the chain lock on PostgreSQL: read the head, hash (the same bytes as
# ``chain.event_hash``: the previous hash, the event's canonical bytes up to its sequence number,
# the sequence number and "}"), insert. The lock is taken by the statement before, so this one's
# snapshot sees every append committed before the lock was granted.
_PG_APPEND = """
INSERT INTO audit_auditevent
       (seq, occurred_at, actor_kind, actor_id, actor_label, action, object_type, object_id,
        data, prev_hash, hash)
SELECT head.seq + 1, %s, %s, %s, %s, %s, %s, %s, %s::json, head.hash,
       encode(sha256(convert_to(head.hash, 'UTF8') || %s::bytea
                     || convert_to((head.seq + 1)::text || '}', 'UTF8')), 'hex')
  FROM (SELECT COALESCE(MAX(seq), 0) AS seq,
               COALESCE((SELECT hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1),
                        '0000000000000000000000000000000000000000000000000000000000000000') AS hash
          FROM audit_auditevent) AS head
RETURNING id, seq, prev_hash, hash
"""


def _append(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """Add events, in order, to the chain, or (after-commit chaining) to the events that join it
    when this transaction commits."""
    if _after_commit():
        return _record_unchained(events)
    return _chain(events)


def _chain(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """Append events to the chain, in order: the chain lock, one read of the head, one insert.

    Everything that does not depend on the head (the canonical bytes of each event, up to its
    sequence number) is computed before the lock, which every writer shares until it commits;
    under it, only the head is read, each event's SHA-256 taken and the rows inserted (on
    PostgreSQL, one event: all three in one statement, one round trip)."""
    bodies = [unsequenced_body(**fields) for fields in events]
    if connection.vendor == "postgresql" and len(events) == 1:
        return [_append_one_postgresql(events[0], bodies[0])]
    _advisory_lock_chain()
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    rows = []
    for offset, (fields, body) in enumerate(zip(events, bodies, strict=True)):
        digest = sequenced_hash(prev_hash=prev_hash, seq=seq + offset, unsequenced=body)
        rows.append(AuditEvent(seq=seq + offset, prev_hash=prev_hash, hash=digest, **fields))
        prev_hash = digest
    if len(rows) == 1:
        rows[0].save(force_insert=True)
        return rows
    return AuditEvent.objects.bulk_create(rows)


def _advisory_lock_chain() -> None:
    """The chain lock alone (on SQLite, the write lock the transaction already holds)."""
    if connection.vendor == "postgresql":
        _advisory_lock(_CHAIN_LOCK_KEY)


def _record_unchained(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """After-commit chaining: the events commit with the change, unchained, and are chained once
    it has committed. The lock writers hold in shared mode lets ``audit_chain_lock`` wait for
    every change in flight; no writer waits for another."""
    rows = [UnchainedEvent(body=unsequenced_body(**fields), **fields) for fields in events]
    if len(rows) == 1:
        _record_one_unchained(rows[0])
    else:
        _advisory_lock(_COMMIT_LOCK_KEY, shared=True)
        UnchainedEvent.objects.bulk_create(rows)
    # Once per transaction: one chaining after the commit takes all its events.
    if not any(entry[1] is _chain_after_commit for entry in connection.run_on_commit):
        transaction.on_commit(_chain_after_commit, robust=True)
    return [AuditEvent(**fields) for fields in events]  # not in the chain yet: no seq, no hash


# One round trip: the shared lock, then the row.
_PG_RECORD_UNCHAINED = """
INSERT INTO audit_unchainedevent
       (occurred_at, actor_kind, actor_id, actor_label, action, object_type, object_id, data,
        body, recorded_at)
SELECT %s, %s, %s, %s, %s, %s, %s, %s::json, %s, now()
  FROM (SELECT pg_advisory_xact_lock_shared(%s)) AS shared_lock
"""


def _record_one_unchained(row: UnchainedEvent) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _PG_RECORD_UNCHAINED,
            [
                row.occurred_at,
                row.actor_kind,
                row.actor_id,
                row.actor_label,
                row.action,
                row.object_type,
                row.object_id,
                canonical_json(row.data).decode("utf-8"),  # as the field stores it
                bytes(row.body),
                _COMMIT_LOCK_KEY,
            ],
        )


def _chain_after_commit() -> None:
    audit_chain_pending(wait=False)


# One statement under the chain lock (taken by the statement before, so this one sees every
# event committed until then): the oldest unchained events, each hashed after the one before it
# (the same bytes as ``_PG_APPEND``: previous hash, stored body, sequence number, "}"), inserted
# into the chain and deleted from the waiting table.
_PG_CHAIN_UNCHAINED = """
WITH RECURSIVE
batch AS (
    SELECT id, occurred_at, actor_kind, actor_id, actor_label, action, object_type, object_id,
           data, body, row_number() OVER (ORDER BY id) AS k
      FROM audit_unchainedevent
     ORDER BY id
     LIMIT $1
),
head AS (
    SELECT COALESCE((SELECT seq FROM audit_auditevent ORDER BY seq DESC LIMIT 1), 0) AS seq,
           COALESCE((SELECT hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1),
                    '0000000000000000000000000000000000000000000000000000000000000000')::text
               AS hash
),
chained (k, seq, prev_hash, hash) AS (
    SELECT 0::bigint, seq, ''::text, hash FROM head
    UNION ALL
    SELECT b.k, c.seq + 1, c.hash,
           encode(sha256(convert_to(c.hash, 'UTF8') || b.body
                         || convert_to((c.seq + 1)::text || '}', 'UTF8')), 'hex')
      FROM chained AS c JOIN batch AS b ON b.k = c.k + 1
),
inserted AS (
    INSERT INTO audit_auditevent
           (seq, occurred_at, actor_kind, actor_id, actor_label, action, object_type, object_id,
            data, prev_hash, hash)
    SELECT c.seq, b.occurred_at, b.actor_kind, b.actor_id, b.actor_label, b.action,
           b.object_type, b.object_id, b.data, c.prev_hash, c.hash
      FROM chained AS c JOIN batch AS b ON b.k = c.k
     ORDER BY c.k
    RETURNING 1
),
removed AS (
    DELETE FROM audit_unchainedevent WHERE id IN (SELECT id FROM batch) RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM removed)
"""

# The database connections (psycopg's) on which ``_PG_CHAIN_UNCHAINED`` is prepared: a
# prepared statement lasts as long as its session, whatever becomes of the transaction.
_CHAIN_PREPARED: weakref.WeakSet[Any] = weakref.WeakSet()


def _chain_unchained(*, limit: int | None) -> int:
    """Chain the committed unchained events, oldest first, and delete them from the waiting
    table (PostgreSQL: nothing waits on SQLite). Runs under the chain lock (the caller's
    transaction holds it)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        # Planning this statement takes as long as running it: planned once per connection.
        if connection.connection not in _CHAIN_PREPARED:
            cursor.execute(f"PREPARE govreq_audit_chain (bigint) AS {_PG_CHAIN_UNCHAINED}")
            _CHAIN_PREPARED.add(connection.connection)
        cursor.execute("EXECUTE govreq_audit_chain (%s)", [limit if limit is not None else 2**62])
        inserted, removed = cursor.fetchone()
    if inserted != removed:  # cannot happen: one statement, one snapshot
        raise RuntimeError(f"chained {inserted} audit events but removed {removed}")
    return int(inserted)


def audit_chain_pending(*, wait: bool = True) -> int:
    """Chain every event that committed unchained (after-commit chaining), in the order they
    were recorded, in transactions of at most ``CHAIN_BATCH``; returns how many.

    Called after every commit that recorded events (``wait=False``: when another process is
    chaining, it returns at once, and that process looks again once it has let the lock go), and
    by every worker every second, so an event is chained even if its writer died between its
    commit and its chaining. Each batch is chained and removed from the waiting table
    in one transaction: a crash in between leaves it waiting, never chained twice or lost.

    That transaction commits without waiting for its WAL flush (``synchronous_commit = off``):
    lost in a crash, it is undone whole and its events wait again, and any transaction that
    read what it wrote (a checkpoint, a report) flushes it with its own commit. The event
    itself was committed, durably, with its change."""
    chained = 0
    first = True
    # After every chaining, once its commit has let the lock go, look again: an event committed
    # while this process held the lock may not have been seen by its statement, and its writer,
    # finding the lock taken, left it to the holder. So whoever holds the lock last looks last,
    # and no event waits for the worker's turn while its writer is alive.
    while (first and not wait) or UnchainedEvent.objects.exists():  # no lock when none waits
        first = False
        with transaction.atomic():
            if not _lock_for_chaining(wait=wait):
                return chained  # another process is chaining, and will look again after
            chained += _chain_unchained(limit=CHAIN_BATCH)
    return chained


def _lock_for_chaining(*, wait: bool) -> bool:
    """The chain lock for a chaining transaction, which commits without waiting for its WAL
    flush (``audit_chain_pending``); one round trip. ``wait=False``: only if it is free."""
    if connection.vendor != "postgresql":
        return True  # SQLite: the transaction holds the database's write lock
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT set_config('synchronous_commit', 'off', true), {function}(%s)",
            [_CHAIN_LOCK_KEY],
        )
        row = cursor.fetchone()
    return wait or bool(row[1])


def _append_one_postgresql(fields: dict[str, Any], body: bytes) -> AuditEvent:
    data = canonical_json(fields["data"]).decode("utf-8")  # as the field stores it
    params = [
        fields["occurred_at"],
        fields["actor_kind"],
        fields["actor_id"],
        fields["actor_label"],
        fields["action"],
        fields["object_type"],
        fields["object_id"],
        data,
        body,
    ]
    _advisory_lock_chain()
    with connection.cursor() as cursor:
        cursor.execute(_PG_APPEND, params)
        pk, seq, prev_hash, digest = cursor.fetchone()
    event = AuditEvent(pk=pk, seq=seq, prev_hash=prev_hash, hash=digest, **fields)
    event._state.adding = False
    event._state.db = connection.alias
    return event


@contextmanager
def audit_deferred() -> Iterator[None]:
    """Inside the block, ``audit_record`` queues its events (their data read at the call); when
    the block ends without an error they are appended to the chain in the order recorded, and
    only then is the chain lock taken (held, as ever, to the commit). Use it inside the
    transaction, around work that records several events, so the one lock every writer shares
    is held for the append and the commit only (README, "Lock order"). The events returned
    inside the block are not saved yet (no ``seq`` or ``hash``). Not for work that rolls back a
    savepoint and carries on: its queued events would outlive the rollback."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_deferred must run inside the transaction of the change")
    if _deferred.get() is not None:
        yield  # already deferred by an enclosing block, which appends
        return
    pending: list[dict[str, Any]] = []
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    if pending:
        _append(pending)


@transaction.atomic
def audit_record_standalone(**kwargs: Any) -> AuditEvent:
    """For events that are not part of another change (sign-ins, downloads)."""
    return audit_record(**kwargs)


@dataclass(frozen=True, kw_only=True)
class CheckpointWritten:
    checkpoint: AuditCheckpoint | None  # None: the log is empty, there is nothing to sign
    created: bool


def _events_between(after_seq: int, up_to_seq: int) -> Generator[tuple[Any, ...]]:
    """The events after ``after_seq`` up to ``up_to_seq``, streamed in ``seq`` order as raw
    tuples (``chain.EVENT_COLUMNS``)."""
    yield from (
        AuditEvent.objects.filter(seq__gt=after_seq, seq__lte=up_to_seq)
        .order_by("seq")
        .values_list(*EVENT_COLUMNS)
        .iterator(chunk_size=5000)
    )


def _verified_since(last: AuditCheckpoint | None, head_seq: int) -> None:
    """Check the events after the last checkpoint (all of them, for the first), linking from the
    hash it signed: a checkpoint never vouches for a chain that is already broken, and the work
    grows with the events since the last checkpoint, not with the whole log."""
    after_seq, after_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    if last is not None:
        anchor = AuditEvent.objects.filter(seq=last.seq).values_list("hash", flat=True).first()
        if anchor != last.hash:
            raise AuditChainBroken(
                f"the audit log no longer holds event #{last.seq} as the checkpoint made at "
                f"{made_at_text(last.made_at)} signed it; nothing new is signed (run "
                "govreq audit verify)"
            )
    rows = _events_between(after_seq, head_seq)
    try:
        result = verify_tuples(rows, after_seq=after_seq, after_hash=after_hash)
    finally:
        # Close the (PostgreSQL server-side) cursor now, inside the transaction: left to the
        # garbage collector, it would be closed after the rollback this error causes.
        rows.close()
    if not result.ok or result.count != head_seq - after_seq:
        raise AuditChainBroken(
            f"the audit chain is broken at event #{result.first_bad_seq}: {result.problem}; "
            "nothing new is signed (run govreq audit verify)"
        )


@transaction.atomic
def audit_checkpoint_write(*, now: datetime) -> CheckpointWritten:
    """Sign the chain head as a checkpoint, unless the newest checkpoint already signs it.

    Idempotent: while the head does not move, nothing is written. A checkpoint is deliberately
    not an audit event: an event would move the head it signs, so every checkpoint would call
    for another one. Its own integrity comes from its signature, and its deletion is what the
    copies kept outside (the published document) detect. Run by the worker hourly and after
    every report publication, inside that publication's transaction.
    """
    key = signing_key()
    if _after_commit():
        # Events committed unchained (this transaction's own too, in a publication) are chained
        # first, so the head signed is the newest.
        _advisory_lock_chain()
        _chain_unchained(limit=None)
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    last = AuditCheckpoint.objects.order_by("-seq").first()
    if head is None and last is None:
        return CheckpointWritten(checkpoint=None, created=False)
    if head is not None and last is not None and (head[0], head[1]) == (last.seq, last.hash):
        return CheckpointWritten(checkpoint=last, created=False)
    head_seq, head_hash = head if head is not None else (0, GENESIS_HASH)
    _verified_since(last, head_seq)
    public_key = public_key_b64(key)
    kid = key_id(public_key)
    made_at = made_at_text(now)
    signature = sign_payload(
        key, statement_payload(seq=head_seq, hash=head_hash, made_at=made_at, key_id=kid)
    )
    try:
        with transaction.atomic():
            checkpoint = AuditCheckpoint.objects.create(
                seq=head_seq,
                hash=head_hash,
                made_at=now,
                key_id=kid,
                public_key=public_key,
                signature=signature,
            )
    except IntegrityError:
        # Another worker (or a publication) signed the same head at the same moment.
        return CheckpointWritten(
            checkpoint=AuditCheckpoint.objects.get(seq=head_seq), created=False
        )
    return CheckpointWritten(checkpoint=checkpoint, created=True)
