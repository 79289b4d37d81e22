from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from django.db import connection, connections
from django.db.models import Count, Min

from govreq.audit.chain import (
    EVENT_COLUMNS,
    GENESIS_HASH,
    ChainVerification,
    verify_flagged,
    verify_payloads,
    verify_tuples,
)
from govreq.audit.checkpoints import (
    Checkpoint,
    checkpoint_problems,
    document_chunks,
    event_problem,
    made_at_text,
    signature_problem,
)
from govreq.audit.models import AuditCheckpoint, AuditEvent, UnchainedEvent
from govreq.core.canonical import sha256_hex
from govreq.core.signing import key_id, trusted_public_keys

# How many problems a verification names before it only counts the rest.
PROBLEMS_NAMED = 20


# Rows fetched per round trip (a server-side cursor on PostgreSQL).
VERIFY_CHUNK = 5000
# Below this many events a verification runs in this process: starting processes costs more.
PARALLEL_FROM = 20_000
# Pieces per worker process, so that a slower piece does not leave a core idle at the end.
PIECES_PER_WORKER = 4


# Each moment as exactly the text the hash covers (UTC, ISO 8601 with microseconds) and the data
# as JSON text, straight from the database: no datetime objects, no ORM conversion per row.
# PostgreSQL formats a timestamptz; a moment before the year 1 (which to_char would write
# without its era, as the same digits as a moment after it) is written as nothing, so it can
# never hash as the moment it replaced. SQLite holds Django's text of the UTC moment
# ("2027-04-01 10:00:00[.ffffff]", no fraction when it is zero).
_MOMENT = {
    "postgresql": (
        "CASE WHEN occurred_at >= '0001-01-01 00:00:00+00' THEN"
        " to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') END"
    ),
    "sqlite": (
        "replace(occurred_at, ' ', 'T')"
        " || CASE WHEN length(occurred_at) = 19 THEN '.000000' ELSE '' END || '+00:00'"
    ),
}
_EVENTS_SQL = {
    vendor: f"""
SELECT seq, {moment},
       actor_kind, actor_id, actor_label, action, object_type, object_id, {data},
       prev_hash, hash
  FROM audit_auditevent
 WHERE seq > %s AND seq <= %s
 ORDER BY seq
"""  # noqa: S608 (constant text: no value is formatted in)
    for vendor, moment, data in (
        ("postgresql", _MOMENT["postgresql"], "data::text"),
        ("sqlite", _MOMENT["sqlite"], "data"),
    )
}


# The same events, each as the very text its hash covers, written by the database around the
# stored data (``chain._BODY``). Each string is quoted as Python's encoder quotes it, by one of
# two ways:
#
# * **plainly**, between double quotes, when none of the event's six strings holds a double
#   quote or a backslash (PostgreSQL): the usual case, and a quarter of the database's work at
#   a million events (to_json() of six strings took longer than everything else in the text);
# * **by the database's JSON quoting** otherwise (the same escapes as Python's encoder).
#
# Plain quoting is sound only under that condition: unescaped, an altered value such as
# ``say \"hi\"`` would write the very text an original ``say "hi"`` was hashed as. Without a
# quote or a backslash nothing can be escaped and no string can end early, so the text is the
# event's own; a control character (which JSON escapes) is the one difference left, and it makes
# text that no hash covers (canonical JSON never holds a raw one), so such an event is read
# again column by column (``_EVENTS_SQL``) and checked as before, like any event whose text
# does not hash to its stored hash: a difference in writing can never pass for, or hide, an
# alteration.
_STRINGS = ("action", "actor_kind", "actor_id", "actor_label", "object_type", "object_id")
_VENDOR_SQL = {
    "postgresql": {
        "json_quoted": "to_json({})::text",
        "position": "strpos({}, {})",
        "backslash": r"E'\\'",  # one backslash
        "data": "data::text",
        "moment": _MOMENT["postgresql"],
        "seq": "seq::text",
    },
    "sqlite": {
        "json_quoted": "json_quote({})",
        "position": "instr({}, {})",
        "backslash": r"'\'",  # one backslash
        "data": "data",
        "moment": _MOMENT["sqlite"],
        "seq": "seq",
    },
}


