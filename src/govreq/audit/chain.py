"""The hash chain: how an event is hashed, and verification of the whole log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from govreq.core.canonical import canonical_json, sha256_hex

GENESIS_HASH = "0" * 64

# The columns ``verify_tuples`` reads, in this order (``values_list(*EVENT_COLUMNS)``).
EVENT_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "data",
    "prev_hash",
    "hash",
)
# The encoder ``canonical_json`` builds on every call, built once: the same bytes (the same
# options), without constructing an encoder per event.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


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


def unsequenced_body(
    *,
    occurred_at: datetime,
    actor_kind: str,
    actor_id: str,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    data: Any,
) -> bytes:
    """The canonical bytes ``event_hash`` hashes, up to the sequence number: ``seq`` sorts last
    among the keys, so the body is these bytes + ``seq`` + ``}``. An append computes them
    before it takes the chain lock (``sequenced_hash`` finishes under it)."""
    body = {
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": [actor_kind, actor_id, actor_label],
        "action": action,
        "object": [object_type, object_id],
        "data": data,
    }
    return canonical_json(body)[:-1] + b',"seq":'


def sequenced_hash(*, prev_hash: str, seq: int, unsequenced: bytes) -> str:
    """``event_hash`` from ``unsequenced_body``: the same bytes, the same hash."""
    return sha256_hex(prev_hash.encode("ascii") + unsequenced + b"%d}" % seq)


@dataclass(frozen=True, kw_only=True)
class ChainVerification:
    ok: bool
    count: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def _unlinked(
    seq: int, prev_hash: str, *, expected_seq: int, prev: str, count: int
) -> ChainVerification | None:
    """The problem with an event that is not the next one, or does not link to the one before
    it (None: it is and it does)."""
    if seq != expected_seq:
        problem = (
            f"event #{expected_seq} is missing (next is #{seq})"
            if seq > expected_seq
            else f"event #{seq} is out of order"
        )
        return ChainVerification(
            ok=False, count=count, head_hash=prev, first_bad_seq=expected_seq, problem=problem
        )
    if prev_hash != prev:
        return ChainVerification(
            ok=False,
            count=count,
            head_hash=prev,
            first_bad_seq=seq,
            problem=f"event #{seq} does not link to the event before it",
        )
    return None


# The canonical JSON of an event body (``event_hash``), written out: keys in sorted order, the
# data as its stored canonical text (``audit.fields``), each string quoted by the encoder's own
# function (``ensure_ascii=False``).
_BODY = '{"action":%s,"actor":[%s,%s,%s],"data":%s,"object":[%s,%s],"occurred_at":"%s","seq":%d}'


def verify_tuples(
    rows: Iterable[tuple[Any, ...]],
    *,
    after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
    as_text: bool = False,
) -> ChainVerification:
    """``verify_events`` at hashing speed: ``rows`` are plain tuples of ``EVENT_COLUMNS`` in
    ``seq`` order (no model instances), hashed to exactly the bytes ``event_hash`` hashes, and
    the same checks in the same order, so the same first broken event is named.

    ``as_text``: the database already gave ``occurred_at`` as the UTC ISO text the hash covers
    and ``data`` as its stored JSON text (``selectors``). That text is the canonical JSON the
    hash covers (``audit.fields``), so the body is written around it without parsing it; only
    when that does not match (a row stored before the data was kept canonical) is the data
    parsed and re-encoded before the event is called altered."""
    expected_seq = after_seq + 1
    prev = after_hash
    count = 0
    sha256 = hashlib.sha256
    loads = json.loads
    quote = encode_basestring
    body_text = _BODY
    for row in rows:
        seq, occurred_at, kind, actor_id, label, action, obj_type, obj_id, data, prev_hash, h = row
        unlinked = _unlinked(seq, prev_hash, expected_seq=expected_seq, prev=prev, count=count)
        if unlinked is not None:
            return unlinked
        if as_text:
            payload = body_text % (
                quote(action),
                quote(kind),
                quote(actor_id),
                quote(label),
                data,
                quote(obj_type),
                quote(obj_id),
                occurred_at,
                seq,
            )
            matched = sha256((prev + payload).encode("utf-8")).hexdigest() == h
            if not matched:
                try:
                    matched = _reencoded_hash(prev, row, loads(data)) == h
                except ValueError:  # not JSON at all
                    matched = False
        else:
            moment = occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
            matched = _reencoded_hash(prev, (seq, moment, *row[2:]), data) == h
        if not matched:
            return ChainVerification(
                ok=False,
                count=count,
                head_hash=prev,
                first_bad_seq=seq,
                problem=f"event #{seq} ({action}) was altered: its hash does not match",
            )
        prev = h
        count += 1
        expected_seq += 1
    return ChainVerification(ok=True, count=count, head_hash=prev)


def verify_payloads(
    rows: Iterable[tuple[Any, ...]],
    *,
    after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
    event_as_text: Callable[[int], tuple[Any, ...] | None],
) -> ChainVerification:
    """``verify_tuples`` for rows of ``(seq, prev_hash, hash, payload)``, where the database
    wrote ``payload``, the text an event's hash covers (``selectors._PAYLOAD_SQL``): only the
    hashing is left. When a payload does not hash to the stored hash, the event is read again
    as its columns (``event_as_text``) and checked exactly as ``verify_tuples`` checks it, which
    names it altered or, if only the database's writing of the text differed, carries on."""
    expected_seq = after_seq + 1
    prev = after_hash
    count = 0
    sha256 = hashlib.sha256
    for seq, prev_hash, h, payload in rows:
        if seq != expected_seq or prev_hash != prev:  # the usual case, checked without a call
            unlinked = _unlinked(seq, prev_hash, expected_seq=expected_seq, prev=prev, count=count)
            if unlinked is not None:
                return unlinked
        if sha256((prev + payload).encode("utf-8")).hexdigest() != h:
            problem = _checked_again(seq, h, prev=prev, count=count, event_as_text=event_as_text)
            if problem is not None:
                return problem
        prev = h
        count += 1
        expected_seq += 1
    return ChainVerification(ok=True, count=count, head_hash=prev)


