"""Pagination with a hard upper bound on page size: keyset cursors (``core.keyset``) for the
request lists, whose histories grow without bound, and page numbers for short lists.

The request lists still take the first API version's ``page`` for shallow pages: ``page *
page_size`` at most ``MAX_OFFSET_ROWS``; deeper, a 422 tells the caller to follow ``next_cursor``
instead (an offset page costs every row before it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

from govreq.core.errors import FieldError, ValidationFailed
from govreq.core.keyset import KeysetList, keyset_page

MAX_PAGE_SIZE = 100
MAX_OFFSET_ROWS = 10_000


class PageParams(Schema):
    page: int = Field(default=1, ge=1, le=1_000_000)
    page_size: int = Field(default=25, ge=1, le=MAX_PAGE_SIZE)


def paginate(queryset: QuerySet[Any], params: PageParams) -> dict[str, Any]:
    count = queryset.count()
    start = (params.page - 1) * params.page_size
    items = list(queryset[start : start + params.page_size])
    has_next = start + len(items) < count
    return {
        "items": items,
        "count": count,
        "page": params.page,
        "page_size": params.page_size,
        "next_page": params.page + 1 if has_next else None,
    }


class CursorPageParams(Schema):
    cursor: str | None = Field(
        default=None,
        description="Where to continue: the `next_cursor` or `previous_cursor` of the page "
        "before. Opaque; valid only with the same filters.",
    )
    page: int | None = Field(
        default=None,
        ge=1,
        description=f"Older clients: a page number, while page * page_size is at most "
        f"{MAX_OFFSET_ROWS:,}; deeper pages are a 422 (follow `next_cursor`).",
    )
    page_size: int = Field(
        default=25, ge=1, le=MAX_PAGE_SIZE, description=f"At most {MAX_PAGE_SIZE}."
    )


class CursorPage(Schema):
    """The fields every cursor-paged list answers with, beside its ``items``."""

    count: int | None = Field(
        description="How many match: given only where counting is cheap (a filter on open "
        "statuses, or a `page` request); otherwise null."
    )
    page: int | None = Field(description="The page number, for `page` requests and page 1.")
    page_size: int
    next_page: int | None = Field(description="For `page` requests (within the offset limit).")
    next_cursor: str | None
    previous_cursor: str | None


def paginate_keyset(
    listing: KeysetList,
    offset_queryset: QuerySet[Any],
    params: CursorPageParams,
    *,
    binding: Mapping[str, Any],
    count: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """The page ``params`` asks for: by ``cursor`` (or the first page) from ``listing``, or by
    ``page`` (bounded) from ``offset_queryset``, the same rows in the same order. ``count``
    is called only where it is cheap (the caller passes it only then) or for ``page``."""
    if params.page is not None:
        if params.cursor:
            raise ValidationFailed.single("cursor", "give either cursor or page, not both")
        if params.page * params.page_size > MAX_OFFSET_ROWS:
            raise ValidationFailed.single(
                "page",
                f"page * page_size may be at most {MAX_OFFSET_ROWS:,}: follow next_cursor for "
                "deeper pages",
            )
        legacy = paginate(offset_queryset, PageParams(page=params.page, page_size=params.page_size))
        if legacy["next_page"] and legacy["next_page"] * params.page_size > MAX_OFFSET_ROWS:
            legacy["next_page"] = None
        return {**legacy, "next_cursor": None, "previous_cursor": None}
    page = keyset_page(listing, cursor=params.cursor, page_size=params.page_size, binding=binding)
    first = not params.cursor
    return {
        "items": page.items,
        "count": count() if count is not None else None,
        "page": 1 if first else None,
        "page_size": params.page_size,
        "next_page": 2 if first and page.has_next else None,
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
    }


def reject_unknown_query_parameters(request: HttpRequest, params: type[Schema]) -> None:
    """A typo'd filter must be an error, not silently ignored (it would return everything)."""
    unknown = sorted(set(request.GET) - set(params.model_fields))
    if unknown:
        raise ValidationFailed(
            [FieldError(field=name, message="is not a query parameter here") for name in unknown]
        )