class _Sql(str):
    """A part of the text that is an SQL expression (other parts are literal text)."""


def _text_sql(vendor: str, *, plainly: bool) -> str:
    """The event's text as one SQL expression: its literal parts, columns and quoted strings
    joined by ``||``."""
    sql = _VENDOR_SQL[vendor]

    def quoted(column: str) -> list[str]:
        if plainly:
            return ['"', _Sql(column), '"']
        return [_Sql(sql["json_quoted"].format(column))]

    action, kind, actor_id, label, object_type, object_id = (quoted(c) for c in _STRINGS)
    parts: list[str] = [
        '{"action":', *action, ',"actor":[', *kind, ",", *actor_id, ",", *label,
        '],"data":', _Sql(sql["data"]), ',"object":[', *object_type, ",", *object_id,
        '],"occurred_at":"', _Sql(sql["moment"]), '","seq":', _Sql(sql["seq"]), "}",
    ]  # fmt: skip
    joined: list[str] = []
    literal = ""
    for part in parts:
        if isinstance(part, _Sql):
            if literal:
                joined.append("'" + literal.replace("'", "''") + "'")
                literal = ""
            joined.append(f"({part})")
        else:
            literal += part
    if literal:
        joined.append("'" + literal.replace("'", "''") + "'")
    return " || ".join(joined)


def _payload_sql(vendor: str) -> str:
    """The text each event's hash covers, quoted plainly where that is sound."""
    sql = _VENDOR_SQL[vendor]
    found = " + ".join(
        sql["position"].format(column, mark)
        for column in _STRINGS
        for mark in ("'\"'", sql["backslash"])
    )
    return (
        f"CASE WHEN {found} = 0 THEN {_text_sql(vendor, plainly=True)}\n"
        f"     ELSE {_text_sql(vendor, plainly=False)} END"
    )


# SQLite's json_quote() costs less than the twelve look-ups that would spare it (2.8 s against
# 3.4 s for the text of a million events): there every string is quoted as JSON.
_PAYLOAD = {
    "postgresql": _payload_sql("postgresql"),
    "sqlite": _text_sql("sqlite", plainly=False),
}
_RANGE = "FROM audit_auditevent WHERE seq > %s AND seq <= %s"
# SQLite: each payload, hashed here (``chain.verify_payloads``).
_PAYLOAD_SQL = {
    vendor: f"SELECT seq, prev_hash, hash, {payload}\n {_RANGE} ORDER BY seq"
    for vendor, payload in _PAYLOAD.items()
}
# PostgreSQL: the database hashes each payload itself (its sha256(): the same SHA-256 of the
# same bytes), with each event's neighbours beside it, and sends only the events that need a
# look (``chain.verify_flagged``): the first and the last, and any whose hash did not match,
# whose number does not follow the one before it, or whose ``prev_hash`` is not the hash
# before it. Everything between two of those is known to be there, linked and
# hashed right, and is counted without being sent: a walk of a million events sends a handful
# of rows, and the work is where the bytes are. It trusts the database's sha256() exactly as
# reading the rows trusts its storage: a server that lies can show a verifier the original rows
# whatever it shows the application.
_FLAGGED_SQL = {
    "postgresql": f"""
SELECT seq, prev_hash, hash, ok, before_seq, before_hash
  FROM (SELECT seq, prev_hash, hash,
               encode(sha256(convert_to(
                   prev_hash || {_PAYLOAD["postgresql"]}, 'UTF8')), 'hex') = hash AS ok,
               lag(seq) OVER in_order AS before_seq,
               lag(hash) OVER in_order AS before_hash,
               lead(seq) OVER in_order AS after_seq
         {_RANGE}
        WINDOW in_order AS (ORDER BY seq)) AS events
 WHERE ok IS NOT TRUE OR before_seq IS NULL OR after_seq IS NULL
    OR seq <> before_seq + 1 OR prev_hash IS DISTINCT FROM before_hash
 ORDER BY seq
"""  # noqa: S608 (constant text: no value is formatted in)
}


