"""Agency-facing endpoints: submit, list, read, withdraw requests and attach documents.

Every lookup goes through the agency-scoped selector: another agency's request is a 404, exactly
like one that does not exist.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from ninja import File, Form, Header, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from govreq.api.auth import caller_actor, caller_officer
from govreq.api.pagination import (
    CursorPage,
    CursorPageParams,
    paginate_keyset,
    reject_unknown_query_parameters,
)
from govreq.api.schemas import ERRORS, ErrorOut
from govreq.disclosure.models import Production
from govreq.disclosure.selectors import (
    AgencyDecision,
    agency_decision,
    production_for_agency,
    productions_released,
)
from govreq.intake import selectors
from govreq.intake.models import (
    OPEN_STATUSES,
    Channel,
    Document,
    LegalRequest,
    RequestStatus,
    StatusChange,
)
from govreq.intake.schemas import RequestSubmission
from govreq.lifecycle import disclosing, notifying, receiving
from govreq.lifecycle.reviewing import clarification_answer
from govreq.notices.models import GagExtension
from govreq.notices.selectors import gag_extensions_of

router = Router()


class TargetOut(Schema):
    type: str
    value: str


class DocumentOut(Schema):
    id: int
    original_name: str
    media_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


class ClarificationOut(Schema):
    id: int
    question: str
    asked_at: datetime
    answer: str
    answered_at: datetime | None


class HistoryOut(Schema):
    """A status change as the agency sees it: staff's own reasons stay internal."""

    from_status: str | None
    to_status: str
    occurred_at: datetime
    reason: str

    @staticmethod
    def resolve_from_status(obj: StatusChange) -> str | None:
        return obj.from_status or None

    @staticmethod
    def resolve_reason(obj: StatusChange) -> str:
        return obj.reason if obj.actor_kind == "OFFICER" else ""


class GagOrderOut(Schema):
    legal_basis: str
    expires_on: date | None


class GagExtensionFiledOut(Schema):
    """A new non-disclosure order the agency filed to extend its gag, and the platform's
    answer (the reviewer's own note stays internal)."""

    id: int
    status: str = Field(description="PENDING (waiting for review), ACCEPTED or REFUSED")
    new_expires_on: date
    legal_basis: str
    filed_at: datetime
    decided_at: datetime | None
    document: DocumentOut


class EmergencyOut(Schema):
    danger: str
    why_now: str


class DateRangeOut(Schema):
    start: date
    end: date


class TargetRefOut(Schema):
    type: str
    value: str


class ReasonOut(Schema):
    code: str
    label: str


class AgencyDecisionOut(Schema):
    """The decision as the agency is told it: never while it awaits approval."""

    outcome: str = Field(description="FULL, PARTIAL, REJECTED, NO_DATA or PRESERVE")
    decided_at: datetime
    letter: str
    rejection_reasons: list[ReasonOut]
    produced_targets: list[TargetRefOut]
    not_produced_targets: list[TargetRefOut]
    produced_categories: list[str]
    not_produced_categories: list[str]
    produced_from: date | None
    produced_to: date | None


class ManifestFileOut(Schema):
    name: str
    account_index: int
    category: str
    format: str
    sha256: str
    size: int
    records: int
    first_at: datetime | None
    last_at: datetime | None


class ProductionOut(Schema):
    """A released production: its signed manifest's files and where to download the package."""

    id: uuid.UUID = Field(alias="public_id")
    status: str = Field(description="RELEASED (awaiting download), DELIVERED or PURGED")
    released_at: datetime
    expires_at: datetime
    delivered_at: datetime | None
    purged_at: datetime | None
    record_count: int
    manifest_sha256: str
    signing_key_id: str
    files: list[ManifestFileOut]
    package_url: str | None = Field(description="None once the package has expired")

    @staticmethod
    def resolve_files(obj: Production) -> list[dict[str, Any]]:
        return list((obj.manifest or {}).get("files", []))

    @staticmethod
    def resolve_package_url(obj: Production) -> str | None:
        if obj.purged_at is not None or (obj.expires_at and obj.expires_at <= timezone.now()):
            return None
        return f"/api/v1/requests/{obj.request.public_id}/productions/{obj.public_id}/package"


class RequestSummaryOut(Schema):
    id: uuid.UUID = Field(alias="public_id")
    reference: str
    status: RequestStatus
    kind: str
    jurisdiction: str = Field(alias="jurisdiction_id")
    offence_category: str
    received_at: datetime
    deadline_at: datetime | None
    target_count: int


