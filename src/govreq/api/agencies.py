"""Staff endpoints for agencies' trust (/api/v1/staff/agencies): confidence with its reasons,
verified contact numbers, fraud flags, re-verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from govreq.agencies.models import Agency, ContactKind, FraudFlag
from govreq.agencies.selectors import agency_get
from govreq.api.auth import caller_staff
from govreq.api.schemas import ERRORS
from govreq.api.staff_requests import ConfidenceOut, ContactOut, confidence_out, contacts_out
from govreq.lifecycle import trusting
from govreq.review.confidence import agency_confidence_now, follow_ups_open_for

router = Router()


class FlagOut(Schema):
    kind: str
    officer: str | None
    request_reference: str
    note: str
    raised_at: datetime


class AgencyTrustOut(Schema):
    id: int
    name: str
    jurisdiction: str
    status: str
    verified_at: datetime | None
    verification_method: str
    reverify_due: datetime | None
    confidence: ConfidenceOut
    contacts: list[ContactOut]
    fraud_flags: list[FlagOut]
    follow_ups_owed: list[str] = Field(description="Emergencies whose legal process is awaited.")


class ContactIn(Schema):
    kind: ContactKind = ContactKind.SWITCHBOARD
    phone: str = Field(min_length=4, max_length=40)
    directory: str = Field(min_length=1, max_length=300)
    directory_url: str = Field(default="", max_length=500)
    label: str = Field(default="", max_length=200)


class ReverifyIn(Schema):
    method: str = Field(min_length=1, max_length=5000)


def agency_trust(agency: Agency) -> dict[str, Any]:
    confidence = agency_confidence_now(agency, now=timezone.now())
    return {
        "id": agency.pk,
        "name": agency.name,
        "jurisdiction": agency.jurisdiction_id,
        "status": agency.status,
        "verified_at": agency.verified_at,
        "verification_method": agency.verification_method,
        "reverify_due": confidence.reverify_due,
        "confidence": confidence_out(confidence),
        "contacts": contacts_out(agency),
        "fraud_flags": [
            {
                "kind": f.kind,
                "officer": f.officer.email if f.officer else None,
                "request_reference": f.request_reference,
                "note": f.note,
                "raised_at": f.raised_at,
            }
            for f in FraudFlag.objects.filter(agency=agency).select_related("officer")[:200]
        ],
        "follow_ups_owed": [o.emergency.reference for o in follow_ups_open_for(agency)],
    }


@router.get("/{agency_id}", response={200: AgencyTrustOut, **ERRORS}, summary="An agency's trust")
def get_agency(request: HttpRequest, agency_id: int) -> dict[str, Any]:
    caller_staff(request)
    return agency_trust(agency_get(agency_id))


@router.post(
    "/{agency_id}/contacts",
    response={201: AgencyTrustOut, **ERRORS},
    summary="Record a verified contact number (from an official directory)",
)
def add_contact(request: HttpRequest, agency_id: int, payload: ContactIn) -> Status[dict[str, Any]]:
    actor = caller_staff(request)
    agency = agency_get(agency_id)
    trusting.agency_contact_verify(
        actor=actor,
        agency=agency,
        kind=str(payload.kind),
        phone=payload.phone,
        directory=payload.directory,
        directory_url=payload.directory_url,
        label=payload.label,
        now=timezone.now(),
    )
    return Status(201, agency_trust(agency))


@router.post(
    "/{agency_id}/reverify",
    response={200: AgencyTrustOut, **ERRORS},
    summary="Record that the agency was verified again",
)
def reverify(request: HttpRequest, agency_id: int, payload: ReverifyIn) -> dict[str, Any]:
    actor = caller_staff(request)
    agency = trusting.agency_verify_again(
        actor=actor, agency=agency_get(agency_id), method=payload.method, now=timezone.now()
    )
    return agency_trust(agency)
