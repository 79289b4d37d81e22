"""Reads for requests. Agency-scoped selectors are the only way the agency side finds a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from govreq.agencies.models import Agency
from govreq.core.errors import NotFound
from govreq.core.keyset import Key, KeysetList, list_shape
from govreq.intake.models import Document, DocumentText, LegalRequest, StatusChange, Target


def _not_found(identifier: object) -> NotFound:
    return NotFound(f"no request {identifier}", code="request_not_found")


def request_list(
    *,
    agency: Agency | None = None,
    jurisdiction: str | None = None,
    statuses: list[str] | None = None,
    kind: str | None = None,
) -> QuerySet[LegalRequest]:
    """Requests newest first; ``agency`` limits to that agency's own."""
    queryset = LegalRequest.objects.select_related("agency", "jurisdiction")
    if agency is not None:
        queryset = queryset.filter(agency=agency)
    if jurisdiction:
        queryset = queryset.filter(jurisdiction_id=jurisdiction.upper())
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("-received_at", "-id")


# The order of request_list, for keyset pagination (core.keyset).
REQUEST_LIST_KEYS = (Key(name="received_at", descending=True), Key(name="id", descending=True))

# What a list of an agency's requests shows (the officer API, the portal), read as plain rows
# (``values()``): no model instance and no join per row, whatever the size of the history.
REQUEST_ROW = (
    "id",
    "public_id",
    "reference",
    "status",
    "kind",
    "jurisdiction_id",
    "offence_category",
    "narrative",
    "received_at",
    "deadline_at",
    "target_count",
)


def request_rows(queryset: QuerySet[LegalRequest]) -> QuerySet[LegalRequest, dict[str, Any]]:
    """``queryset``'s requests as list rows (``REQUEST_ROW``)."""
    return queryset.values(*REQUEST_ROW)


def request_list_keyset(
    *, agency: Agency | None = None, statuses: list[str] | None = None
) -> KeysetList:
    """``request_list`` as a keyset list of rows (``REQUEST_ROW``), newest first."""
    return KeysetList(
        segments=lambda: [request_rows(request_list(agency=agency, statuses=statuses).order_by())],
        keys=REQUEST_LIST_KEYS,
        shape=list_shape("intake.request_list", agency=agency, statuses=statuses),
    )


def _with_details(queryset: QuerySet[LegalRequest]) -> QuerySet[LegalRequest]:
    return queryset.select_related("agency", "jurisdiction", "officer").prefetch_related(
        Prefetch("targets", queryset=Target.objects.order_by("id")),
        Prefetch("documents", queryset=Document.objects.order_by("uploaded_at", "id")),
        Prefetch("status_changes", queryset=StatusChange.objects.order_by("occurred_at", "id")),
        "clarifications",
    )


def request_get_for_agency(*, agency: Agency, public_id: uuid.UUID | str) -> LegalRequest:
    """The agency's own request, or NotFound, exactly as for a request that does not exist."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise _not_found(public_id) from None
    request = _with_details(LegalRequest.objects.filter(public_id=key, agency=agency)).first()
    if request is None:
        raise _not_found(public_id)
    return request


def request_detail_of_new(request: LegalRequest) -> LegalRequest:
    """A request the caller's own submission has just created, read as
    ``request_get_for_agency`` reads it, but without asking for what a request cannot have at
    birth (documents, clarifications: answered empty without a query; ``just_submitted`` tells
    the API's schema the same of its decision, productions and gag extensions). Three queries,
    not eight, on the path every submission takes."""
    clarifications = LegalRequest._meta.get_field("clarifications").related_model
    found = (
        LegalRequest.objects.filter(pk=request.pk)
        .select_related("agency", "jurisdiction", "officer")
        .prefetch_related(
            Prefetch("targets", queryset=Target.objects.order_by("id")),
            Prefetch("documents", queryset=Document.objects.none()),
            Prefetch("status_changes", queryset=StatusChange.objects.order_by("occurred_at", "id")),
            Prefetch("clarifications", queryset=clarifications._default_manager.none()),
        )
        .get()
    )
    found.just_submitted = True
    return found


def request_get(*, public_id: uuid.UUID | str) -> LegalRequest:
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise _not_found(public_id) from None
    request = _with_details(LegalRequest.objects.filter(public_id=key)).first()
    if request is None:
        raise _not_found(public_id)
    return request


def request_get_by_reference(reference: str) -> LegalRequest:
    request = _with_details(
        LegalRequest.objects.filter(reference=reference.strip().upper())
    ).first()
    if request is None:
        raise _not_found(reference)
    return request


@dataclass(frozen=True)
class DocumentRead:
    document: Document
    text: DocumentText | None  # None while it has not been read


def documents_with_text(request: LegalRequest) -> list[DocumentRead]:
    """The request's documents, oldest first, each with the text read from it (staff only:
    never the agency's API)."""
    documents = list(Document.objects.filter(request=request).order_by("uploaded_at", "id"))
    texts = {t.document_id: t for t in DocumentText.objects.filter(document__in=documents)}
    return [DocumentRead(document=d, text=texts.get(d.pk)) for d in documents]
