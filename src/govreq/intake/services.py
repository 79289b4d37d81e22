"""Writes for requests as they arrive: record a submission, store a document, append history.

These are the intake area's own writes; the lifecycle (``govreq.lifecycle``) calls them inside
its transactions and adds what follows (holds, checks, status changes). Each writes its audit
event in the caller's transaction, so a refused or failed operation leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.db import connection, transaction
from django.db.models import QuerySet

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import Agency, AgencyStatus, Officer, OfficerStatus
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.canonical import canonical_json, sha256_hex
from govreq.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from govreq.intake.documents import claimed_media_type, safe_file_name, sniff_media_type
from govreq.intake.models import (
    Channel,
    Document,
    DocumentText,
    IdempotencyKey,
    LegalRequest,
    ReferenceCounter,
    RequestKind,
    RequestStatus,
    StatusChange,
    Target,
)
from govreq.intake.reading import Extraction
from govreq.intake.schemas import RequestSubmission
from govreq.intake.storage import document_read, store_document
from govreq.intake.validation import NormalisedTarget, submission_errors

DOCUMENT_MAX_BYTES = 25 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class SubmitResult:
    request: LegalRequest
    created: bool  # False when an Idempotency-Key replay returned the original request


def reference_take(year: int) -> str:
    """The next reference of ``year`` (GR-2020-000123), in one statement that creates or bumps
    the year's counter and returns the new number. The counter row stays locked until the
    transaction it runs in ends, so ``lifecycle.receiving.request_submit`` runs it on PostgreSQL
    in a short transaction of its own before the submission's (a submission that then fails
    leaves a gap in the numbers: references are unique and increase, but may skip), and on
    SQLite, where every write transaction is serialised anyway, inside the submission's."""
    table = ReferenceCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last_number) VALUES (%s, 1) "  # noqa: S608 - our table
            f"ON CONFLICT (year) DO UPDATE SET last_number = {table}.last_number + 1 "
            "RETURNING last_number",
            [year],
        )
        (number,) = cursor.fetchone()
    return f"GR-{year}-{number:06d}"


def submission_authorise(*, actor: Actor, officer: Officer) -> None:
    """Who may submit for ``officer``: the officer, intake staff keying in a posted request, or
    the operator at the console."""
    if actor.kind == "USER":
        require_role(actor, StaffRole.INTAKE)  # staff keying in a request that came by post
    elif actor.kind == "OFFICER" and (actor.officer is None or actor.officer.pk != officer.pk):
        raise PermissionDenied("officers submit only in their own name", code="permission_denied")


def submission_hash(submission: RequestSubmission, received_at: datetime | None) -> str:
    """What an Idempotency-Key is bound to: the body as submitted (and any back-dated receipt)."""
    body = submission.model_dump(mode="json")
    if body.get("preservation_reference") is None:
        # Absent as before the field existed, so earlier keys still match their bodies.
        body.pop("preservation_reference", None)
    if received_at is not None:
        body["received_at"] = received_at.isoformat()
    return sha256_hex(canonical_json(body))


def idempotent_replay(officer: Officer, key: str, body_hash: str) -> SubmitResult | None:
    """The request an earlier submission with this key created, if any (409 for another body)."""
    record = (
        IdempotencyKey.objects.select_related("request").filter(officer=officer, key=key).first()
    )
    if record is None:
        return None
    if record.body_sha256 != body_hash:
        raise Conflict(
            "this Idempotency-Key was already used with a different request body",
            code="idempotency_key_reused",
        )
    return SubmitResult(request=record.request, created=False)


@dataclass(frozen=True, kw_only=True)
class PreparedSubmission:
    """A submission that passed validation, with what its writes need (``request_prepare``)."""

    actor: Actor
    officer: Officer
    submission: RequestSubmission
    channel: Channel
    now: datetime
    received: datetime
    targets: list[NormalisedTarget]
    preservation: LegalRequest | None
    idempotency_key: str | None
    body_hash: str


def request_prepare(
    *,
    actor: Actor,
    officer: Officer,
    submission: RequestSubmission,
    channel: Channel,
    now: datetime,
    received_at: datetime | None,
    idempotency_key: str | None,
    body_hash: str,
) -> PreparedSubmission | SubmitResult:
    """Everything a submission needs before anything is written: the original request for a
    repeated Idempotency-Key (a ``SubmitResult``; 409 for another body), or the validated
    submission (``ValidationFailed`` names every problem). Reads only, so the lifecycle runs it
    before the submission's transaction, which then only writes."""
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= 200:
            raise ValidationFailed.single("Idempotency-Key", "must be 1 to 200 characters")
        replay = idempotent_replay(officer, idempotency_key, body_hash)
        if replay is not None:
            return replay

    agency = officer.agency
    errors, targets = submission_errors(submission, now=now, region=agency.jurisdiction_id)
    if officer.status != OfficerStatus.ACTIVE:
        errors.append(FieldError(field="officer", message="the officer is suspended"))
    if agency.status == AgencyStatus.SUSPENDED:
        errors.append(FieldError(field="agency", message="the agency is suspended"))
    if received_at is not None and received_at > now:
        errors.append(FieldError(field="received_at", message="lies in the future"))
    preservation = _preservation_followed(submission, agency, errors)
    if errors:
        raise ValidationFailed(errors)
    return PreparedSubmission(
        actor=actor,
        officer=officer,
        submission=submission,
        channel=channel,
        now=now,
        received=received_at or now,
        targets=targets,
        preservation=preservation,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
    )


