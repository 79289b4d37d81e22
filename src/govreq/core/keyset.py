"""Keyset (cursor) pagination: a page is "the next N rows after this one in this order", so a
deep page costs what the first does, and rows inserted meanwhile never shift a page.

A list is one or more *segments* (querysets shown one after another, for an order whose first
part has few values, such as "emergencies first") sharing one key order. The keys must identify
a row (end with the primary key) and be non-null. The cursor is opaque: the position (segment and
key values), the direction, and a digest of the list's name, order, filters and caller, signed
with the secret key, so a tampered cursor, or one from another list, filter or agency, is
refused (422 naming ``cursor``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.core import signing
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import BooleanField, F, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import ValuesIterable
from django.db.models.sql.compiler import SQLCompiler
from django.utils.dateparse import parse_datetime

from govreq.core.errors import ValidationFailed

CURSOR_SALT = "govreq.keyset.cursor"


@dataclass(frozen=True, kw_only=True)
class Key:
    """One column of the order: a field or annotation present on every segment's rows."""

    name: str
    descending: bool = False


class KeysetList:
    """An ordered list to page through: ``segments`` in turn, each in ``keys`` order.

    ``segments`` may be a function that builds them, called only when a page needs them.

    ``shape`` (optional, hashable) names everything, besides a cursor's values, that decides the
    segments' SQL and its parameters: the selector's name and the arguments it was given. The
    first page of a shape is compiled as usual, and the SQL is kept (per database connection,
    the most recent ``STATEMENTS_KEPT``); later pages of that shape run it with the cursor's
    values, without building or compiling the querysets again. Give a shape only when the
    segments are a function of those arguments alone (not of the clock, the database or
    anything else), and only for ``values()`` rows; otherwise leave it None.
    """

    def __init__(
        self,
        *,
        segments: Sequence[QuerySet[Any]] | Callable[[], Sequence[QuerySet[Any]]],
        keys: Sequence[Key],
        shape: Hashable | None = None,
    ) -> None:
        self._segments = segments
        self.keys = tuple(keys)
        self.shape = shape

    @cached_property
    def segments(self) -> Sequence[QuerySet[Any]]:
        return self._segments() if callable(self._segments) else self._segments


@dataclass(frozen=True, kw_only=True)
class Position:
    segment: int
    values: tuple[Any, ...]


@dataclass(frozen=True, kw_only=True)
class KeysetPage:
    """One page; ``next_cursor``/``previous_cursor`` are None where there is nothing more."""

    items: list[Any]
    next_cursor: str | None
    previous_cursor: str | None
    page_size: int
    extra: dict[str, Any] = field(default_factory=dict)

    # Enough of django.core.paginator.Page for templates to iterate and link.
    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def object_list(self) -> list[Any]:
        return self.items

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def list_shape(name: str, **arguments: Any) -> Hashable | None:
    """A ``KeysetList.shape`` for the selector ``name`` given ``arguments``: None (compiled on
    every page) when an argument is not a plain value (a filter expression, say), so that a
    shape is never taken for another whose values merely compare equal."""

    def plain(value: Any) -> Hashable:
        if isinstance(value, datetime):
            # An instant (two equal aware times may differ by their fold); a naive time with it.
            if value.tzinfo is not None and value.utcoffset() is not None:
                return ("datetime", value.astimezone(UTC))
            return ("naive datetime", value, value.fold)
        if value is None or isinstance(value, (str, int, float)):
            return (type(value).__name__, value)  # True is not 1, "1" is not 1
        if isinstance(value, Model) and value.pk is not None:
            return (value._meta.label, value.pk)
        if isinstance(value, (list, tuple, frozenset, set)):
            items = [plain(item) for item in value]
            return (
                tuple(sorted(items, key=repr))
                if isinstance(value, (set, frozenset))
                else tuple(items)
            )
        raise TypeError(value)

    try:
        return (name, tuple((key, plain(arguments[key])) for key in sorted(arguments)))
    except TypeError:
        return None


