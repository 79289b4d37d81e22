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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import BooleanField, F, Model, Q, QuerySet
from django.db.models.expressions import RawSQL

from govreq.core.errors import ValidationFailed

CURSOR_SALT = "govreq.keyset.cursor"


@dataclass(frozen=True, kw_only=True)
class Key:
    """One column of the order: a field or annotation present on every segment's rows."""

    name: str
    descending: bool = False


@dataclass(frozen=True, kw_only=True)
class KeysetList:
    """An ordered list to page through: ``segments`` in turn, each in ``keys`` order."""

    segments: Sequence[QuerySet[Any]]
    keys: Sequence[Key]


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
    payload = {
        "b": binding_digest(binding),
        "s": position.segment,
        "k": [_encode_value(v) for v in position.values],
        "d": "p" if backwards else "n",
    }
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


def cursor_decode(cursor: str, *, binding: Mapping[str, Any]) -> tuple[Position, bool]:
    """The position and direction in ``cursor``; ValidationFailed naming ``cursor`` when it was
    altered or belongs to another list, order, filter or caller."""
    try:
        payload = signing.loads(cursor, salt=CURSOR_SALT)
        if payload["b"] != binding_digest(binding):
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
        # Every key a column, all in one direction: one row-value comparison, which the database
        # reads as a range of the index in that order (PostgreSQL; SQLite 3.15 on), and which
        # costs a fraction of the expanded form below to build and compile.
        later = keys[0].descending == backwards
        fields = [queryset.model._meta.get_field(key.name) for key in keys]
        params = [
            field.get_db_prep_value(value, connection, prepared=False)
            for field, value in zip(fields, values, strict=True)
        ]
        marks = ", ".join(["%s"] * len(keys))
        comparison = RawSQL(  # noqa: S611 (quoted model columns; every value a parameter)
            f"({', '.join(columns)}) {'>' if later else '<'} ({marks})",
            params,
            output_field=BooleanField(),
        )
        return queryset.filter(comparison)
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


def keyset_page(
    listing: KeysetList,
    *,
    cursor: str | None,
    page_size: int,
    binding: Mapping[str, Any],
) -> KeysetPage:
    """The page of ``listing`` that ``cursor`` points to (the first page without one)."""
    keys = listing.keys
    if cursor:
        position, backwards = cursor_decode(cursor, binding=binding)
        if not 0 <= position.segment < len(listing.segments):
            raise ValidationFailed.single("cursor", "is not a cursor this list gave out")
    else:
        position, backwards = None, False
    found: list[tuple[int, Any]] = []
    wanted = page_size + 1  # one more tells whether there is a further page
    start = position.segment if position else (len(listing.segments) - 1 if backwards else 0)
    order = range(start, -1, -1) if backwards else range(start, len(listing.segments))
    for segment in order:
        queryset = listing.segments[segment]
        if position is not None and segment == position.segment:
            queryset = _beyond(queryset, keys, position.values, backwards=backwards)
        rows = list(queryset.order_by(*_ordering(keys, backwards=backwards))[: wanted - len(found)])
        found.extend((segment, row) for row in rows)
        if len(found) >= wanted:
            break
    more = len(found) > page_size
    found = found[:page_size]
    if backwards:
        found.reverse()

    def cursor_at(entry: tuple[int, Any], *, back: bool) -> str:
        segment, row = entry
        return cursor_encode(
            position=Position(segment=segment, values=_values_of(row, keys)),
            backwards=back,
            binding=binding,
        )

    # Moving on from a cursor, the page it came from is behind; moving back, ahead.
    has_next = more if not backwards else True
    has_previous = (more if backwards else position is not None) and bool(found)
    return KeysetPage(
        items=[row for _, row in found],
        next_cursor=cursor_at(found[-1], back=False) if has_next and found else None,
        previous_cursor=cursor_at(found[0], back=True) if has_previous else None,
        page_size=page_size,
    )