def _event_as_text(seq: int) -> tuple[Any, ...] | None:
    """One event's columns as ``_EVENTS_SQL`` gives them."""
    with connection.cursor() as cursor:
        cursor.execute(_EVENTS_SQL[connection.vendor], [seq - 1, seq])
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def _raw_rows(sql: str, after_seq: int, up_to: int | None) -> Generator[tuple[Any, ...]]:
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [after_seq, up_to if up_to is not None else 2**63 - 1])
        while chunk := cursor.fetchmany(VERIFY_CHUNK):
            yield from chunk


# How each database's events are walked: PostgreSQL hashes them and sends those that need a look,
# SQLite sends each one's text to be hashed here; any other database's are read column by column
# (``chain.verify_tuples``).
_WALKS: dict[str, tuple[str, Callable[..., ChainVerification]]] = {
    "postgresql": (_FLAGGED_SQL["postgresql"], verify_flagged),
    "sqlite": (_PAYLOAD_SQL["sqlite"], verify_payloads),
}


def _verify_range(after_seq: int, up_to: int | None, after_hash: str) -> ChainVerification:
    """The events after ``after_seq`` (up to ``up_to``), as raw tuples, linked from
    ``after_hash``."""
    walk = _WALKS.get(connection.vendor)
    if walk is not None:
        sql, verify = walk
        raw = _raw_rows(sql, after_seq, up_to)
        try:
            return verify(
                raw, after_seq=after_seq, after_hash=after_hash, event_as_text=_event_as_text
            )
        finally:
            raw.close()  # the server-side cursor, now rather than at garbage collection
    events = AuditEvent.objects.filter(seq__gt=after_seq)
    if up_to is not None:
        events = events.filter(seq__lte=up_to)
    rows = cast(
        "Generator[tuple[Any, ...]]",
        events.order_by("seq").values_list(*EVENT_COLUMNS).iterator(chunk_size=VERIFY_CHUNK),
    )
    try:
        return verify_tuples(rows, after_seq=after_seq, after_hash=after_hash)
    finally:
        rows.close()  # the server-side cursor, now rather than at garbage collection


def _verify_range_in_child(after_seq: int, up_to: int, after_hash: str) -> ChainVerification:
    try:
        return _verify_range(after_seq, up_to, after_hash)
    finally:
        connections.close_all()