def binding_digest(binding: Mapping[str, Any]) -> str:
    """What a cursor is bound to: the list, its order and filters, and whose view it is."""
    text = json.dumps(binding, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        return datetime.fromisoformat(value["t"])
    return value


def cursor_encode(*, position: Position, backwards: bool, binding: Mapping[str, Any]) -> str:
    return _cursor_encode(position, backwards, binding_digest(binding))


def _cursor_encode(position: Position, backwards: bool, digest: str) -> str:
    payload = {
        "b": digest,
        "s": position.segment,
        "k": [_encode_value(v) for v in position.values],
        "d": "p" if backwards else "n",
    }
    # Signed, not timestamped (a cursor does not expire): the same page always has the same
    # cursors, and signing costs half of signing.dumps.
    return signing.Signer(salt=CURSOR_SALT).sign_object(payload)


def cursor_decode(cursor: str, *, binding: Mapping[str, Any]) -> tuple[Position, bool]:
    """The position and direction in ``cursor``; ValidationFailed naming ``cursor`` when it was
    altered or belongs to another list, order, filter or caller."""
    return _cursor_decode(cursor, binding_digest(binding))


def _cursor_decode(cursor: str, digest: str) -> tuple[Position, bool]:
    try:
        payload = signing.Signer(salt=CURSOR_SALT).unsign_object(cursor)
        if payload["b"] != digest:
            raise ValidationFailed.single(
                "cursor", "belongs to another list, order or filter: start again without it"
            )
        position = Position(
            segment=int(payload["s"]), values=tuple(_decode_value(v) for v in payload["k"])
        )
        backwards = payload["d"] == "p"
    except ValidationFailed:
        raise
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationFailed.single("cursor", "is not a cursor this list gave out") from None
    return position, backwards


def _beyond(
    queryset: QuerySet[Any], keys: Sequence[Key], values: Sequence[Any], *, backwards: bool
) -> QuerySet[Any]:
    """The rows of ``queryset`` strictly after ``values`` in key order (before, ``backwards``)."""
    if len(values) != len(keys):
        raise ValidationFailed.single("cursor", "is not a cursor this list gave out")
    columns = _columns(queryset, keys)
    if columns is not None:
        params = [
            prepare(value, connection, prepared=False)
            for prepare, value in zip(_preparers(queryset, keys), values, strict=True)
        ]
        return queryset.filter(_row_comparison(columns, params, keys, backwards=backwards))
    alternatives = Q(pk__in=[])
    for i, key in enumerate(keys):
        later = key.descending == backwards  # ascending forwards: greater
        condition = Q(**{f"{key.name}__{'gt' if later else 'lt'}": values[i]})
        for earlier, value in zip(keys[:i], values[:i], strict=True):
            condition &= Q(**{earlier.name: value})
        alternatives |= condition
    # A redundant bound on the first key, so the database starts its index scan at the cursor
    # instead of filtering every row before it.
    first = keys[0]
    bound = "gte" if first.descending == backwards else "lte"
    return queryset.filter(Q(**{f"{first.name}__{bound}": values[0]}) & alternatives)


def _row_comparison(
    columns: Sequence[str], params: Sequence[Any], keys: Sequence[Key], *, backwards: bool
) -> RawSQL:
    """Every key a column, all in one direction: one row-value comparison, which the database
    reads as a range of the index in that order (PostgreSQL; SQLite 3.15 on), and which costs a
    fraction of the expanded form to build and compile."""
    later = keys[0].descending == backwards
    marks = ", ".join(["%s"] * len(keys))
    return RawSQL(  # noqa: S611 (quoted model columns; every value a parameter)
        f"({', '.join(columns)}) {'>' if later else '<'} ({marks})",
        list(params),
        output_field=BooleanField(),
    )


def _preparers(queryset: QuerySet[Any], keys: Sequence[Key]) -> list[Callable[..., Any]]:
    """How each key's value is written as a query parameter (the key fields' own conversion)."""
    meta = queryset.model._meta
    return [
        meta.get_field("id" if key.name == "pk" else key.name).get_db_prep_value for key in keys
    ]


def _columns(queryset: QuerySet[Any], keys: Sequence[Key]) -> list[str] | None:
    """The keys as the quoted, table-qualified columns of the queryset's own table; None when a
    key is not such a column (an annotation) or the keys go in different directions."""
    if len({key.descending for key in keys}) != 1:
        return None
    meta = queryset.model._meta
    table = connection.ops.quote_name(meta.db_table)
    columns = []
    for key in keys:
        if key.name in queryset.query.annotations:
            return None
        try:
            field = meta.get_field("id" if key.name == "pk" else key.name)
        except FieldDoesNotExist:
            return None
        column = getattr(field, "column", None)
        if column is None:
            return None
        columns.append(f"{table}.{connection.ops.quote_name(column)}")
    return columns


def _ordering(keys: Sequence[Key], *, backwards: bool) -> list[Any]:
    return [
        F(key.name).asc() if key.descending == backwards else F(key.name).desc() for key in keys
    ]


def _values_of(row: Model | Mapping[str, Any], keys: Sequence[Key]) -> tuple[Any, ...]:
    """The row's key values: a model instance, or a ``values()`` row (a projection that names
    every key)."""
    if isinstance(row, Mapping):
        return tuple(row["id" if key.name == "pk" else key.name] for key in keys)
    return tuple(getattr(row, "pk" if key.name in ("id", "pk") else key.name) for key in keys)


# --- the SQL of a list's shape, compiled once --------------------------------------------------
#
# Building and compiling a list's querysets costs more than running the SQL they compile to (a
# page of the queue: about 0.6 ms to build, 0.2 ms to compile, 0.1 ms to run, on SQLite). For a
# list with a shape, each (segment, direction, cursor or not, row limit) is compiled once, the
# cursor's values standing in as unique marker objects, which are then found again among the
# compiled parameters; later pages run that SQL with the parameters in those places.

STATEMENTS_KEPT = 256

# The test suite sets this: a page run from a kept statement is compiled again as well, and the
# two must be the same SQL with the same parameters, so that a shape leaving out an argument
# that changes them fails whichever test pages that list twice.
CHECK_KEPT = False


@dataclass(frozen=True, kw_only=True)
class _Statement:
    sql: str | None  # None: the segment can have no rows (EmptyResultSet when compiled)
    params: tuple[Any, ...]
    slots: tuple[int, ...]  # where each key's value goes among ``params``
    preparers: tuple[Callable[..., Any], ...]
    names: tuple[str, ...]
    compiler: SQLCompiler
    converters: dict[int, Any]
    columns: int | None  # rows are cut to this many columns (the compiler added some)
    prepared: tuple[str, str] | None = None  # PostgreSQL: the statement's name and its SQL

    def rows(self, values: Sequence[Any] | None) -> list[dict[str, Any]]:
        if self.sql is None:
            return []
        database = self.compiler.connection
        params = list(self.params)
        for slot, prepare, value in zip(self.slots, self.preparers, values or (), strict=True):
            params[slot] = prepare(value, database, prepared=False)
        with database.cursor() as cursor:
            if self.prepared is not None:
                _prepare(cursor, database, *self.prepared)
                marks = ", ".join(["%s"] * len(params))
                cursor.execute(
                    f"EXECUTE {self.prepared[0]}{f' ({marks})' if params else ''}", params
                )
            else:
                cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        if self.columns is not None:
            fetched = [row[: self.columns] for row in fetched]
        if self.converters:
            fetched = list(self.compiler.apply_converters(fetched, self.converters))
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in fetched]


