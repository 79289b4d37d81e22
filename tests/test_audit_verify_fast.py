"""`govreq audit verify` at hashing speed: raw tuples hashed to the same bytes as
`audit.chain.event_hash`, pieces verified in several processes with their junctions checked,
and `--since-last-checkpoint` walking only the tail after the newest signed checkpoint."""

from __future__ import annotations

import importlib
import json
import os
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from govreq.audit.chain import (
    EVENT_COLUMNS,
    GENESIS_HASH,
    ChainVerification,
    event_hash,
    sequenced_hash,
    unsequenced_body,
    verify_events,
    verify_flagged,
    verify_payloads,
    verify_tuples,
)
from govreq.audit.models import AuditCheckpoint, AuditEvent, UnchainedEvent
from govreq.audit.selectors import (
    _FLAGGED_SQL,
    _PAYLOAD_SQL,
    _event_as_text,
    _raw_rows,
    audit_chain_verify,
)
from govreq.audit.services import _append, audit_checkpoint_write, audit_record_standalone
from govreq.core.actors import Actor
from govreq.core.canonical import canonical_json, sha256_hex


@pytest.fixture(autouse=True)
def _own_signing_key(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.REPORT_SIGNING_KEY = ""
    settings.REPORT_SIGNING_KEY_FILE = ""
    settings.REPORT_TRUSTED_PUBLIC_KEYS = ""


def _events(n: int, start: int = 0) -> None:
    """``n`` events with awkward data (non-ASCII, nesting, numbers, nulls), in one append."""
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with transaction.atomic():
        _append(
            [
                {
                    "occurred_at": moment + timedelta(seconds=i, microseconds=i),
                    "actor_kind": "SYSTEM",
                    "actor_id": f"w{i % 3}",
                    "actor_label": '警務處 \u2028 O\'Brien "x"',
                    "action": "test.event",
                    "object_type": "test",
                    "object_id": str(start + i),
                    "data": {"z": [1, 2.5, None, True], "a": {"ü": "é", "n": i}, "": ""},
                }
                for i in range(n)
            ]
        )


def _tuples() -> list[tuple]:
    return list(AuditEvent.objects.order_by("seq").values_list(*EVENT_COLUMNS))


@pytest.mark.django_db
def test_tuples_hash_to_the_bytes_event_hash_hashes():
    _events(30)
    result = verify_tuples(_tuples())
    assert result.ok and result.count == 30
    # The model-instance walk (the original format) agrees on every event and the head.
    assert verify_events(AuditEvent.objects.order_by("seq")) == result
    # A moment stored in another zone hashes as UTC, as event_hash does.
    seq, moment, *rest = _tuples()[0]
    shifted = moment.astimezone(dt_timezone(timedelta(hours=8)))
    assert verify_tuples([(seq, shifted, *rest)]).ok
    row = AuditEvent.objects.get(seq=1)
    assert row.hash == event_hash(
        prev_hash=row.prev_hash,
        seq=1,
        occurred_at=shifted,
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        actor_label=row.actor_label,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        data=row.data,
    )


@pytest.mark.django_db
def test_tuples_name_the_first_broken_event_like_the_model_walk():
    _events(12)
    rows = _tuples()
    altered = [*rows[:4], (*rows[4][:8], {**rows[4][8], "x": 1}, *rows[4][9:]), *rows[5:]]
    assert verify_tuples(altered).first_bad_seq == 5
    assert "was altered" in verify_tuples(altered).problem
    assert verify_tuples(rows[:6] + rows[7:]).first_bad_seq == 7
    assert verify_tuples(rows[:6] + rows[7:]).problem == "event #7 is missing (next is #8)"


# --- several processes ------------------------------------------------------------------------

CHAIN = 240  # 8 pieces of 30 with two workers


# Committed (other processes read it); the flush afterwards restores what other tests expect.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def long_chain():
    _events(CHAIN)


def _parallel():
    return audit_chain_verify(workers=2, parallel_from=0)


@committed
def test_two_processes_verify_an_untouched_chain(long_chain):
    sequential = audit_chain_verify()
    assert sequential.ok and sequential.count == CHAIN
    assert _parallel() == sequential


@committed
@pytest.mark.parametrize("seq", [1, 29, 30, 31, 120, 121, 239, 240])
def test_two_processes_name_the_same_altered_event(long_chain, seq):
    AuditEvent.objects.filter(seq=seq).update(actor_label="insider")
    result = _parallel()
    assert not result.ok
    assert result.first_bad_seq == seq
    assert result == audit_chain_verify()


@committed
@pytest.mark.parametrize("seq", [2, 30, 31, 60, 61, 150])
def test_two_processes_name_the_same_deleted_event(long_chain, seq):
    raw = AuditEvent.objects.filter(seq=seq)
    raw._raw_delete(raw.db)
    result = _parallel()
    assert (result.ok, result.first_bad_seq) == (False, seq)
    assert result.problem == f"event #{seq} is missing (next is #{seq + 1})"
    assert result == audit_chain_verify()


@committed
def test_two_processes_catch_a_rehash_across_a_junction(long_chain):
    """#30 ends a piece and #31 starts the next, from #30's stored hash: a forged hash on #30
    that #31 links to still fails #30's own piece."""
    AuditEvent.objects.filter(seq=30).update(hash="e" * 64)
    AuditEvent.objects.filter(seq=31).update(prev_hash="e" * 64)
    result = _parallel()
    assert (result.ok, result.first_bad_seq) == (False, 30)
    assert result == audit_chain_verify()


# --- the tail after the newest checkpoint -------------------------------------------------------


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("audit", "verify", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _verify_fails(*args: str) -> str:
    with pytest.raises(CommandError) as error:
        _verify(*args)
    assert error.value.returncode == 1
    return str(error.value)


def _tail_event() -> None:
    audit_record_standalone(
        actor=Actor.system("test"),
        action="test.tail",
        object_type="test",
        object_id="tail",
        now=timezone.now(),
    )


@pytest.mark.django_db
def test_since_last_checkpoint_walks_only_the_tail():
    _events(20)
    checkpoint = audit_checkpoint_write(now=timezone.now()).checkpoint
    assert checkpoint is not None and checkpoint.seq == 20
    _tail_event()
    _tail_event()
    assert "OK: 2 events after checkpoint #20" in _verify("--since-last-checkpoint")
    assert "OK: 22 events," in _verify()
    # An edit before the checkpoint that leaves the signed event's hash alone is for the full
    # check: the tail check trusts the signature (docs/audit.md).
    AuditEvent.objects.filter(seq=5).update(actor_label="insider")
    assert "OK: 2 events after checkpoint #20" in _verify("--since-last-checkpoint")
    assert "audit chain broken at event #5" in _verify_fails()


@pytest.mark.django_db
def test_since_last_checkpoint_names_a_broken_tail_event():
    _events(20)
    audit_checkpoint_write(now=timezone.now())
    for _ in range(3):
        _tail_event()
    AuditEvent.objects.filter(seq=22).update(action="request.approved")
    message = _verify_fails("--since-last-checkpoint")
    assert "audit chain broken at event #22" in message
    assert "(1 events verified after checkpoint #20 before it)" in message


@pytest.mark.django_db
def test_since_last_checkpoint_does_not_anchor_on_a_checkpoint_that_no_longer_matches():
    _events(20)
    audit_checkpoint_write(now=timezone.now())
    _tail_event()
    AuditEvent.objects.filter(seq=20).update(hash="d" * 64)  # the signed event re-hashed
    message = _verify_fails("--since-last-checkpoint")
    assert "no longer has the hash it signed" in message
    # ... and the whole chain was walked instead, naming the altered event.
    assert "audit chain broken at event #20" in message


@pytest.mark.django_db
def test_since_last_checkpoint_without_a_checkpoint_walks_everything():
    _events(5)
    assert not AuditCheckpoint.objects.exists()
    assert "OK: 5 events (no checkpoint yet: the whole chain)" in _verify("--since-last-checkpoint")


@pytest.mark.parametrize("seq", [1, 9, 10, 123_456_789_012])
def test_the_append_path_hashes_the_bytes_event_hash_hashes(seq):
    """The append computes the body before the chain lock and adds ``seq`` under it."""
    fields = {
        "occurred_at": datetime(2026, 3, 1, 20, 0, 0, 7, tzinfo=dt_timezone(timedelta(hours=8))),
        "actor_kind": "OFFICER",
        "actor_id": "7",
        "actor_label": "警務處 \u2028 O'Brien",
        "action": "request.received",
        "object_type": "legal_request",
        "object_id": "42",
        "data": {"seq": 3, "zz": [1.5, None], "é": {"b": 1, "a": 2}},
    }
    assert sequenced_hash(
        prev_hash="a" * 64, seq=seq, unsequenced=unsequenced_body(**fields)
    ) == event_hash(prev_hash="a" * 64, seq=seq, **fields)


# --- the data column holds the canonical bytes ------------------------------------------------


def _stored_data(seq: int) -> str:
    column = "data::text" if connection.vendor == "postgresql" else "data"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM audit_auditevent WHERE seq = %s", [seq])  # noqa: S608
        return cursor.fetchone()[0]


def _store_data(seq: int, text: str) -> None:
    cast = "::json" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE audit_auditevent SET data = %s{cast} WHERE seq = %s",  # noqa: S608
            [text, seq],
        )


@pytest.mark.django_db
def test_the_data_is_stored_as_the_canonical_bytes_the_hash_covers():
    _events(3)
    with transaction.atomic():
        audit_record_standalone(
            actor=Actor.system("test"),
            action="test.single",
            object_type="test",
            object_id="x",
            data={"b": ["二", 1.5], "a": None},
            now=timezone.now(),
        )
    for event in AuditEvent.objects.order_by("seq"):
        text = _stored_data(event.seq)
        assert text == canonical_json(event.data).decode("utf-8")
        assert json.loads(text) == event.data
    assert _stored_data(4) == '{"a":null,"b":["二",1.5]}'
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_a_row_stored_in_another_form_of_the_same_data_still_verifies():
    """Rows written before the column kept the canonical text (Django's JSON with spaces and
    ASCII escapes) verify by re-encoding, and the migration rewrites them canonical."""
    _events(5)
    value = AuditEvent.objects.get(seq=3).data
    _store_data(3, json.dumps(value))  # spaces, "\\u00fc": what the column held before
    assert _stored_data(3) != canonical_json(value).decode("utf-8")
    result = audit_chain_verify()
    assert result.ok and result.count == 5
    migration = importlib.import_module("govreq.audit.migrations.0003_data_stored_canonical")
    migration.store_canonical(None, SimpleNamespace(connection=connection))
    assert _stored_data(3) == canonical_json(value).decode("utf-8")
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_a_changed_value_in_the_stored_text_is_named_as_altered():
    _events(5)
    value = AuditEvent.objects.get(seq=3).data
    _store_data(3, canonical_json({**value, "a": {**value["a"], "n": 99}}).decode("utf-8"))
    result = audit_chain_verify()
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "was altered" in result.problem


@pytest.mark.django_db
def test_stored_text_that_is_not_json_is_named_as_altered():
    _events(2)
    rows = _tuples()
    # As the raw verification reads it: the data column's text.
    text_rows = [
        (seq, at.isoformat(timespec="microseconds"), *rest[:6], data, *rest[7:])
        for seq, at, *rest in rows
        for data in [canonical_json(rest[6]).decode("utf-8")]
    ]
    assert verify_tuples(text_rows, as_text=True).ok
    broken = [text_rows[0], (*text_rows[1][:8], '{"a":', *text_rows[1][9:])]
    result = verify_tuples(broken, as_text=True)
    assert not result.ok and result.first_bad_seq == 2


# --- the database writes the text each hash covers ------------------------------------------

AWKWARD = '\x01\x1f\b\f\n\r\t\x7f "q" \\ / \u2028 é 警 😀'


@pytest.mark.django_db
def test_the_database_writes_exactly_the_text_each_hash_covers():
    """The payload the database writes (its own JSON quoting of every string) hashes to the
    stored hash for awkward strings too (control characters, quotes, backslashes, non-ASCII),
    so verification never needs to read an untouched event again."""
    moment = datetime(2026, 3, 1, 12, 0, 0, 0, tzinfo=UTC)  # no fraction: SQLite's short form
    with transaction.atomic():
        _append(
            [
                {
                    "occurred_at": moment + timedelta(microseconds=i),
                    "actor_kind": "SYSTEM",
                    "actor_id": AWKWARD,
                    "actor_label": AWKWARD[::-1],
                    "action": f"test.{i}",
                    "object_type": AWKWARD,
                    "object_id": AWKWARD + str(i),
                    "data": {AWKWARD: [AWKWARD, i, 0.1]},
                }
                for i in range(3)
            ]
        )
    rows = list(_raw_rows(_PAYLOAD_SQL[connection.vendor], 0, None))
    assert len(rows) == 3
    for _seq, prev_hash, stored_hash, payload in rows:
        assert sha256_hex((prev_hash + payload).encode("utf-8")) == stored_hash

    def never(seq: int) -> None:
        raise AssertionError(f"event #{seq} was read again")

    assert verify_payloads(rows, event_as_text=never).ok


@pytest.mark.django_db
def test_a_payload_written_differently_is_checked_again_from_the_columns():
    """Should the database's writing of the text ever differ from the hash's, the event is
    checked from its columns: an untouched one passes, an altered one is named."""
    _events(3)
    rows = list(_raw_rows(_PAYLOAD_SQL[connection.vendor], 0, None))
    differently = [rows[0], (*rows[1][:3], rows[1][3].replace(":", ": ", 1)), rows[2]]
    reread: list[int] = []

    def again(seq: int) -> tuple | None:
        reread.append(seq)
        return _event_as_text(seq)

    result = verify_payloads(differently, event_as_text=again)
    assert result.ok and result.count == 3 and reread == [2]

    value = AuditEvent.objects.get(seq=2).data
    _store_data(2, canonical_json({**value, "": "changed"}).decode("utf-8"))
    rows = list(_raw_rows(_PAYLOAD_SQL[connection.vendor], 0, None))
    result = verify_payloads(rows, event_as_text=_event_as_text)
    assert not result.ok and result.first_bad_seq == 2 and result.count == 1
    assert "was altered" in result.problem


# --- PostgreSQL hashes every event itself and sends only those that need a look ---------------

POSTGRES = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="the database hashes the events on PostgreSQL only (DATABASE_URL)",
)