def verify_flagged(
    rows: Iterable[tuple[Any, ...]],
    *,
    after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
    event_as_text: Callable[[int], tuple[Any, ...] | None],
) -> ChainVerification:
    """The same walk, when the database has hashed every event itself and sends only those
    that need a look (``selectors._FLAGGED_SQL``), in ``seq`` order: rows of ``(seq, prev_hash,
    hash, ok, before_seq, before_hash)``, where ``ok`` says the payload hashed to ``hash`` and
    ``before_*`` are the event before it (None for the first). The first and the last events
    are always sent, and so is any event whose hash did not match or that does not follow, or
    link to, the event before it; so every event between two sent ones is there, linked and
    hashed right, and is counted. Each sent event is then checked as ``verify_payloads`` checks
    it, so the result, and the first broken event it names, are those of the full walk."""
    expected_seq = after_seq + 1
    prev = after_hash
    count = 0
    for seq, prev_hash, h, ok, before_seq, before_hash in rows:
        if before_seq is not None and before_seq >= expected_seq:
            # The events from expected_seq to before_seq were not sent: each is the next one,
            # links to the one before it and hashed right.
            count += before_seq - expected_seq + 1
            expected_seq = before_seq + 1
            prev = before_hash
        unlinked = _unlinked(seq, prev_hash, expected_seq=expected_seq, prev=prev, count=count)
        if unlinked is not None:
            return unlinked
        if not ok:
            problem = _checked_again(seq, h, prev=prev, count=count, event_as_text=event_as_text)
            if problem is not None:
                return problem
        prev = h
        count += 1
        expected_seq += 1
    return ChainVerification(ok=True, count=count, head_hash=prev)


def _checked_again(
    seq: int,
    seen_hash: str,
    *,
    prev: str,
    count: int,
    event_as_text: Callable[[int], tuple[Any, ...] | None],
) -> ChainVerification | None:
    """An event whose payload did not hash to its stored hash (``seen_hash``, as first read),
    read again as its columns and checked as ``verify_tuples`` checks it: the problem (altered,
    or changed or gone since it was first read), or None when only the database's writing of
    the text differed. The walk goes on from ``seen_hash``, and the events after it were
    checked as first read: read again with another hash, the event is one that changed while
    it was verified, never one that passes."""
    row = event_as_text(seq)
    if row is not None and row[-1] != seen_hash:
        return ChainVerification(
            ok=False,
            count=count,
            head_hash=prev,
            first_bad_seq=seq,
            problem=f"event #{seq} changed while it was verified",
        )
    again = verify_tuples(
        [row] if row is not None else [], after_seq=seq - 1, after_hash=prev, as_text=True
    )
    if not again.ok:
        return replace(again, count=count)
    if again.count != 1:  # gone since it was read
        return ChainVerification(
            ok=False,
            count=count,
            head_hash=prev,
            first_bad_seq=seq,
            problem=f"event #{seq} is missing (it went while it was verified)",
        )
    return None


def _reencoded_hash(prev: str, row: tuple[Any, ...], data: Any) -> str:
    """The hash of a row's fields as ``event_hash`` builds it (its moment already as text)."""
    seq, moment, kind, actor_id, label, action, obj_type, obj_id = row[:8]
    body = {
        "seq": seq,
        "occurred_at": moment,
        "actor": [kind, actor_id, label],
        "action": action,
        "object": [obj_type, obj_id],
        "data": data,
    }
    payload = prev.encode("ascii") + _CANONICAL.encode(body).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


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
        unlinked = _unlinked(
            row.seq, row.prev_hash, expected_seq=expected_seq, prev=prev, count=count
        )
        if unlinked is not None:
            return unlinked
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
