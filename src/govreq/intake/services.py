"""Writes for requests: submit, transition, withdraw, attach a document.

Every function runs in one transaction that also writes the audit event, so a refused or failed
operation leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.db import IntegrityError, transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import AgencyStatus, Officer, OfficerStatus
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.canonical import canonical_json, sha256_hex
from govreq.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from govreq.intake.documents import claimed_media_type, safe_file_name, sniff_media_type
from govreq.intake.models import (
    Channel,
    Document,
    IdempotencyKey,
    LegalRequest,
    ReferenceCounter,
    RequestStatus,
    StatusChange,
    Target,
)
from govreq.intake.schemas import RequestSubmission
from govreq.intake.storage import document_path, store_document
from govreq.intake.validation import submission_errors
from govreq.intake.workflow import transition_allowed

DOCUMENT_MAX_BYTES = 25 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class SubmitResult:
    request: LegalRequest
    created: bool  # False when an Idempotency-Key replay returned the original request


def _next_reference(year: int) -> str:
    ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year)], ignore_conflicts=True)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"GR-{year}-{counter.last_number:06d}"


def _submission_hash(submission: RequestSubmission, received_at: datetime | None) -> str:
    body = submission.model_dump(mode="json")
    if received_at is not None:
        body["received_at"] = received_at.isoformat()
    return sha256_hex(canonical_json(body))


def request_submit(
    *,
    actor: Actor,
    officer: Officer,
    submission: RequestSubmission,
    channel: Channel,
    now: datetime,
    received_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> SubmitResult:
    """Record a request from ``officer``'s agency.

    With an ``idempotency_key``, a repeat of the same body returns the original request and
    creates nothing; the same key with a different body is refused (409).
    """
    if actor.kind == "USER":
        require_role(actor, StaffRole.INTAKE)  # staff keying in a request that came by post
    elif actor.kind == "OFFICER" and (actor.officer is None or actor.officer.pk != officer.pk):
        raise PermissionDenied("officers submit only in their own name", code="permission_denied")
    body_hash = _submission_hash(submission, received_at)
    try:
        return _request_submit(
            actor=actor,
            officer=officer,
            submission=submission,
            channel=channel,
            now=now,
            received_at=received_at,
            idempotency_key=idempotency_key,
            body_hash=body_hash,
        )
    except IntegrityError:
        # Two submissions with one key at the same instant: the loser finds the winner's row.
        if idempotency_key is None:
            raise
        replay = _idempotent_replay(officer, idempotency_key, body_hash)
        if replay is None:
            raise
        return replay


def _idempotent_replay(officer: Officer, key: str, body_hash: str) -> SubmitResult | None:
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


@transaction.atomic
def _request_submit(
    *,
    actor: Actor,
    officer: Officer,
    submission: RequestSubmission,
    channel: Channel,
    now: datetime,
    received_at: datetime | None,
    idempotency_key: str | None,
    body_hash: str,
) -> SubmitResult:
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= 200:
            raise ValidationFailed.single("Idempotency-Key", "must be 1 to 200 characters")
        replay = _idempotent_replay(officer, idempotency_key, body_hash)
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
    if errors:
        raise ValidationFailed(errors)

    received = received_at or now
    gag, emergency, data_range = submission.gag_order, submission.emergency, submission.data_range
    request = LegalRequest.objects.create(
        reference=_next_reference(received.year),
        agency=agency,
        officer=officer,
        entered_by=actor.user,
        channel=channel,
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
        gag_order=gag is not None,
        gag_legal_basis=gag.legal_basis.strip() if gag else "",
        gag_expires_on=gag.expires_on if gag else None,
        emergency_danger=emergency.danger.strip() if emergency else "",
        emergency_why_now=emergency.why_now.strip() if emergency else "",
        status=RequestStatus.RECEIVED,
    )
    Target.objects.bulk_create(
        Target(request=request, type=t.type, value=t.value, raw_value=t.raw_value) for t in targets
    )
    if idempotency_key is not None:
        IdempotencyKey.objects.create(
            officer=officer,
            key=idempotency_key,
            body_sha256=body_hash,
            request=request,
            created_at=now,
        )
    _record_status_change(request, "", RequestStatus.RECEIVED, actor=actor, reason="", now=now)
    audit_record(
        actor=actor,
        action="request.received",
        object_type="legal_request",
        object_id=request.public_id,
        data={
            "reference": request.reference,
            "agency": agency.pk,
            "officer": officer.pk,
            "channel": channel,
            "kind": request.kind,
            "received_at": received,
            "targets": len(targets),
            "body_sha256": body_hash,
        },
        now=now,
    )
    # Review takes over in the same transaction: a hold in force puts the request ON_HOLD at
    # once, and the legitimacy checks run.
    from govreq.review.services import on_request_received

    request = on_request_received(actor=actor, request=request, now=now)
    return SubmitResult(request=request, created=True)


def _record_status_change(
    request: LegalRequest,
    from_status: str,
    to_status: str,
    *,
    actor: Actor,
    reason: str,
    now: datetime,
) -> None:
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
    """Re-read the request under a row lock, for the rest of the caller's transaction."""
    return LegalRequest.objects.select_for_update().select_related("agency").get(pk=request.pk)