def _flagged() -> list[tuple]:
    return list(_raw_rows(_FLAGGED_SQL["postgresql"], 0, None))


@POSTGRES
@pytest.mark.django_db
def test_an_untouched_chain_sends_only_its_first_and_last_events():
    _events(50)
    rows = _flagged()
    assert [(seq, ok) for seq, _prev, _hash, ok, *_ in rows] == [(1, True), (50, True)]
    result = verify_flagged(rows, event_as_text=_never_read_again)
    assert (result.ok, result.count) == (True, 50)
    assert result == verify_tuples(_tuples())
    # One event is both the first and the last; a range with none sends nothing.
    assert len(list(_raw_rows(_FLAGGED_SQL["postgresql"], 49, None))) == 1
    assert verify_flagged([], after_seq=50, after_hash=result.head_hash, event_as_text=None).ok


def _never_read_again(seq: int) -> None:
    raise AssertionError(f"event #{seq} was read again")


class _Undone(Exception):
    pass


def _forged_hash(row: AuditEvent, prev_hash: str) -> str:
    fields = ("seq", "occurred_at", "actor_kind", "actor_id", "actor_label", "action")
    return event_hash(
        prev_hash=prev_hash,
        object_type=row.object_type,
        object_id=row.object_id,
        data=row.data,
        **{name: getattr(row, name) for name in fields},
    )