class RequestOut(Schema):
    id: uuid.UUID = Field(alias="public_id")
    reference: str
    status: RequestStatus
    agency: str
    officer: str
    jurisdiction: str = Field(alias="jurisdiction_id")
    channel: str
    received_at: datetime
    kind: str
    legal_basis: str
    issuing_authority: str
    agency_case_number: str
    offence_category: str
    narrative: str
    data_categories: list[str]
    data_range: DateRangeOut | None
    deadline_at: datetime | None
    gag_order: GagOrderOut | None
    gag_extensions: list[GagExtensionFiledOut]
    emergency: EmergencyOut | None
    targets: list[TargetOut]
    documents: list[DocumentOut]
    clarifications: list[ClarificationOut]
    history: list[HistoryOut]
    decision: AgencyDecisionOut | None
    productions: list[ProductionOut]

    # A request just submitted (intake.selectors.request_detail_of_new) has none of these yet.
    @staticmethod
    def resolve_gag_extensions(obj: LegalRequest) -> list[GagExtension]:
        return [] if obj.just_submitted else list(gag_extensions_of(obj))

    @staticmethod
    def resolve_decision(obj: LegalRequest) -> AgencyDecision | None:
        return None if obj.just_submitted else agency_decision(obj)

    @staticmethod
    def resolve_productions(obj: LegalRequest) -> list[Production]:
        if obj.just_submitted:
            return []
        return list(productions_released(obj).select_related("request"))

    @staticmethod
    def resolve_agency(obj: LegalRequest) -> str:
        return obj.agency.name

    @staticmethod
    def resolve_officer(obj: LegalRequest) -> str:
        return obj.officer.email

    @staticmethod
    def resolve_data_range(obj: LegalRequest) -> dict[str, date] | None:
        if obj.data_from is None or obj.data_to is None:
            return None
        return {"start": obj.data_from, "end": obj.data_to}

    @staticmethod
    def resolve_gag_order(obj: LegalRequest) -> dict[str, Any] | None:
        if not obj.gag_order:
            return None
        return {"legal_basis": obj.gag_legal_basis, "expires_on": obj.gag_expires_on}

    @staticmethod
    def resolve_emergency(obj: LegalRequest) -> dict[str, str] | None:
        if not (obj.emergency_danger or obj.emergency_why_now):
            return None
        return {"danger": obj.emergency_danger, "why_now": obj.emergency_why_now}

    @staticmethod
    def resolve_targets(obj: LegalRequest) -> list[Any]:
        return list(obj.targets.all())

    @staticmethod
    def resolve_documents(obj: LegalRequest) -> list[Document]:
        return list(obj.documents.all())

    @staticmethod
    def resolve_history(obj: LegalRequest) -> list[StatusChange]:
        return list(obj.status_changes.all())

    @staticmethod
    def resolve_clarifications(obj: LegalRequest) -> list[Any]:
        return list(obj.clarifications.all())


class RequestPage(CursorPage):
    items: list[RequestSummaryOut]


class WithdrawIn(Schema):
    reason: str = Field(default="", max_length=2000)


class ListFilters(CursorPageParams):
    status: list[RequestStatus] | None = None


@router.post(
    "",
    response={200: RequestOut, 201: RequestOut, **ERRORS},
    summary="Submit a request",
    description=(
        "Submit a request for user data. Send an `Idempotency-Key` header to retry safely: the "
        "same key with the same body returns the original request (200) and creates nothing; the "
        "same key with a different body is a 409."
    ),
)
def submit_request(
    request: HttpRequest,
    payload: RequestSubmission,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
) -> Status[LegalRequest]:
    officer = caller_officer(request)
    result = receiving.request_submit(
        actor=caller_actor(request),
        officer=officer,
        submission=payload,
        channel=Channel.API,
        now=timezone.now(),
        idempotency_key=idempotency_key,
    )
    if result.created:
        return Status(201, selectors.request_detail_of_new(result.request))
    detail = selectors.request_get_for_agency(
        agency=officer.agency, public_id=result.request.public_id
    )
    return Status(200, detail)


@router.get(
    "",
    response={200: RequestPage, **ERRORS},
    summary="List your agency's requests",
    description="Newest first. Follow `next_cursor` (pass it as `cursor`) for the next page; "
    "`page` still works for shallow pages (page * page_size at most 10,000).",
)
def list_requests(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    reject_unknown_query_parameters(request, ListFilters)
    officer = caller_officer(request)
    statuses = sorted(str(s) for s in filters.status or [])
    queryset = selectors.request_rows(
        selectors.request_list(agency=officer.agency, statuses=statuses)
    )
    # Counting the agency's open requests is cheap; its whole history is not.
    cheap = bool(statuses) and set(statuses) <= {str(s) for s in OPEN_STATUSES}
    return paginate_keyset(
        selectors.request_list_keyset(agency=officer.agency, statuses=statuses),
        queryset,
        filters,
        binding={"list": "api.requests", "agency": officer.agency_id, "status": statuses},
        count=queryset.count if cheap else None,
    )


@router.get("/{request_id}", response={200: RequestOut, **ERRORS}, summary="Read one request")
def get_request(request: HttpRequest, request_id: str) -> LegalRequest:
    officer = caller_officer(request)
    return selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)