# The statement names prepared on each database session, keyed by psycopg's connection (which
# Django's connection pool may hand from one Django connection object to another). A prepared
# statement lasts as long as its session, whatever becomes of the transaction that prepared it.
_prepared: WeakKeyDictionary[Any, set[str]] = WeakKeyDictionary()
_prepared_lock = threading.Lock()


def _prepare(cursor: Any, database: Any, name: str, sql: str) -> None:
    """Prepare ``sql`` as ``name`` on the connection's session unless it already is."""
    session = database.connection
    with _prepared_lock:
        names = _prepared.get(session)
        if names is None:
            names = _prepared[session] = set()
    if name not in names:
        cursor.execute(f"PREPARE {name} AS {sql}")
        names.add(name)


def _numbered(sql: str) -> str:
    """Django's SQL with its ``%s`` parameters numbered as PostgreSQL's ``$1``, ``$2``..."""
    numbers = iter(range(1, sql.count("%s") + 1))
    return re.sub(r"%[s%]", lambda m: f"${next(numbers)}" if m[0] == "%s" else "%", sql)


_NOT_KEPT = object()  # a (shape, ...) whose pages are built each time (see _compile)
_kept_lock = threading.Lock()


def _kept() -> OrderedDict[Hashable, Any]:
    """The statements kept for this thread's connection: on the connection object itself, so
    they go with it (a statement refers to its connection)."""
    database = connections[DEFAULT_DB_ALIAS]
    kept = database.__dict__.get("govreq_keyset_statements")
    if kept is None:
        kept = database.__dict__.setdefault("govreq_keyset_statements", OrderedDict())
    return kept