def audit_chain_verify(
    *,
    after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
    workers: int = 1,
    parallel_from: int = PARALLEL_FROM,
) -> ChainVerification:
    """Verify the chain after ``after_seq`` (a trusted checkpoint; by default the whole chain),
    streaming raw tuples so memory does not grow with the log.

    With ``workers`` > 1 (the CLI), a long chain up to the head at the start is cut into
    pieces verified in that many processes at once; each piece links from the stored hash of
    the event before it, and each junction is checked (the piece before it must end, verified,
    on that very hash), so the result, and the first broken event it names, are those of one
    walk from the start. Inside a transaction (other processes cannot see its writes) or for a
    short chain it runs here."""
    head_seq, _head_hash = audit_chain_head()
    span = head_seq - after_seq
    if workers <= 1 or span < max(parallel_from, 2 * workers) or connection.in_atomic_block:
        return _verify_range(after_seq, None, after_hash)
    pieces = workers * PIECES_PER_WORKER
    bounds = [after_seq + span * i // pieces for i in range(pieces + 1)]
    anchors = _event_hashes(bounds[1:-1])
    starts = [after_hash] + [anchors.get(bound, "") for bound in bounds[1:-1]]
    ranges = list(zip(bounds[:-1], bounds[1:], starts, strict=True))
    # A forked child must not share the parent's database connection: close it first (the
    # parent opens a new one when it next needs it).
    connections.close_all()
    context = multiprocessing.get_context("fork")
    verified = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_verify_range_in_child, *piece) for piece in ranges]
        for index, ((low, high, _start), future) in enumerate(zip(ranges, futures, strict=True)):
            result = future.result()
            if not result.ok:
                pool.shutdown(cancel_futures=True)
                return replace(result, count=verified + result.count)
            if result.count != high - low:
                pool.shutdown(cancel_futures=True)
                return _missing_after(low + result.count, verified + result.count, result)
            verified += result.count
            if index + 1 < len(ranges) and result.head_hash != ranges[index + 1][2]:
                pool.shutdown(cancel_futures=True)
                return ChainVerification(
                    ok=False,
                    count=verified,
                    head_hash=result.head_hash,
                    first_bad_seq=high + 1,
                    problem=f"event #{high + 1} does not link to the event before it",
                )
    return ChainVerification(ok=True, count=verified, head_hash=result.head_hash)


def _missing_after(last_seq: int, verified: int, result: ChainVerification) -> ChainVerification:
    """A piece ended early: the event after its last one is missing (named as a walk from the
    start names it, with the next event that is there)."""
    missing = last_seq + 1
    following = (
        AuditEvent.objects.filter(seq__gt=missing).order_by("seq").values_list("seq", flat=True)
    ).first()
    return ChainVerification(
        ok=False,
        count=verified,
        head_hash=result.head_hash,
        first_bad_seq=missing,
        problem=f"event #{missing} is missing (next is #{following})",
    )


def audit_newest_checkpoint() -> Checkpoint | None:
    """The newest stored checkpoint (``--since-last-checkpoint`` verifies after it)."""
    row = (
        AuditCheckpoint.objects.order_by("-seq")
        .values_list("seq", "hash", "made_at", "key_id", "public_key", "signature")
        .first()
    )
    if row is None:
        return None
    seq, hash_, made_at, kid, public_key, signature = row
    return Checkpoint(
        seq=seq,
        hash=hash_,
        made_at=made_at_text(made_at),
        key_id=kid,
        public_key=public_key,
        signature=signature,
    )


def audit_checkpoint_problem(checkpoint: Checkpoint, *, trusted: set[str]) -> str:
    """Why one checkpoint cannot anchor a verification ("" when it can): its signature, and
    the event it signed still there with that hash."""
    problem = signature_problem(checkpoint, trusted=trusted)
    if problem:
        return problem
    head_seq, _head_hash = audit_chain_head()
    stored = _event_hashes([checkpoint.seq]).get(checkpoint.seq)
    return event_problem(checkpoint, stored_hash=stored, head_seq=head_seq)


@dataclass(frozen=True, kw_only=True)
class Unchained:
    """Events committed and not yet in the chain (after-commit chaining)."""

    count: int
    oldest: datetime | None  # when the oldest of them was written

    def overdue(self, now: datetime) -> bool:
        """Waiting longer than any running worker lets one wait: nothing is chaining them."""
        return self.oldest is not None and now - self.oldest > UNCHAINED_GRACE


# A worker chains what writers left every second; an event waiting longer than this is not being
# chained (no worker is running, or each attempt fails).
UNCHAINED_GRACE = timedelta(minutes=1)


def audit_unchained() -> Unchained:
    waiting = UnchainedEvent.objects.aggregate(count=Count("id"), oldest=Min("recorded_at"))
    return Unchained(count=waiting["count"], oldest=waiting["oldest"])


def audit_chain_head() -> tuple[int, str]:
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return (head[0], head[1]) if head else (0, "0" * 64)