def request_record(
    prepared: PreparedSubmission, *, reference: str | None, respond_by: datetime
) -> LegalRequest:
    """Store a prepared submission: the request (RECEIVED, numbered ``reference``, or with the
    next number of its year when None), its targets in one insert, its Idempotency-Key and
    first history row, and the audit event ``request.received``. Runs inside the caller's
    transaction: the lifecycle then applies holds and runs the checks in that same
    transaction."""
    _require_transaction("request_record")
    actor, officer, submission = prepared.actor, prepared.officer, prepared.submission
    agency, now, received, targets = (
        officer.agency,
        prepared.now,
        prepared.received,
        prepared.targets,
    )
    gag, emergency, data_range = submission.gag_order, submission.emergency, submission.data_range
    request = LegalRequest.objects.create(
        reference=reference or reference_take(received.year),
        agency=agency,
        officer=officer,
        entered_by=actor.user,
        channel=prepared.channel,
        jurisdiction_id=agency.jurisdiction_id,
        received_at=received,
        created_at=now,
        updated_at=now,
        kind=submission.kind,
        legal_basis=submission.legal_basis.strip(),
        issuing_authority=submission.issuing_authority.strip(),
        agency_case_number=submission.agency_case_number.strip(),
        offence_category=submission.offence_category,
        narrative=submission.narrative.strip(),
        data_categories=sorted(str(category) for category in submission.data_categories),
        data_from=data_range.start if data_range else None,
        data_to=data_range.end if data_range else None,
        deadline_at=submission.deadline_at,
        respond_by=respond_by,
        gag_order=gag is not None,
        gag_legal_basis=gag.legal_basis.strip() if gag else "",
        gag_expires_on=gag.expires_on if gag else None,
        emergency_danger=emergency.danger.strip() if emergency else "",
        emergency_why_now=emergency.why_now.strip() if emergency else "",
        preservation=prepared.preservation,
        status=RequestStatus.RECEIVED,
        target_count=len(targets),
    )
    Target.objects.bulk_create(
        Target(request=request, type=t.type, value=t.value, raw_value=t.raw_value) for t in targets
    )
    if prepared.idempotency_key is not None:
        IdempotencyKey.objects.create(
            officer=officer,
            key=prepared.idempotency_key,
            body_sha256=prepared.body_hash,
            request=request,
            created_at=now,
        )
    status_history_append(request, "", RequestStatus.RECEIVED, actor=actor, reason="", now=now)
    audit_record(
        actor=actor,
        action="request.received",
        object_type="legal_request",
        object_id=request.public_id,
        data={
            "reference": request.reference,
            "agency": agency.pk,
            "officer": officer.pk,
            "channel": prepared.channel,
            "kind": request.kind,
            "received_at": received,
            "targets": len(targets),
            "body_sha256": prepared.body_hash,
        },
        now=now,
    )
    return request


def _preservation_followed(
    submission: RequestSubmission, agency: Agency, errors: list[FieldError]
) -> LegalRequest | None:
    """The agency's preserved request a follow-up names, or None (with an error if it names one
    that is not this agency's, not a preservation, or not preserved)."""
    reference = (submission.preservation_reference or "").strip().upper()
    if not reference:
        return None
    if submission.kind == RequestKind.PRESERVATION:
        errors.append(
            FieldError(
                field="preservation_reference", message="a preservation request follows nothing"
            )
        )
        return None
    preserved = LegalRequest.objects.filter(
        reference=reference, agency=agency, kind=RequestKind.PRESERVATION
    ).first()
    held_preserved = preserved is not None and (
        preserved.status == RequestStatus.PRESERVED
        or (
            preserved.status == RequestStatus.ON_HOLD
            and preserved.status_before_hold == RequestStatus.PRESERVED
        )
    )
    if preserved is None or not held_preserved:
        errors.append(
            FieldError(
                field="preservation_reference",
                message=f"{reference} is not a preserved preservation request of your agency",
            )
        )
        return None
    return preserved