def _kept_get(key: Hashable) -> Any:
    kept = _kept()
    with _kept_lock:
        found = kept.get(key)
        if found is not None:
            kept.move_to_end(key)
        return found


def _kept_put(key: Hashable, value: Any) -> None:
    kept = _kept()
    with _kept_lock:
        kept[key] = value
        while len(kept) > STATEMENTS_KEPT:
            kept.popitem(last=False)


def _segment_count(listing: KeysetList) -> int:
    if listing.shape is None:
        return len(listing.segments)
    key = ("segments", listing.shape)
    count = _kept_get(key)
    if count is None:
        count = len(listing.segments)
        _kept_put(key, count)
    elif CHECK_KEPT and count != len(listing.segments):
        raise AssertionError(f"the list of shape {listing.shape!r} has another number of segments")
    return int(count)


def _segment_rows(
    listing: KeysetList,
    segment: int,
    values: Sequence[Any] | None,
    *,
    backwards: bool,
    limit: int,
) -> list[Any]:
    """The first ``limit`` rows of the segment (after ``values``, when given) in key order."""
    keys = listing.keys
    statement = None
    if listing.shape is not None:
        key = ("rows", listing.shape, segment, backwards, values is not None, limit)
        statement = _kept_get(key)
        if statement is None:
            statement = _compile(
                listing.segments[segment],
                keys,
                cursor=values is not None,
                backwards=backwards,
                limit=limit,
            )
            _kept_put(key, statement or _NOT_KEPT)
        if isinstance(statement, _Statement):
            if values is not None and len(values) != len(keys):
                raise ValidationFailed.single("cursor", "is not a cursor this list gave out")
            if CHECK_KEPT:
                _check(statement, listing, segment, values, backwards=backwards, limit=limit)
            return statement.rows(values)
    queryset = listing.segments[segment]
    if values is not None:
        queryset = _beyond(queryset, keys, values, backwards=backwards)
    return list(queryset.order_by(*_ordering(keys, backwards=backwards))[:limit])


def _check(
    kept: _Statement,
    listing: KeysetList,
    segment: int,
    values: Sequence[Any] | None,
    *,
    backwards: bool,
    limit: int,
) -> None:
    fresh = _compile(
        listing.segments[segment],
        listing.keys,
        cursor=values is not None,
        backwards=backwards,
        limit=limit,
    )
    if fresh is None or (fresh.sql, fresh.slots, fresh.names) != (kept.sql, kept.slots, kept.names):
        raise AssertionError(f"the list of shape {listing.shape!r} compiles to other SQL")
    params = [p for i, p in enumerate(fresh.params) if i not in fresh.slots]
    if params != [p for i, p in enumerate(kept.params) if i not in kept.slots]:
        raise AssertionError(f"the list of shape {listing.shape!r} has other parameters")


