"""Disclosure as a stage of the request's life: collect what was approved, release it, the
agency downloads it (the delivery receipt), the package expires; and preservation.

    APPROVED --collect, scope check, release--> PRODUCED --first download--> DELIVERED
    DELIVERED --package expired and purged--> CLOSED
    PRODUCED --expired undelivered--> APPROVED (collect again, or record another delivery)
    APPROVED --delivered by other means, evidence attached--> DELIVERED --> CLOSED
    DECIDED (PRESERVE) --sealed snapshot--> PRESERVED

Collection starts by itself when a request is approved (or decided PRESERVE): a production is
opened in the same transaction and its collection is enqueued when that transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, DomainError, NotFound
from govreq.core.queue import enqueue_with_transaction
from govreq.disclosure import services as disclosure
from govreq.disclosure.models import Production, ProductionPurpose, ProductionStatus
from govreq.disclosure.selectors import production_for_decision
from govreq.disclosure.sources import DataSource, DataSourceError, data_source_from_file
from govreq.disclosure.sources.snapshot import SnapshotSource
from govreq.intake import services as intake
from govreq.intake.models import LegalRequest, RequestStatus
from govreq.intake.services import lock_request
from govreq.lifecycle.agency_mail import tell_officer
from govreq.lifecycle.guards import refuse_if_held
from govreq.lifecycle.notifying import (
    notices_for_named,
    notices_open,
    notices_send_for,
    refuse_while_notices_due,
)
from govreq.lifecycle.transitions import request_transition
from govreq.review.models import Decision, DecisionOutcome
from govreq.review.services import current_decision

S = RequestStatus
P = ProductionStatus


class Gone(DomainError):
    code = "package_expired"
    http_status = 410


# --- collection ----------------------------------------------------------------------------------


def data_source_for(request: LegalRequest) -> tuple[DataSource, str]:
    """Where a request's records come from: its preservation's sealed snapshot when it names one,
    otherwise the platform's configured source."""
    if request.preservation_id is not None:
        snapshot = (
            Production.objects.filter(
                request_id=request.preservation_id, purpose=ProductionPurpose.PRESERVATION
            )
            .order_by("-id")
            .first()
        )
        if snapshot is None:
            raise DataSourceError("the named preservation has no snapshot")
        snapshot_source = SnapshotSource(snapshot)
        return snapshot_source, snapshot_source.name
    source = data_source_from_file(settings.DATA_SOURCE_CONFIG)
    return source, source.name


def open_production(
    *, actor: Actor, request: LegalRequest, decision: Decision, now: datetime
) -> Production:
    """Open the decision's production and collect it once this transaction commits (the task is
    queued with the transaction: no crash between the commit and the queueing can lose it)."""
    production = disclosure.production_open(
        actor=actor, request=request, decision=decision, now=now
    )
    enqueue_with_transaction(collect_production, production_id=production.pk)
    return production


@transaction.atomic
def production_collect(*, actor: Actor, request: LegalRequest, now: datetime) -> Production:
    """Start (or retry) collecting the current decision's production by hand; it is normally
    started by the approval (or the PRESERVE decision) itself."""
    require_role(actor, StaffRole.REVIEWER)
    request = lock_request(request)
    decision = current_decision(request)
    approved = request.status == S.APPROVED and decision is not None
    preserving = (
        request.status == S.DECIDED
        and decision is not None
        and decision.outcome == DecisionOutcome.PRESERVE
    )
    if not (approved or preserving) or decision is None:
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()}; only an approved request "
            "(or one decided PRESERVE) is collected",
            code="nothing_to_collect",
        )
    existing = production_for_decision(decision)
    if existing is not None and existing.status not in (P.PENDING, P.FAILED):
        raise Conflict(
            f"its production is already {P(existing.status).label.lower()}",
            code="production_exists",
        )
    return open_production(actor=actor, request=request, decision=decision, now=now)


@dataclass(frozen=True, kw_only=True)
class CollectionResult:
    production: Production
    ran: bool  # False when another worker had it, or it was no longer waiting


