"""A request arrives: recorded, held if a hold covers it, checked; documents added; withdrawn.

The intake area records what arrived (``intake.services``); here the same transaction applies
any hold in force and runs the legitimacy checks, so no request ever exists unchecked.
"""

from __future__ import annotations

from datetime import datetime
from typing import IO

from django.db import IntegrityError, connection, transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import Officer
from govreq.audit.services import audit_deferred
from govreq.core.actors import Actor
from govreq.core.errors import NotFound
from govreq.core.queue import enqueue_with_transaction
from govreq.core.writeturn import write_turn
from govreq.intake import services as intake
from govreq.intake.models import Channel, Document, LegalRequest, RequestStatus
from govreq.intake.schemas import RequestSubmission
from govreq.intake.services import SubmitResult
from govreq.lifecycle.document_reading import read_document
from govreq.lifecycle.holding import hold_apply_to_new_request
from govreq.lifecycle.transitions import request_transition
from govreq.policy.selectors import policy_current
from govreq.review import deadlines
from govreq.review.models import CheckTrigger
from govreq.review.services import checks_run


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
    """Record a request from ``officer``'s agency, put it on hold if a hold covers it, and check it.

    With an ``idempotency_key``, a repeat of the same body returns the original request and
    creates nothing; the same key with a different body is refused (409).

    Submissions from many agencies at once share two things: the year's reference counter and
    the audit chain. So the transaction that writes is kept short and takes them late: the
    replay check, validation, the policy and the response target are read before it; on
    PostgreSQL the reference is taken in a short transaction of its own just before it (a
    submission failing after that leaves a gap in the numbers); the request, its targets (one
    insert), history, hold and checks are written first, and the audit events last, in one
    append (``audit_deferred``), so the chain lock is held only for that append and the commit.
    On SQLite, submissions wait for their turn to write in a fair queue (``write_turn``).
    """
    intake.submission_authorise(actor=actor, officer=officer)
    body_hash = intake.submission_hash(submission, received_at)
    try:
        prepared = intake.request_prepare(
            actor=actor,
            officer=officer,
            submission=submission,
            channel=channel,
            now=now,
            received_at=received_at,
            idempotency_key=idempotency_key,
            body_hash=body_hash,
        )
        if isinstance(prepared, SubmitResult):
            return prepared
        respond_by = deadlines.respond_by(
            kind=submission.kind,
            received_at=prepared.received,
            agency_deadline=submission.deadline_at,
            policy=policy_current()[1].deadlines,
        )
        reference = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            with transaction.atomic():
                reference = intake.reference_take(prepared.received.year)
        with write_turn(), transaction.atomic(), audit_deferred():
            recorded = intake.request_record(prepared, reference=reference, respond_by=respond_by)
            # The row was written just now by this transaction and nobody else can see it
            # before the commit: it needs no re-read and no lock.
            request = hold_apply_to_new_request(actor=actor, request=recorded, now=now)
            checks_run(actor=actor, request=request, trigger=CheckTrigger.INTAKE, now=now)
            return SubmitResult(request=request, created=True)
    except IntegrityError:
        # Two submissions with one key at the same instant: the loser finds the winner's row.
        if idempotency_key is None:
            raise
        replay = intake.idempotent_replay(officer, idempotency_key, body_hash)
        if replay is None:
            raise
        return replay


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
    """Attach a legal document, then check the request again (NO_LEGAL_DOCUMENT may clear); its
    text is read by the worker once this transaction commits (``lifecycle.document_reading``)."""
    document = intake.document_store(
        actor=actor,
        request=request,
        upload=upload,
        original_name=original_name,
        claimed_type=claimed_type,
        now=now,
    )
    checks_run(actor=actor, request=document.request, trigger=CheckTrigger.DOCUMENT_ADDED, now=now)
    enqueue_with_transaction(read_document, document_id=document.pk)
    return document


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
