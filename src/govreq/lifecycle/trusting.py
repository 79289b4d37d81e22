"""Trust in the requester over time: the follow-up process an emergency disclosure obliges,
confidence kept current, and agencies verified again when the policy says so.

The call-back itself is part of review (``lifecycle.reviewing.call_back``); what happens here
is driven by time (the worker's ``trust`` job) or by a reviewer linking the legal process that
followed an emergency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from govreq.accounts.models import RoleAssignment, StaffRole, User
from govreq.accounts.permissions import require_role
from govreq.agencies.models import Agency, AgencyContact, FraudFlagKind
from govreq.agencies.trust import agency_contact_add, agency_reverify, fraud_flag_raise
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, NotFound, ValidationFailed
from govreq.core.mail import mail_on_commit
from govreq.intake.models import LegalRequest, RequestKind
from govreq.intake.services import lock_request
from govreq.jurisdictions.names import country_name
from govreq.review.confidence import (
    confidence_refresh_on_commit,
    confidences_refresh_all,
    follow_up_obligation_open,
    follow_ups_overdue,
)
from govreq.review.models import AgencyConfidence, FollowUpObligation

_NOT_FOLLOW_UPS = frozenset({RequestKind.EMERGENCY, RequestKind.PRESERVATION})


def follow_up_oblige(*, actor: Actor, request: LegalRequest, now: datetime) -> None:
    """An emergency disclosure was approved: the agency owes formal legal process (in the
    approval's transaction)."""
    obligation = follow_up_obligation_open(request, now=now)
    if obligation is None:
        return
    audit_record(
        actor=actor,
        action="request.follow_up_due",
        object_type="legal_request",
        object_id=request.public_id,
        data={"due_at": obligation.due_at},
        now=now,
    )


@transaction.atomic
def follow_up_link(
    *, actor: Actor, emergency: LegalRequest, follow_up: LegalRequest, now: datetime
) -> FollowUpObligation:
    """A reviewer records that ``follow_up`` is the formal legal process for ``emergency``."""
    require_role(actor, StaffRole.INTAKE, StaffRole.REVIEWER)
    first, second = sorted([emergency, follow_up], key=lambda r: r.pk)
    lock_request(first)
    lock_request(second)
    obligation = FollowUpObligation.objects.select_for_update().filter(emergency=emergency).first()
    if obligation is None:
        raise NotFound(
            f"{emergency.reference} owes no follow-up (no emergency disclosure was approved)",
            code="follow_up_not_owed",
        )
    if obligation.fulfilled_at is not None:
        raise Conflict(
            f"{emergency.reference}'s follow-up is already {obligation.fulfilled_by}",
            code="follow_up_fulfilled",
        )
    problems = []
    if follow_up.agency_id != emergency.agency_id:
        problems.append("it comes from another agency")
    if follow_up.kind in _NOT_FOLLOW_UPS:
        problems.append("an emergency or preservation request is not formal legal process")
    if follow_up.received_at < emergency.received_at:
        problems.append("it arrived before the emergency")
    if problems:
        raise ValidationFailed.single("follow_up", "; ".join(problems))
    obligation.fulfilled_by = follow_up
    obligation.fulfilled_at = now
    obligation.save(update_fields=["fulfilled_by", "fulfilled_at"])
    audit_record(
        actor=actor,
        action="request.follow_up_received",
        object_type="legal_request",
        object_id=emergency.public_id,
        data={
            "follow_up": follow_up.reference,
            "due_at": obligation.due_at,
            "late": obligation.missed_at is not None,
        },
        now=now,
    )
    return obligation


@dataclass(kw_only=True)
class TrustSwept:
    missed: list[str] = field(default_factory=list)  # emergencies whose follow-up is late
    reverify: list[str] = field(default_factory=list)  # agencies newly overdue
    refreshed: int = 0


def trust_sweep(*, actor: Actor, now: datetime) -> TrustSwept:
    """The worker's trust job: follow-ups that did not come in time lower the agency's
    confidence (a fraud flag) and staff are told; every agency's confidence is computed again;
    agencies newly overdue for re-verification are flagged to intake staff. Idempotent."""
    swept = TrustSwept()
    for obligation in follow_ups_overdue(now):
        if follow_up_miss(actor=actor, obligation=obligation, now=now):
            swept.missed.append(obligation.emergency.reference)
    overdue_before = set(
        AgencyConfidence.objects.filter(reverify_overdue=True).values_list("agency_id", flat=True)
    )
    with transaction.atomic():
        rows = confidences_refresh_all(now=now)
        swept.refreshed = len(rows)
        for row in rows:
            if row.reverify_overdue and row.agency_id not in overdue_before:
                _tell_reverify(row, now)
                swept.reverify.append(row.agency.name)
    return swept


@transaction.atomic
def follow_up_miss(
    *, actor: Actor, obligation: FollowUpObligation, now: datetime, tell: bool = True
) -> bool:
    """The legal process did not come in time: a fraud flag lowers the agency's and the
    officer's confidence, and the reviewers are told (unless ``tell`` is false: the demo's
    history). False if it was already settled (another worker, or a reviewer, was first)."""
    obligation = (
        FollowUpObligation.objects.select_for_update()
        .select_related("emergency__agency", "emergency__officer")
        .get(pk=obligation.pk)
    )
    if obligation.fulfilled_at is not None or obligation.missed_at is not None:
        return False
    emergency = obligation.emergency
    obligation.missed_at = now
    obligation.save(update_fields=["missed_at"])
    fraud_flag_raise(
        actor=actor,
        agency=emergency.agency,
        officer=emergency.officer,
        kind=FraudFlagKind.FOLLOW_UP_MISSED,
        request_reference=emergency.reference,
        note=f"No legal process by {obligation.due_at:%Y-%m-%d %H:%M} UTC",
        now=now,
    )
    confidence_refresh_on_commit(emergency.agency, now=now)
    for person in _staff(StaffRole.REVIEWER) if tell else []:
        named = {
            "reference": emergency.reference,
            "agency": emergency.agency.name,
            "due": f"{obligation.due_at.astimezone(person.zone):%Y-%m-%d %H:%M} {person.zone.key}",
        }
        with translation.override(person.language or "en"):
            subject = _("[govreq] %(reference)s: no legal process followed the emergency") % named
            body = (
                _(
                    "%(agency)s obtained data under emergency request %(reference)s and was due "
                    "to send formal legal process by %(due)s. None has been linked to it."
                )
                % named
                + "\n\n"
                + _(
                    "Its confidence score was lowered. Ask the agency for the legal process, and "
                    "link it to the emergency when it arrives."
                )
            )
        mail_on_commit(
            subject=subject,
            body=body,
            to=[person.email],
            key=f"follow-up-missed-{obligation.pk}-{person.pk}",
        )
    return True


def _tell_reverify(row: AgencyConfidence, now: datetime) -> None:
    if row.reverify_due is None:
        return
    agency = row.agency
    for person in _staff(StaffRole.INTAKE):
        with translation.override(person.language or "en"):
            named = {
                "agency": agency.name,
                "place": country_name(agency.jurisdiction_id),
                "verified": f"{agency.verified_at:%Y-%m-%d}",
                "due": f"{row.reverify_due:%Y-%m-%d}",
            }
            subject = _("[govreq] %(agency)s: verify the agency again") % named
            body = (
                _(
                    "%(agency)s (%(place)s) was last verified on %(verified)s; the policy asks "
                    "for it again by %(due)s. Check it against an official directory (never the "
                    "contact details in its requests) and record how."
                )
                % named
            )
        mail_on_commit(
            subject=subject,
            body=body,
            to=[person.email],
            key=f"reverify-{agency.pk}-{row.reverify_due:%Y%m%d}-{person.pk}",
        )


def _staff(role: StaffRole) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            pk__in=RoleAssignment.objects.filter(role=role).values("user_id"),
        ).order_by("pk")
    )


# --- verification, with the confidence kept current --------------------------------------------


@transaction.atomic
def agency_verify_again(*, actor: Actor, agency: Agency, method: str, now: datetime) -> Agency:
    agency = agency_reverify(actor=actor, agency=agency, method=method, now=now)
    confidence_refresh_on_commit(agency, now=now)
    return agency


@transaction.atomic
def agency_contact_verify(
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
    contact = agency_contact_add(
        actor=actor,
        agency=agency,
        kind=kind,
        phone=phone,
        directory=directory,
        directory_url=directory_url,
        label=label,
        now=now,
    )
    confidence_refresh_on_commit(agency, now=now)
    return contact
