"""Writes about trust in an agency: its verified contacts (the numbers a call-back may use),
fraud flags on it and its officers, and re-verification.

Each function is keyword-only, checks the actor's role first, and appends its audit event in
the caller's transaction.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import (
    Agency,
    AgencyContact,
    AgencyStatus,
    ContactKind,
    FraudFlag,
    FraudFlagKind,
    Officer,
)
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, FieldError, NotFound, ValidationFailed

_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_phone(text: str) -> str:
    """E.164: a plus and 7-15 digits; spaces, dots, dashes and brackets are dropped."""
    return re.sub(r"[\s.\-()/]", "", text.strip())


@transaction.atomic
def agency_contact_add(
    *,
    actor: Actor,
    agency: Agency,
    kind: str,
    phone: str,
    directory: str,
    now: datetime,
    directory_url: str = "",
    label: str = "",
) -> AgencyContact:
    """Record a number found in an official directory, independently of any request."""
    require_role(actor, StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
    if actor.user is None:
        raise ValidationFailed.single("actor", "a verified contact is recorded by a named person")
    errors: list[FieldError] = []
    number = normalise_phone(phone)
    if kind not in ContactKind.values:
        errors.append(
            FieldError(field="kind", message=f"{kind!r} is not one of {', '.join(ContactKind)}")
        )
    if not _PHONE.match(number):
        errors.append(
            FieldError(field="phone", message="write it in international form, e.g. +85228600000")
        )
    if not directory.strip():
        errors.append(
            FieldError(
                field="directory",
                message="name the official directory the number comes from (never the request)",
            )
        )
    if directory_url and not directory_url.startswith(("https://", "http://")):
        errors.append(FieldError(field="directory_url", message="must be an http(s) address"))
    if errors:
        raise ValidationFailed(errors)
    if AgencyContact.objects.filter(agency=agency, phone=number, retired_at__isnull=True).exists():
        raise Conflict(f"{number} is already a contact of this agency", code="contact_exists")
    contact = AgencyContact.objects.create(
        agency=agency,
        kind=kind,
        label=label.strip(),
        phone=number,
        directory=directory.strip(),
        directory_url=directory_url.strip(),
        verified_by=actor.user,
        verified_at=now,
    )
    audit_record(
        actor=actor,
        action="agency.contact_added",
        object_type="agency",
        object_id=agency.pk,
        data={
            "contact": contact.pk,
            "kind": kind,
            "phone": number,
            "directory": contact.directory,
            "directory_url": contact.directory_url,
        },
        now=now,
    )
    return contact


@transaction.atomic
def agency_contact_retire(
    *, actor: Actor, contact: AgencyContact, reason: str, now: datetime
) -> AgencyContact:
    require_role(actor, StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
    if not reason.strip():
        raise ValidationFailed.single("reason", "say why the number is no longer used")
    contact = AgencyContact.objects.select_for_update().get(pk=contact.pk)
    if contact.retired_at is not None:
        raise Conflict("this contact was already retired", code="contact_retired")
    contact.retired_at = now
    contact.save(update_fields=["retired_at"])
    audit_record(
        actor=actor,
        action="agency.contact_retired",
        object_type="agency",
        object_id=contact.agency_id,
        data={"contact": contact.pk, "reason": reason.strip()},
        now=now,
    )
    return contact


def contact_for_call_back(agency: Agency, contact_id: int) -> AgencyContact:
    """A current verified contact of this agency (a call-back may use no other number)."""
    contact = AgencyContact.objects.filter(
        pk=contact_id, agency=agency, retired_at__isnull=True
    ).first()
    if contact is None:
        raise NotFound(
            f"contact {contact_id} is not a current verified contact of {agency.name}",
            code="contact_not_found",
        )
    return contact


def fraud_flag_raise(
    *,
    actor: Actor,
    agency: Agency,
    kind: FraudFlagKind,
    now: datetime,
    officer: Officer | None = None,
    request_reference: str = "",
    note: str = "",
) -> FraudFlag:
    """Something lowers trust in the agency (and the officer): recorded, audited, counted on
    the confidence record and by the risk checks. Runs in the caller's transaction."""
    flag = FraudFlag.objects.create(
        agency=agency,
        officer=officer,
        kind=kind,
        request_reference=request_reference,
        note=note.strip(),
        raised_at=now,
        raised_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="agency.fraud_flagged",
        object_type="agency",
        object_id=agency.pk,
        data={
            "flag": flag.pk,
            "kind": kind,
            "officer": officer.pk if officer else None,
            "request": request_reference,
            "note": flag.note,
        },
        now=now,
    )
    return flag


@transaction.atomic
def agency_reverify(*, actor: Actor, agency: Agency, method: str, now: datetime) -> Agency:
    """Verify a verified agency again (the policy asks for it yearly): how, by whom, when."""
    require_role(actor, StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if agency.status != AgencyStatus.VERIFIED:
        raise Conflict(
            f"{agency.name} is {agency.get_status_display().lower()}; verify it first",
            code="agency_not_verified",
        )
    if not method.strip():
        raise ValidationFailed.single("method", "say how the agency was verified again")
    previous = agency.verified_at
    agency.verified_at = now
    agency.verified_by = actor.user
    agency.verification_method = method.strip()
    agency.save(update_fields=["verified_at", "verified_by", "verification_method"])
    audit_record(
        actor=actor,
        action="agency.reverified",
        object_type="agency",
        object_id=agency.pk,
        data={"previous": previous, "method": agency.verification_method},
        now=now,
    )
    return agency