def _rehash(seq: int) -> None:
    """Alter an event and give it the hash of its altered text (the next event still links to
    the old one)."""
    row = AuditEvent.objects.get(seq=seq)
    row.object_id = "elsewhere"
    forged = _forged_hash(row, row.prev_hash)
    AuditEvent.objects.filter(seq=seq).update(object_id=row.object_id, hash=forged)


def _rechain(after: int, prev_hash: str) -> None:
    """An insider rewriting history: every event after #``after`` chained again, each hash
    remade, from ``prev_hash``; only the numbering and the first link can still tell."""
    for row in AuditEvent.objects.filter(seq__gt=after).order_by("seq"):
        forged = _forged_hash(row, prev_hash)
        AuditEvent.objects.filter(seq=row.seq).update(prev_hash=prev_hash, hash=forged)
        prev_hash = forged


def _hash_of(seq: int) -> str:
    return AuditEvent.objects.get(seq=seq).hash if seq else GENESIS_HASH


def _delete(seq: int) -> None:
    AuditEvent.objects.filter(seq=seq)._raw_delete(connection.alias)


@POSTGRES
@pytest.mark.django_db
@pytest.mark.parametrize("seq", [1, 2, 25, 49, 50])
def test_the_database_flags_each_kind_of_break_as_the_full_walk_names_it(seq):
    """An altered event (its hash no longer matches), a deleted one (the next does not follow)
    and a rehashed one (its hash matches its altered text; the next no longer links to it) are
    each sent, and named as the walk over every event names them; so are a deleted event and
    an event linked to a forged predecessor when every later event was chained again, which
    only the numbering and the first link show. (A rewritten head is no break in the chain:
    checkpoints catch it.)"""
    _events(50)
    breaks = {
        "altered": lambda: AuditEvent.objects.filter(seq=seq).update(object_id="elsewhere"),
        "deleted": lambda: _delete(seq),
        "rehashed": lambda: _rehash(seq),
        "deleted, the rest chained again": lambda: (
            _delete(seq),
            _rechain(seq, _hash_of(seq - 1)),
        ),
        "linked elsewhere, the rest chained again": lambda: _rechain(seq - 1, "f" * 64),
    }
    not_breaks_at_the_head = {"deleted", "rehashed", "deleted, the rest chained again"}
    for name, break_it in breaks.items():
        try:
            with transaction.atomic():
                break_it()
                expected = verify_tuples(_tuples())
                result = verify_flagged(_flagged(), event_as_text=_event_as_text)
                raise _Undone
        except _Undone:
            pass
        assert result == expected
        assert expected.ok == (seq == 50 and name in not_breaks_at_the_head), name