def production_collect_now(
    *, actor: Actor, production: Production, now: datetime
) -> CollectionResult:
    """Collect a production: claim it, build its package from the data source (outside any
    transaction), then record the result; a sealed preservation snapshot moves its request to
    PRESERVED in that same transaction. A failure is recorded and can be retried."""
    if not disclosure.production_claim(production=production, now=now):
        production.refresh_from_db()
        return CollectionResult(production=production, ran=False)
    production = Production.objects.select_related("request__agency", "decision").get(
        pk=production.pk
    )
    source: DataSource | None = None
    try:
        source, name = data_source_for(production.request)
        collected = disclosure.production_build(
            production=production, source=source, source_name=name, now=now
        )
    except Exception as error:  # the source's own errors too: every failure is retryable
        with transaction.atomic():
            production = disclosure.production_record_failure(
                actor=actor,
                production=production,
                error=f"{type(error).__name__}: {error}",
                now=now,
            )
        return CollectionResult(production=production, ran=True)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    with transaction.atomic():
        request = lock_request(production.request)
        production = Production.objects.select_for_update().get(pk=production.pk)
        production = disclosure.production_record_collected(
            actor=actor, production=production, collected=collected, now=now
        )
        if production.purpose == ProductionPurpose.DISCLOSURE and production.status == P.READY:
            notices_open(production=production, now=now)
            notices_for_named(request=request)
        if (
            production.purpose == ProductionPurpose.PRESERVATION
            and production.status == P.READY
            and request.status == S.DECIDED
        ):
            request_transition(
                actor=actor,
                request=request,
                to_status=S.PRESERVED,
                reason="Snapshot sealed",
                now=now,
                audit_data={"production": str(production.public_id)},
            )
            tell_officer(request, "decision")
    if production.purpose == ProductionPurpose.DISCLOSURE and production.status == P.READY:
        notices_send_for(actor=actor, production=production, now=now)
    return CollectionResult(production=production, ran=True)


@task()
def collect_production(production_id: int) -> str:
    """The worker's task: collect one production (the worker reads the clock)."""
    production = Production.objects.filter(pk=production_id).first()
    if production is None:
        return "gone"
    result = production_collect_now(
        actor=Actor.system("worker"), production=production, now=timezone.now()
    )
    return result.production.status if result.ran else "skipped"


# --- release -------------------------------------------------------------------------------------


@transaction.atomic
def production_release(*, actor: Actor, production: Production, now: datetime) -> Production:
    """Release a collected production to the agency, after the scope check and the manifest
    were shown: refused while a hold covers the request, for preservation snapshots, and for
    anything outside the approved decision."""
    require_role(actor, StaffRole.REVIEWER)
    request = lock_request(production.request)
    refuse_if_held(request, now)
    production = Production.objects.select_for_update().get(pk=production.pk)
    disclosure.production_check_before_release(production)
    refuse_while_notices_due(production)
    decision = current_decision(request)
    if request.status != S.APPROVED or decision is None or decision.pk != production.decision_id:
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()}; only the production of "
            "the current approved decision can be released",
            code="illegal_transition",
        )
    production = disclosure.production_mark_released(actor=actor, production=production, now=now)
    request_transition(
        actor=actor,
        request=request,
        to_status=S.PRODUCED,
        reason="Package released to the agency",
        now=now,
        audit_data={"production": str(production.public_id)},
    )
    tell_officer(request, "package")
    return production


# --- download: the delivery receipt --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PackageDownloadStream:
    production: Production
    file_name: str
    chunks: Iterator[bytes]