@router.post(
    "/{request_id}/documents",
    response={201: DocumentOut, **ERRORS},
    summary="Attach a legal document",
    description=(
        "PDF, PNG, JPEG, TIFF or plain text, at most 25 MB; the type is read from the bytes."
    ),
)
def upload_document(
    request: HttpRequest, request_id: str, file: File[UploadedFile]
) -> Status[Document]:
    officer = caller_officer(request)
    legal_request = selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)
    document = receiving.document_attach(
        actor=caller_actor(request),
        request=legal_request,
        upload=file,
        original_name=file.name or "document",
        claimed_type=file.content_type,
        now=timezone.now(),
    )
    return Status(201, document)


@router.post(
    "/{request_id}/withdraw",
    response={200: RequestOut, **ERRORS},
    summary="Withdraw a request",
)
def withdraw_request(
    request: HttpRequest, request_id: str, payload: WithdrawIn | None = None
) -> LegalRequest:
    officer = caller_officer(request)
    legal_request = selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)
    receiving.request_withdraw(
        actor=caller_actor(request),
        request=legal_request,
        reason=payload.reason if payload else "",
        now=timezone.now(),
    )
    return selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)


class AnswerIn(Schema):
    answer: str = Field(min_length=1, max_length=20000)


@router.post(
    "/{request_id}/clarifications/{clarification_id}/answer",
    response={200: RequestOut, **ERRORS},
    summary="Answer the platform's question",
    description="The request returns to review and its checks run again.",
)
def answer_clarification(
    request: HttpRequest, request_id: str, clarification_id: int, payload: AnswerIn
) -> LegalRequest:
    officer = caller_officer(request)
    legal_request = selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)
    clarification_answer(
        actor=caller_actor(request),
        request=legal_request,
        clarification_id=clarification_id,
        answer=payload.answer,
        now=timezone.now(),
    )
    return selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)


@router.get(
    "/{request_id}/productions",
    response={200: list[ProductionOut], **ERRORS},
    summary="The productions released to your agency",
)
def list_productions(request: HttpRequest, request_id: str) -> list[Production]:
    officer = caller_officer(request)
    legal_request = selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)
    return list(productions_released(legal_request).select_related("request"))


@router.get(
    "/{request_id}/productions/{production_id}/package",
    response={200: None, 410: ErrorOut, **ERRORS},
    summary="Download a production's package (ZIP)",
    description=(
        "The signed package: manifest.json, manifest.sig and every file. The first download is "
        "the delivery receipt; every download is recorded. 410 once the package has expired "
        "(its bytes are deleted, the manifest remains); 409 while a hold covers the request. "
        "Check it offline with `python -m govreq.disclosure.verify PACKAGE.zip`."
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "The package",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_package(
    request: HttpRequest, request_id: str, production_id: str
) -> StreamingHttpResponse:
    officer = caller_officer(request)
    legal_request = selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)
    download = disclosing.package_download(
        actor=caller_actor(request),
        production=production_for_agency(legal_request, production_id),
        channel=Channel.API,
        client_address=request.META.get("REMOTE_ADDR", ""),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        now=timezone.now(),
    )
    return package_response(download)


def package_response(download: disclosing.PackageDownloadStream) -> StreamingHttpResponse:
    """The package as an attachment, streamed, never cached."""
    response = StreamingHttpResponse(download.chunks, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{download.file_name}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post(
    "/{request_id}/gag-extensions",
    response={201: GagExtensionFiledOut, **ERRORS},
    summary="File a new non-disclosure order to extend the gag",
    description=(
        "Multipart: the new order as `file` (the document rules of `/documents` apply), "
        "`new_expires_on` (ISO date, after the current expiry) and `legal_basis`. Filed before "
        "the gag ends, the account holders are not told until a reviewer has decided it. "
        "Refused (409) after the gag ended (`gag_ended`) or when the request has none "
        "(`no_gag_order`)."
    ),
)
def file_gag_extension(
    request: HttpRequest,
    request_id: str,
    file: File[UploadedFile],
    new_expires_on: Form[date],
    legal_basis: str = Form("", max_length=2000),
) -> Status[GagExtension]:
    officer = caller_officer(request)
    legal_request = selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)
    extension = notifying.gag_extension_file(
        actor=caller_actor(request),
        request=legal_request,
        upload=file,
        original_name=file.name or "order",
        new_expires_on=new_expires_on,
        legal_basis=legal_basis,
        now=timezone.now(),
    )
    return Status(201, extension)


class PreservationOut(Schema):
    reference: str
    expires_at: datetime
    extended_at: datetime | None


@router.post(
    "/{request_id}/extend",
    response={200: PreservationOut, **ERRORS},
    summary="Extend a preservation once, by 90 days",
    description="Refused (409) a second time (`already_extended`) and after it expired.",
)
def extend_preservation(request: HttpRequest, request_id: str) -> dict[str, Any]:
    officer = caller_officer(request)
    legal_request = selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)
    snapshot = disclosing.preservation_extend(
        actor=caller_actor(request), request=legal_request, now=timezone.now()
    )
    return {
        "reference": legal_request.reference,
        "expires_at": snapshot.expires_at,
        "extended_at": snapshot.extended_at,
    }