@POSTGRES
@pytest.mark.django_db
def test_a_flagged_event_that_is_untouched_is_read_again_and_passes():
    """Should the database's hashing of its own text ever disagree (its JSON quoting changed in
    an upgrade), the event is read again from its columns: untouched, it passes and is counted."""
    _events(5)
    rows = _flagged()
    first, last = rows
    disagreeing = [first, (3, *_row_of(3)[1:3], False, 2, _row_of(2)[2]), last]
    reread: list[int] = []

    def again(seq: int) -> tuple | None:
        reread.append(seq)
        return _event_as_text(seq)

    result = verify_flagged(disagreeing, event_as_text=again)
    assert (result.ok, result.count, reread) == (True, 5, [3])


def _row_of(seq: int) -> tuple:
    return AuditEvent.objects.values_list("seq", "prev_hash", "hash").get(seq=seq)


# --- strings quoted plainly where that is sound -------------------------------------------------

# Originals whose JSON quoting escapes something, and the escaped text an insider could store
# in their place so that, quoted plainly, it reads as the original's quoting.
ESCAPED_COPIES = [
    ('say "hi"', 'say \\"hi\\"'),
    ("C:\\dir", "C:\\\\dir"),
    ("two\nlines", "two\\nlines"),
    ("bell\x07", "bell\\u0007"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    # actor_kind too is quoted plainly only when that is sound, but a constraint keeps it to
    # three codes (an insider would have to drop it first).
    "column",
    ["action", "actor_id", "actor_label", "object_type", "object_id"],
)
@pytest.mark.parametrize(("original", "copy"), ESCAPED_COPIES)
def test_an_escaped_copy_of_a_string_is_named_as_altered(column, original, copy):
    """Plain quoting is used only where no string holds a quote or a backslash: a string
    replaced by the escaped text of its original never passes for it."""
    _events(3)
    # Every other string plain too (``_events`` gives labels with quotes).
    AuditEvent.objects.filter(seq=2).update(**{"actor_label": "reviewer", column: original})
    row = AuditEvent.objects.get(seq=2)
    _rechain(1, _hash_of(1))  # the original, chained as if recorded so
    assert audit_chain_verify().ok
    AuditEvent.objects.filter(seq=2).update(**{column: copy})
    result = audit_chain_verify()
    assert (result.ok, result.first_bad_seq) == (False, 2), (row, result)
    assert "was altered" in result.problem


@pytest.mark.django_db
def test_a_control_character_without_quotes_is_read_again_and_passes():
    """A string with a control character but no quote or backslash is quoted plainly
    (PostgreSQL), which writes text no hash covers: the event is read again from its columns
    and passes."""
    _events(3)
    AuditEvent.objects.filter(seq=2).update(actor_label="tab\there")
    _rechain(1, _hash_of(1))
    rows = list(_raw_rows(_PAYLOAD_SQL[connection.vendor], 0, None))
    mismatched = [
        seq
        for seq, prev, stored, payload in rows
        if sha256_hex((prev + payload).encode()) != stored
    ]
    # Quoted plainly on PostgreSQL only (SQLite quotes every string as JSON).
    assert mismatched == ([2] if connection.vendor == "postgresql" else [])
    assert audit_chain_verify().ok


# --- events waiting to join the chain ------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_waiting_too_long_is_reported_by_verify():
    """An event committed but not chained (after-commit chaining) is counted; once it has waited
    longer than any running worker lets one wait, `audit verify` fails naming it: no worker is
    chaining them."""
    UnchainedEvent.objects.create(
        occurred_at=timezone.now(),
        actor_kind="SYSTEM",
        action="test.waiting",
        object_type="test",
        object_id="1",
        body=b"{}",
    )
    assert "1 event(s) waiting to be chained" in _verify()
    UnchainedEvent.objects.update(recorded_at=timezone.now() - timedelta(minutes=2))
    assert "1 audit event(s) committed but not chained" in _verify_fails()


# --- what the review of the database's hashing found ---------------------------------------------


def _walk_as_verify_does(event_as_text) -> ChainVerification:
    """The rows the database sends for the whole chain, checked as ``audit_chain_verify`` checks
    them, with ``event_as_text`` for events read again."""
    if connection.vendor == "postgresql":
        return verify_flagged(_flagged(), event_as_text=event_as_text)
    rows = list(_raw_rows(_PAYLOAD_SQL[connection.vendor], 0, None))
    return verify_payloads(rows, event_as_text=event_as_text)


@pytest.mark.django_db
def test_an_event_that_changes_between_its_two_readings_never_passes():
    """An altered event is read again; rehashed in between (and the events after it left as
    first read and checked), it must not pass on its new hash."""
    _events(10)
    AuditEvent.objects.filter(seq=5).update(object_id="elsewhere")

    def rehashed_first(seq: int) -> tuple | None:
        _rehash(seq)
        return _event_as_text(seq)

    result = _walk_as_verify_does(rehashed_first)
    assert (result.ok, result.first_bad_seq, result.count) == (False, 5, 4)
    assert result.problem == "event #5 changed while it was verified"


@POSTGRES
@pytest.mark.django_db
@pytest.mark.parametrize(
    "moment",
    [
        # The same digits in the year 2026 before Christ: to_char writes no era.
        "(to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || ' BC')::timestamp"
        " AT TIME ZONE 'UTC'",
        "'infinity'",  # no text at all
    ],
)
def test_a_moment_the_hash_cannot_cover_is_named_as_altered(moment):
    _events(5)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE audit_auditevent SET occurred_at = {moment} WHERE seq = 3")  # noqa: S608
    result = audit_chain_verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "was altered" in result.problem


@POSTGRES
@pytest.mark.django_db
def test_a_string_with_a_quote_and_no_backslash_is_quoted_as_json():
    """Plain quoting needs no quote either: the database quotes such a string as JSON, so the
    untouched event hashes right the first time."""
    _events(3)
    AuditEvent.objects.filter(seq=2).update(actor_label='say "hi"')
    _rechain(1, _hash_of(1))
    result = verify_flagged(_flagged(), event_as_text=_never_read_again)
    assert (result.ok, result.count) == (True, 3)
