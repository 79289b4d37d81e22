"""Personas and shortcuts for the review tests."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from govreq.accounts.models import User
from govreq.accounts.services import staff_add
from govreq.agencies.models import AgencyContact, Officer
from govreq.agencies.trust import agency_contact_add
from govreq.api.tokens import api_token_issue
from govreq.core.actors import Actor
from govreq.demo.pdf import tiny_pdf
from govreq.disclosure.models import Production
from govreq.intake.models import Channel, LegalRequest
from govreq.intake.schemas import RequestSubmission
from govreq.lifecycle import disclosing, reviewing
from govreq.lifecycle.receiving import document_attach, request_submit
from tests.conftest import SYSTEM, valid_submission

ROLES = {
    "ivy": ["INTAKE"],
    "rita": ["REVIEWER"],
    "raj": ["REVIEWER"],
    "alex": ["APPROVER"],
    "ana": ["APPROVER"],
    "hana": ["HUMAN_RIGHTS_OFFICER"],
    "pat": ["POLICY_ADMIN"],
    "aud": ["AUDITOR"],
    "nobody": [],
}


@dataclass
class Staff:
    users: dict[str, User]
    tokens: dict[str, str]

    def actor(self, name: str) -> Actor:
        return Actor.for_user(self.users[name])


# A complete human-rights officer's assessment, for tests that give that approval.
HR_ASSESSMENT = {
    "risk_found": "No sign the account belongs to a journalist or activist.",
    "standards_applied": "UN Guiding Principles on Business and Human Rights; ICCPR art. 17.",
    "conclusion": "NO_SIGNIFICANT_RISK",
    "conditions": "",
}


def make_staff() -> Staff:
    users: dict[str, User] = {}
    tokens: dict[str, str] = {}
    now = timezone.now()
    for name, roles in ROLES.items():
        users[name] = staff_add(
            actor=SYSTEM, email=f"{name}@platform.example", name=name.title(), roles=roles, now=now
        )
    root = User.objects.create_superuser(email="root@platform.example", name="Root", password=None)
    users["root"] = root
    for name, user in users.items():
        tokens[name] = api_token_issue(actor=SYSTEM, user=user, now=now).secret
    return Staff(users=users, tokens=tokens)


def submit(
    officer: Officer, *, document: bool = True, now: datetime | None = None, **overrides: Any
) -> LegalRequest:
    at = now or timezone.now()
    request = request_submit(
        actor=Actor.for_officer(officer),
        officer=officer,
        submission=RequestSubmission.model_validate(valid_submission(**overrides)),
        channel=Channel.API,
        now=at,
    ).request
    if document:
        document_attach(
            actor=Actor.for_officer(officer),
            request=request,
            upload=io.BytesIO(tiny_pdf([f"Order {request.reference}"])),
            original_name="order.pdf",
            claimed_type="application/pdf",
            now=at,
        )
    request.refresh_from_db()
    return request


def submit_received(officer: Officer, days_ago: float, **overrides: Any) -> LegalRequest:
    """A request received ``days_ago`` (its data range ending before that)."""
    today = timezone.now().date()
    overrides.setdefault(
        "data_range",
        {"start": str(today - timedelta(days=90)), "end": str(today - timedelta(days=10))},
    )
    return submit(officer, now=timezone.now() - timedelta(days=days_ago), **overrides)


EMERGENCY = {
    "kind": "EMERGENCY",
    "legal_basis": "",
    "offence_category": "VIOLENT_CRIME",
    "narrative": "Kidnapping in progress; the captors use the account.",
    "data_categories": ["BASIC_SUBSCRIBER", "LOCATION"],
    "emergency": {
        "danger": "A child was kidnapped this morning and the captors threaten to kill her.",
        "why_now": "The captors set a deadline of tonight; a court order takes days.",
    },
}


def verified_contact(request: LegalRequest, staff: Staff) -> AgencyContact:
    """The agency's switchboard, from its government's directory (added once)."""
    existing = AgencyContact.objects.filter(agency=request.agency, retired_at__isnull=True).first()
    return existing or agency_contact_add(
        actor=staff.actor("ivy"),
        agency=request.agency,
        kind="SWITCHBOARD",
        phone="+852 2860 2000",
        directory="Government telephone directory",
        now=timezone.now(),
    )


def confirm_by_call_back(request: LegalRequest, staff: Staff) -> None:
    """The second-level check of an emergency: the agency confirms it on a verified number."""
    reviewing.call_back(
        actor=staff.actor("rita"),
        request=request,
        contact_id=verified_contact(request, staff).pk,
        called_at=timezone.now(),
        outcome="CONFIRMED",
        person_reached="Duty inspector",
        now=timezone.now(),
    )


def approve(request: LegalRequest, staff: Staff, **decision: Any) -> LegalRequest:
    """Review, decide (FULL unless ``decision`` says otherwise) and approve twice (an emergency
    after the agency confirmed it on a call-back)."""
    now = timezone.now()
    reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=now)
    if request.kind == "EMERGENCY":
        confirm_by_call_back(request, staff)
    reviewing.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome=decision.pop("outcome", "FULL"),
        rationale="Valid and narrow",
        now=now,
        **decision,
    )
    for name in ("alex", "ana"):
        reviewing.approval_give(actor=staff.actor(name), request=request, now=now)
    request.refresh_from_db()
    return request


def collect(request: LegalRequest) -> Production:
    """Collect the current decision's production, as the worker would after the approval."""
    production = Production.objects.get(request=request, status="PENDING")
    return disclosing.production_collect_now(
        actor=Actor.system("worker"), production=production, now=timezone.now()
    ).production


def deliver(request: LegalRequest, staff: Staff, officer: Officer) -> Production:
    """Collect, release and download (the delivery receipt) an approved request's package."""
    production = disclosing.production_release(
        actor=staff.actor("rita"), production=collect(request), now=timezone.now()
    )
    download = disclosing.package_download(
        actor=Actor.for_officer(officer),
        production=production,
        channel="API",
        client_address="192.0.2.10",
        user_agent="test",
        now=timezone.now(),
    )
    b"".join(download.chunks)
    production.refresh_from_db()
    request.refresh_from_db()
    return production