def _compile(
    queryset: QuerySet[Any], keys: Sequence[Key], *, cursor: bool, backwards: bool, limit: int
) -> _Statement | None:
    """The segment's page as SQL to run again; None where it is not kept: rows that are not
    ``values()`` dicts, another database, or a cursor on keys that are not plain columns."""
    if queryset.db != DEFAULT_DB_ALIAS or queryset._iterable_class is not ValuesIterable:
        return None
    marks: tuple[object, ...] = ()
    if cursor:
        columns = _columns(queryset, keys)
        if columns is None:
            return None
        marks = tuple(object() for _ in keys)
        queryset = queryset.filter(_row_comparison(columns, marks, keys, backwards=backwards))
    queryset = queryset.order_by(*_ordering(keys, backwards=backwards))[:limit]
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    names = (
        tuple(query.selected)
        if query.selected
        else (*query.extra_select, *query.values_select, *query.annotation_select)
    )
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _Statement(
            sql=None,
            params=(),
            slots=(),
            preparers=(),
            names=names,
            compiler=compiler,
            converters={},
            columns=None,
        )
    slots = []
    for mark in marks:
        found = [i for i, param in enumerate(params) if param is mark]
        if len(found) != 1:
            return None
        slots.append(found[0])
    selected = [s[0] for s in compiler.select[0 : compiler.col_count]]
    prepared = None
    if compiler.connection.vendor == "postgresql":
        # Parsing and planning the joins cost more than running the page: prepared once per
        # session. The name covers the text and the list's own parameters (an agency, the
        # statuses), so a plan PostgreSQL keeps generic (plan_cache_mode = auto: where it is no
        # dearer than planning for the values at hand) generalises over cursors only, never
        # from one agency or status to another, whose rows may be few or the whole history.
        numbered = _numbered(sql)
        fixed = [repr(p) for i, p in enumerate(params) if i not in slots]
        digest = hashlib.sha256("\0".join([numbered, *fixed]).encode()).hexdigest()[:24]
        prepared = (f"govreq_keyset_{digest}", numbered)
    return _Statement(
        prepared=prepared,
        sql=sql,
        params=tuple(params),
        slots=tuple(slots),
        preparers=tuple(_preparers(queryset, keys)) if cursor else (),
        names=names,
        compiler=compiler,
        converters=_converters(compiler, selected),
        columns=compiler.col_count if compiler.has_extra_select else None,
    )


def _converters(compiler: SQLCompiler, selected: list[Any]) -> dict[int, Any]:
    """The compiler's converters for the selected columns, where one does the work of Django's
    faster: on SQLite, sqlite3 has already parsed each datetime column (PARSE_DECLTYPES), and
    Django then makes each value aware in the connection's zone, asking the settings each time;
    with that zone UTC, a moment is made aware by ``replace``. That was a third of a page of 25
    (scripts/bench_lists.py)."""
    converters = compiler.get_converters(selected)
    database = compiler.connection
    if database.vendor != "sqlite" or not settings.USE_TZ or database.timezone_name != "UTC":
        return converters
    django_datetime = getattr(type(database.ops), "convert_datetimefield_value", None)
    return {
        position: (
            [
                _aware_in_utc
                if getattr(converter, "__func__", None) is django_datetime
                else converter
                for converter in convs
            ],
            expression,
        )
        for position, (convs, expression) in converters.items()
    }


def _aware_in_utc(value: Any, expression: Any, database: Any) -> Any:
    """Django's SQLite ``convert_datetimefield_value`` for a connection in UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def keyset_page(
    listing: KeysetList,
    *,
    cursor: str | None,
    page_size: int,
    binding: Mapping[str, Any],
) -> KeysetPage:
    """The page of ``listing`` that ``cursor`` points to (the first page without one)."""
    keys = listing.keys
    digest = binding_digest(binding)
    if cursor:
        position, backwards = _cursor_decode(cursor, digest)
    else:
        position, backwards = None, False
    found: list[tuple[int, Any]] = []
    wanted = page_size + 1  # one more tells whether there is a further page
    count = _segment_count(listing)
    if position is not None and not 0 <= position.segment < count:
        raise ValidationFailed.single("cursor", "is not a cursor this list gave out")
    start = position.segment if position else (count - 1 if backwards else 0)
    order = range(start, -1, -1) if backwards else range(start, count)
    for segment in order:
        values = position.values if position is not None and segment == position.segment else None
        rows = _segment_rows(
            listing, segment, values, backwards=backwards, limit=wanted - len(found)
        )
        found.extend((segment, row) for row in rows)
        if len(found) >= wanted:
            break
    more = len(found) > page_size
    found = found[:page_size]
    if backwards:
        found.reverse()

    def cursor_at(entry: tuple[int, Any], *, back: bool) -> str:
        segment, row = entry
        return _cursor_encode(Position(segment=segment, values=_values_of(row, keys)), back, digest)

    # Moving on from a cursor, the page it came from is behind; moving back, ahead.
    has_next = more if not backwards else True
    has_previous = (more if backwards else position is not None) and bool(found)
    return KeysetPage(
        items=[row for _, row in found],
        next_cursor=cursor_at(found[-1], back=False) if has_next and found else None,
        previous_cursor=cursor_at(found[0], back=True) if has_previous else None,
        page_size=page_size,
    )