@transaction.atomic
def request_transition(
    *,
    actor: Actor,
    request: LegalRequest,
    to_status: RequestStatus,
    reason: str = "",
    now: datetime,
    audit_data: dict[str, object] | None = None,
) -> LegalRequest:
    """Move a request to ``to_status`` if the workflow allows it; the only way status changes.

    Writes the status history and the audit event ``request.status_changed`` in the same
    transaction; an illegal transition raises Conflict(code="illegal_transition").
    """
    from govreq.review.guards import transition_effects, transition_guard

    request = lock_request(request)
    current = RequestStatus(request.status)
    if not transition_allowed(current, to_status, status_before_hold=request.status_before_hold):
        raise Conflict(
            f"{request.reference} is {current.label.lower()}; it cannot move to "
            f"{RequestStatus(to_status).label.lower()}",
            code="illegal_transition",
        )
    transition_guard(request, to_status, now=now)
    effects = transition_effects(request, to_status, now=now)
    if to_status == RequestStatus.ON_HOLD:
        request.status_before_hold = current
    else:
        request.status_before_hold = ""
    request.status = to_status
    request.updated_at = now
    request.save(update_fields=["status", "status_before_hold", "updated_at"])
    _record_status_change(request, current, to_status, actor=actor, reason=reason, now=now)
    audit_record(
        actor=actor,
        action="request.status_changed",
        object_type="legal_request",
        object_id=request.public_id,
        data={"from": current, "to": to_status, "reason": reason, **effects, **(audit_data or {})},
        now=now,
    )
    return request


def request_withdraw(
    *, actor: Actor, request: LegalRequest, reason: str, now: datetime
) -> LegalRequest:
    """The agency withdraws its own request (or intake staff do, on the agency's behalf)."""
    if actor.kind == "OFFICER":
        if actor.officer is None or actor.officer.agency_id != request.agency_id:
            raise NotFound(f"no request {request.public_id}", code="request_not_found")
    elif actor.kind == "USER":
        require_role(actor, StaffRole.INTAKE, StaffRole.REVIEWER)
    return request_transition(
        actor=actor, request=request, to_status=RequestStatus.WITHDRAWN, reason=reason, now=now
    )


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
def document_attach(
    *,
    actor: Actor,
    request: LegalRequest,
    upload: IO[bytes],
    original_name: str,
    claimed_type: str | None,
    now: datetime,
) -> Document:
    """Attach a legal document. Its type is decided by its bytes and must match any claimed type."""
    request = lock_request(request)
    if request.status in (RequestStatus.CLOSED, RequestStatus.WITHDRAWN, RequestStatus.REJECTED):
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
    from govreq.review.models import CheckTrigger
    from govreq.review.services import checks_run

    checks_run(actor=actor, request=request, trigger=CheckTrigger.DOCUMENT_ADDED, now=now)
    return document


def document_open(document: Document) -> IO[bytes]:
    return document_path(document.sha256).open("rb")
