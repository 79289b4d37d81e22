"""Staff endpoints for disclosure: a request's productions, collecting (or retrying) one, the
scope check and manifest, release, and deliveries made by other means.

Routes translate HTTP to the lifecycle's actions; roles, holds and the scope check are enforced
there.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from govreq.api.auth import caller_staff
from govreq.api.schemas import ERRORS
from govreq.disclosure.models import Production
from govreq.disclosure.selectors import production_get, productions_of
from govreq.intake import selectors as intake_selectors
from govreq.lifecycle import disclosing

request_productions_router = Router()
productions_router = Router()


class ScopeViolationOut(Schema):
    kind: str
    file: str
    message: str


class DownloadOut(Schema):
    officer: str
    channel: str
    client_address: str
    downloaded_at: datetime

    @staticmethod
    def resolve_officer(obj: Any) -> str:
        return str(obj.officer.email)


class StaffProductionOut(Schema):
    id: uuid.UUID = Field(alias="public_id")
    request: str
    decision: int = Field(alias="decision_id")
    purpose: str
    status: str
    source: str
    attempts: int
    error: str
    created_at: datetime
    collected_at: datetime | None
    accounts_found: int
    accounts_missing: int
    record_count: int
    package_size: int
    scope_violations: list[ScopeViolationOut]
    manifest_sha256: str
    signing_key_id: str
    released_at: datetime | None
    released_by: str | None
    expires_at: datetime | None
    delivered_at: datetime | None
    purged_at: datetime | None

    @staticmethod
    def resolve_request(obj: Production) -> str:
        return obj.request.reference

    @staticmethod
    def resolve_released_by(obj: Production) -> str | None:
        return obj.released_by.email if obj.released_by else None


class StaffProductionDetailOut(StaffProductionOut):
    manifest: dict[str, Any] | None
    manifest_signature: str
    downloads: list[DownloadOut]

    @staticmethod
    def resolve_downloads(obj: Production) -> list[Any]:
        return list(obj.downloads.select_related("officer"))


@request_productions_router.get(
    "/{request_id}/productions",
    response={200: list[StaffProductionOut], **ERRORS},
    summary="A request's productions (and preservation snapshots)",
)
def list_productions(request: HttpRequest, request_id: str) -> list[Production]:
    caller_staff(request)
    legal_request = intake_selectors.request_get(public_id=request_id)
    return list(productions_of(legal_request).select_related("request", "released_by"))


@request_productions_router.post(
    "/{request_id}/productions",
    response={202: StaffProductionOut, **ERRORS},
    summary="Collect (or retry) the current decision's production",
    description="Normally started by the approval itself; the collection runs in the background.",
)
def collect_production(request: HttpRequest, request_id: str) -> Status[Production]:
    actor = caller_staff(request)
    production = disclosing.production_collect(
        actor=actor,
        request=intake_selectors.request_get(public_id=request_id),
        now=timezone.now(),
    )
    production.refresh_from_db()
    return Status(202, production)


@request_productions_router.post(
    "/{request_id}/deliveries",
    response={200: dict[str, str], **ERRORS},
    summary="Record a delivery made outside govreq (with its evidence); closes the request",
)
def deliver_other_means(
    request: HttpRequest,
    request_id: str,
    evidence: File[UploadedFile],
    reason: Form[str] = "",
) -> dict[str, str]:
    actor = caller_staff(request)
    closed = disclosing.delivery_record_other_means(
        actor=actor,
        request=intake_selectors.request_get(public_id=request_id),
        reason=reason,
        evidence=evidence,
        evidence_name=evidence.name or "evidence",
        now=timezone.now(),
    )
    return {"reference": closed.reference, "status": closed.status}


@productions_router.get(
    "/{production_id}",
    response={200: StaffProductionDetailOut, **ERRORS},
    summary="A production: its scope check, signed manifest and downloads",
)
def get_production(request: HttpRequest, production_id: str) -> Production:
    caller_staff(request)
    return production_get(production_id)


@productions_router.post(
    "/{production_id}/release",
    response={200: StaffProductionOut, **ERRORS},
    summary="Release a collected production to the agency",
    description=(
        "Refused (409) when the scope check finds anything outside the approved decision "
        "(`out_of_scope`, naming it), while a hold covers the request (`on_hold`), for "
        "preservation snapshots (`preservation_not_released`) and for productions not yet "
        "collected."
    ),
)
def release_production(request: HttpRequest, production_id: str) -> Production:
    actor = caller_staff(request)
    return disclosing.production_release(
        actor=actor, production=production_get(production_id), now=timezone.now()
    )