def audit_checkpoints() -> Iterator[Checkpoint]:
    """Every stored checkpoint, oldest first, streamed."""
    rows = (
        AuditCheckpoint.objects.order_by("seq")
        .values_list("seq", "hash", "made_at", "key_id", "public_key", "signature")
        .iterator(chunk_size=2000)
    )
    for seq, hash_, made_at, kid, public_key, signature in rows:
        yield Checkpoint(
            seq=seq,
            hash=hash_,
            made_at=made_at_text(made_at),
            key_id=kid,
            public_key=public_key,
            signature=signature,
        )


def audit_checkpoint_keys() -> list[tuple[str, str]]:
    """The (key id, public key) pairs to check checkpoints with: the platform's trusted keys
    (current, and earlier ones after a rotation) and every key that signed a stored one."""
    keys = set(AuditCheckpoint.objects.values_list("key_id", "public_key").distinct())
    keys |= {(key_id(public), public) for public in trusted_public_keys()}
    return sorted(keys)


def audit_checkpoints_document() -> Iterator[str]:
    """The published document (``/transparency/audit-checkpoints.json``, ``govreq audit
    checkpoints --export``), streamed: every checkpoint and the public keys."""
    return document_chunks(checkpoints=audit_checkpoints(), public_keys=audit_checkpoint_keys())


def audit_checkpoints_version() -> str:
    """Changes whenever the published document would: a checkpoint added, a key trusted. Its
    ETag, computed in two small queries instead of the whole document."""
    newest = AuditCheckpoint.objects.order_by("-seq").values_list("seq", "hash").first()
    count = AuditCheckpoint.objects.count()
    keys = ",".join(kid for kid, _public in audit_checkpoint_keys())
    return sha256_hex(f"{count}|{newest}|{keys}".encode())[:32]


def _event_hashes(seqs: list[int]) -> dict[int, str]:
    return dict(AuditEvent.objects.filter(seq__in=seqs).values_list("seq", "hash"))


@dataclass(kw_only=True)
class CheckpointVerification:
    checked: int = 0
    newest_seq: int = 0
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < PROBLEMS_NAMED:
            self.problems.append(problem)
        else:
            self.more_problems += 1


def _counted(
    checkpoints: Iterable[Checkpoint], result: CheckpointVerification
) -> Iterator[Checkpoint]:
    for checkpoint in checkpoints:
        result.checked += 1
        result.newest_seq = max(result.newest_seq, checkpoint.seq)
        yield checkpoint


def audit_checkpoints_verify(
    checkpoints: Iterable[Checkpoint], *, trusted: set[str]
) -> CheckpointVerification:
    """Check checkpoints (the stored ones, or an outside copy) against the log: each signed by
    a trusted key, and the event it signed still there with the hash it signed."""
    result = CheckpointVerification()
    head_seq, _head_hash = audit_chain_head()
    for problem in checkpoint_problems(
        _counted(checkpoints, result), trusted=trusted, hashes_at=_event_hashes, head_seq=head_seq
    ):
        result.add(problem)
    return result


def audit_checkpoints_missing(
    checkpoints: Iterable[Checkpoint], *, trusted: set[str], batch: int = 500
) -> Iterator[int]:
    """The seqs of authentic (outside) checkpoints that are no longer stored: someone deleted
    them. A forged one is reported as such, not here."""
    pending: list[int] = []
    for checkpoint in checkpoints:
        if signature_problem(checkpoint, trusted=trusted):
            continue
        pending.append(checkpoint.seq)
        if len(pending) >= batch:
            yield from _not_stored(pending)
            pending = []
    if pending:
        yield from _not_stored(pending)


def _not_stored(seqs: list[int]) -> list[int]:
    stored = set(AuditCheckpoint.objects.filter(seq__in=seqs).values_list("seq", flat=True))
    return [seq for seq in seqs if seq not in stored]
