"""Page-number pagination with a hard upper bound on page size."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

from govreq.core.errors import FieldError, ValidationFailed

MAX_PAGE_SIZE = 100


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


def reject_unknown_query_parameters(request: HttpRequest, params: type[Schema]) -> None:
    """A typo'd filter must be an error, not silently ignored (it would return everything)."""
    unknown = sorted(set(request.GET) - set(params.model_fields))
    if unknown:
        raise ValidationFailed(
            [FieldError(field=name, message="is not a query parameter here") for name in unknown]
        )