def package_download(
    *,
    actor: Actor,
    production: Production,
    channel: str,
    client_address: str,
    user_agent: str,
    now: datetime,
) -> PackageDownloadStream:
    """An officer of the requesting agency downloads a released package. Another agency's
    production is NotFound; an expired one Gone; none while a hold covers the request. The
    download is recorded (and the first one delivers the request) before any byte is sent."""
    officer = actor.officer
    if officer is None or officer.agency_id != production.request.agency_id:
        raise NotFound(f"no production {production.public_id}", code="production_not_found")
    with transaction.atomic():
        request = lock_request(production.request)
        production = Production.objects.select_for_update().get(pk=production.pk)
        if production.released_at is None:
            raise NotFound(f"no production {production.public_id}", code="production_not_found")
        if production.status == P.PURGED or (
            production.expires_at is not None and production.expires_at <= now
        ):
            raise Gone(
                f"the package expired on {production.expires_at:%Y-%m-%d %H:%M} UTC and its "
                "bytes are deleted; the manifest remains",
            )
        refuse_if_held(request, now)
        first = disclosure.download_record(
            actor=actor,
            production=production,
            officer=officer,
            channel=channel,
            client_address=client_address,
            user_agent=user_agent,
            now=now,
        )
        if first and request.status == S.PRODUCED:
            request_transition(
                actor=actor,
                request=request,
                to_status=S.DELIVERED,
                reason="Package downloaded by the agency",
                now=now,
                audit_data={"production": str(production.public_id)},
            )
    return PackageDownloadStream(
        production=production,
        file_name=disclosure.package_file_name(production),
        chunks=disclosure.package_stream(production),
    )


# --- expiry --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Purged:
    productions: list[str]
    closed: list[str]
    returned: list[str]
    bytes: int


def productions_purge_expired(*, actor: Actor, now: datetime) -> Purged:
    """Purge the bytes of every package whose download link has expired (the manifest stays).
    A delivered request closes; an undelivered one returns to APPROVED, pending, so staff can
    collect again or record a delivery by other means."""
    expired = list(
        Production.objects.filter(
            status__in=[P.RELEASED, P.DELIVERED], expires_at__lte=now
        ).values_list("pk", flat=True)
    )
    purged: list[str] = []
    closed: list[str] = []
    returned: list[str] = []
    freed = 0
    for pk in expired:
        with transaction.atomic():
            production = Production.objects.select_related("request").get(pk=pk)
            request = lock_request(production.request)
            production = Production.objects.select_for_update().get(pk=pk)
            if production.status not in (P.RELEASED, P.DELIVERED):
                continue  # another worker purged it meanwhile
            delivered = production.delivered_at is not None
            freed += disclosure.production_purge(actor=actor, production=production, now=now)
            purged.append(str(production.public_id))
            if delivered and request.status == S.DELIVERED:
                request_transition(
                    actor=actor,
                    request=request,
                    to_status=S.CLOSED,
                    reason="Delivered; the download period ended",
                    now=now,
                )
                closed.append(request.reference)
            elif not delivered and request.status == S.PRODUCED:
                request_transition(
                    actor=actor,
                    request=request,
                    to_status=S.APPROVED,
                    reason="The package expired undelivered",
                    now=now,
                )
                returned.append(request.reference)
    return Purged(productions=purged, closed=closed, returned=returned, bytes=freed)


# --- closing -------------------------------------------------------------------------------------


@transaction.atomic
def delivery_record_other_means(
    *,
    actor: Actor,
    request: LegalRequest,
    reason: str,
    evidence: IO[bytes],
    evidence_name: str,
    now: datetime,
) -> LegalRequest:
    """An approved disclosure was delivered outside govreq: record how, with the evidence
    attached; the request is delivered and closed, and the report counts it apart."""
    require_role(actor, StaffRole.REVIEWER)
    request = lock_request(request)
    refuse_if_held(request, now)
    decision = current_decision(request)
    if request.status != S.APPROVED or decision is None:
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()}; only an approved request "
            "is delivered this way",
            code="illegal_transition",
        )
    document = intake.document_store(
        actor=actor,
        request=request,
        upload=evidence,
        original_name=evidence_name,
        claimed_type=None,
        now=now,
    )
    disclosure.other_delivery_record(
        actor=actor, request=request, decision=decision, reason=reason, evidence=document, now=now
    )
    request_transition(
        actor=actor,
        request=request,
        to_status=S.DELIVERED,
        reason=f"Delivered by other means: {reason.strip()}",
        now=now,
    )
    return request_transition(
        actor=actor, request=request, to_status=S.CLOSED, reason="Closed after delivery", now=now
    )