def _require_transaction(name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{name} must run inside the caller's transaction")


def status_history_append(
    request: LegalRequest,
    from_status: str,
    to_status: str,
    *,
    actor: Actor,
    reason: str,
    now: datetime,
) -> None:
    """One row of the status history (the lifecycle writes it with every status change)."""
    StatusChange.objects.create(
        request=request,
        from_status=from_status,
        to_status=to_status,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        reason=reason,
        occurred_at=now,
    )


def lock_request(request: LegalRequest) -> LegalRequest:
    """Re-read the request under a row lock, for the rest of the caller's transaction.

    Only the request's own row is locked (``of=("self",)``): the joined agency row is read, not
    locked, so two requests of one agency never wait on each other. Lock order everywhere: the
    request row(s) first, in primary-key order, and the audit-chain lock last (README, "Lock
    order")."""
    return (
        LegalRequest.objects.select_for_update(of=("self",))
        .select_related("agency")
        .get(pk=request.pk)
    )


def lock_requests(requests: QuerySet[LegalRequest]) -> list[LegalRequest]:
    """Lock many requests' rows at once, in primary-key order (the one order every service uses,
    so two services locking overlapping sets wait rather than deadlock). Take these locks before
    anything that appends to the audit chain."""
    return list(requests.select_for_update(of=("self",)).select_related("agency").order_by("pk"))


def _read_upload(upload: IO[bytes], limit: int) -> Iterator[bytes]:
    total = 0
    while chunk := upload.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise ValidationFailed.single(
                "file", f"is larger than the {limit // (1024 * 1024)} MB limit"
            )
        yield chunk


@transaction.atomic
def document_store(
    *,
    actor: Actor,
    request: LegalRequest,
    upload: IO[bytes],
    original_name: str,
    claimed_type: str | None,
    now: datetime,
    after_close: bool = False,
) -> Document:
    """Store and record a legal document. Its type is decided by its bytes and must match any
    claimed type. (``lifecycle.receiving.document_attach`` also runs the checks again.)

    ``after_close``: also once the request is closed, for a document that outlives it (a new
    non-disclosure order: the gag binds the platform after the request closed)."""
    request = lock_request(request)
    if not after_close and request.status in (
        RequestStatus.CLOSED,
        RequestStatus.WITHDRAWN,
        RequestStatus.REJECTED,
    ):
        raise Conflict(
            f"{request.reference} is {RequestStatus(request.status).label.lower()}; "
            "documents can no longer be added",
            code="request_closed",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)

    def read_all() -> bytes:
        upload.seek(0)
        data = upload.read(DOCUMENT_MAX_BYTES + 1)
        upload.seek(0)
        return data

    size_hint = getattr(upload, "size", None)
    if size_hint is not None and size_hint > DOCUMENT_MAX_BYTES:
        raise ValidationFailed.single("file", "is larger than the 25 MB limit")
    if not head:
        raise ValidationFailed.single("file", "is empty")
    actual = sniff_media_type(head, read_all)
    if actual is None:
        raise ValidationFailed.single(
            "file", "is not a PDF, PNG, JPEG, TIFF or plain-text (UTF-8) document"
        )
    claimed = claimed_media_type(claimed_type)
    if claimed is not None and claimed != actual:
        raise ValidationFailed.single(
            "file", f"is declared as {claimed} but its content is {actual}"
        )
    sha256, size = store_document(_read_upload(upload, DOCUMENT_MAX_BYTES))
    if request.documents.filter(sha256=sha256).exists():
        raise Conflict(
            "this document is already attached to the request", code="duplicate_document"
        )
    document = Document.objects.create(
        request=request,
        sha256=sha256,
        size_bytes=size,
        media_type=actual,
        original_name=safe_file_name(original_name),
        uploaded_at=now,
        uploaded_by_officer=actor.officer,
        uploaded_by_user=actor.user,
    )
    request.updated_at = now
    request.save(update_fields=["updated_at"])
    audit_record(
        actor=actor,
        action="document.attached",
        object_type="legal_request",
        object_id=request.public_id,
        data={
            "document": document.pk,
            "sha256": sha256,
            "size_bytes": size,
            "media_type": actual,
            "original_name": document.original_name,
        },
        now=now,
    )
    return document


def document_open(document: Document) -> IO[bytes]:
    return document_read(document.sha256)


def document_text_record(
    *, actor: Actor, document: Document, extraction: Extraction, now: datetime
) -> DocumentText:
    """Store the text read from ``document`` (replacing an earlier reading), with its audit
    event, in the caller's transaction (which holds the request's lock)."""
    _require_transaction("document_text_record")
    text, _ = DocumentText.objects.update_or_create(
        document=document,
        defaults={
            "method": extraction.method,
            "text": extraction.text if extraction.method != "NONE" else "",
            "pages": extraction.pages,
            "truncated": extraction.truncated,
            "failed": extraction.failed,
            "note": extraction.note,
            "extracted_at": now,
        },
    )
    audit_record(
        actor=actor,
        action="document.read",
        object_type="legal_request",
        object_id=document.request.public_id,
        data={
            "document": document.pk,
            "sha256": document.sha256,
            "method": text.method,
            "characters": len(text.text),
            "pages": text.pages,
            "failed": text.failed,
            "note": text.note,
        },
        now=now,
    )
    return text