# --- preservation: 90 days, extended once, purged at expiry ------------------------------------


def _snapshot(request: LegalRequest) -> Production | None:
    return (
        Production.objects.select_for_update()
        .filter(request=request, purpose=ProductionPurpose.PRESERVATION, status=P.READY)
        .first()
    )


@transaction.atomic
def preservation_extend(*, actor: Actor, request: LegalRequest, now: datetime) -> Production:
    """The agency extends its preservation once, by 90 days, before it expires."""
    officer = actor.officer
    if actor.kind == "OFFICER" and (officer is None or officer.agency_id != request.agency_id):
        raise NotFound(f"no request {request.public_id}", code="request_not_found")
    if actor.kind == "USER":
        require_role(actor, StaffRole.INTAKE, StaffRole.REVIEWER)
    request = lock_request(request)
    snapshot = _snapshot(request) if request.kind == "PRESERVATION" else None
    if snapshot is None or snapshot.expires_at is None:
        raise Conflict(
            f"{request.reference} has no preserved snapshot to extend", code="not_preserved"
        )
    if snapshot.expires_at <= now:
        raise Conflict(
            f"the preservation of {request.reference} expired on "
            f"{snapshot.expires_at:%Y-%m-%d %H:%M} UTC",
            code="preservation_expired",
        )
    if snapshot.extended_at is not None:
        raise Conflict(
            f"the preservation of {request.reference} was already extended once (on "
            f"{snapshot.extended_at:%Y-%m-%d}); a preservation is extended only once",
            code="already_extended",
        )
    snapshot.expires_at += disclosure.PRESERVATION_PERIOD
    snapshot.extended_at = now
    snapshot.reminded_at = None  # remind again before the new end
    snapshot.save(update_fields=["expires_at", "extended_at", "reminded_at"])
    audit_record(
        actor=actor,
        action="preservation.extended",
        object_type="legal_request",
        object_id=request.public_id,
        data={"production": str(snapshot.public_id), "expires_at": snapshot.expires_at},
        now=now,
    )
    return snapshot


@dataclass(frozen=True, kw_only=True)
class PreservationsSwept:
    expired: list[str]
    kept: list[str]  # expired, but a follow-up that names them is still open
    reminded: list[str]


def preservations_sweep(*, actor: Actor, now: datetime) -> PreservationsSwept:
    """Purge expired snapshots (unless an open follow-up names the preservation) and close their
    requests; remind officers 14 days before. The worker runs this; it is idempotent."""
    expired: list[str] = []
    kept: list[str] = []
    reminded: list[str] = []
    due = Production.objects.filter(
        purpose=ProductionPurpose.PRESERVATION, status=P.READY, expires_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            production = Production.objects.select_related("request").get(pk=pk)
            request = lock_request(production.request)
            snapshot = _snapshot(request)
            if (
                snapshot is None
                or snapshot.pk != pk
                or (snapshot.expires_at is not None and snapshot.expires_at > now)
            ):
                continue  # purged or extended meanwhile
            if (
                LegalRequest.objects.filter(preservation=request)
                .exclude(status__in=[S.CLOSED, S.WITHDRAWN, S.REJECTED])
                .exists()
            ):
                kept.append(request.reference)
                continue
            disclosure.production_purge(actor=actor, production=snapshot, now=now)
            if request.status == S.PRESERVED:
                request_transition(
                    actor=actor,
                    request=request,
                    to_status=S.CLOSED,
                    reason="Preservation period ended; the snapshot was deleted",
                    now=now,
                )
            expired.append(request.reference)
    soon = Production.objects.filter(
        purpose=ProductionPurpose.PRESERVATION,
        status=P.READY,
        reminded_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + disclosure.PRESERVATION_REMINDER,
    ).select_related("request")
    for production in soon:
        with transaction.atomic():
            claimed = Production.objects.filter(pk=production.pk, reminded_at__isnull=True).update(
                reminded_at=now
            )
            if claimed:
                tell_officer(production.request, "preservation_expiring")
                reminded.append(production.request.reference)
    return PreservationsSwept(expired=expired, kept=kept, reminded=reminded)
