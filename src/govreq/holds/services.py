"""Recording jurisdiction holds: placing, lifting, and flagging past approvals for re-review.

What a hold does to the requests it covers (on hold, released, checked again) is the
lifecycle's part (``govreq.lifecycle.holding``), in the same transaction as these writes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NotRequired, TypedDict

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import Agency
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, FieldError, ValidationFailed
from govreq.holds.models import HoldReReview, JurisdictionHold
from govreq.holds.rules import HoldSpec
from govreq.holds.selectors import approved_since_start
from govreq.intake.models import OffenceCategory, RequestKind
from govreq.jurisdictions.models import Jurisdiction

# A hold lifted the instant it started still needs effective_to > effective_from.
_EPSILON = timedelta(microseconds=1)


class HoldTerms(TypedDict):
    """What a hold says: where, from when (and until when), which requests, which exceptions,
    and why (the public reason and the due-diligence notes)."""

    jurisdiction_code: str
    effective_from: datetime
    reason: str
    effective_to: NotRequired[datetime | None]
    review_notes: NotRequired[str]
    scope_kinds: NotRequired[list[str] | None]
    scope_offences: NotRequired[list[str] | None]
    scope_agencies: NotRequired[list[int] | None]
    scope_legal_basis: NotRequired[str]
    allow_emergency: NotRequired[bool]
    allow_offences: NotRequired[list[str] | None]


def hold_record(
    *,
    actor: Actor,
    jurisdiction_code: str,
    effective_from: datetime,
    reason: str,
    now: datetime,
    effective_to: datetime | None = None,
    review_notes: str = "",
    scope_kinds: list[str] | None = None,
    scope_offences: list[str] | None = None,
    scope_agencies: list[int] | None = None,
    scope_legal_basis: str = "",
    allow_emergency: bool = False,
    allow_offences: list[str] | None = None,
) -> JurisdictionHold:
    """Validate and record a hold (``lifecycle.holding.hold_place`` also puts the requests it
    covers on hold, in the same transaction)."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    errors: list[FieldError] = []
    code = jurisdiction_code.strip().upper()
    if not Jurisdiction.objects.filter(code=code).exists():
        errors.append(
            FieldError(field="jurisdiction", message=f"{jurisdiction_code!r} is not an ISO code")
        )
    if not reason.strip():
        errors.append(FieldError(field="reason", message="give the reason (it is published)"))
    naive = [
        name
        for name, value in (("effective_from", effective_from), ("effective_to", effective_to))
        if value is not None and value.tzinfo is None
    ]
    for name in naive:
        errors.append(FieldError(field=name, message="needs a time zone (e.g. ...Z or +08:00)"))
    if naive:
        raise ValidationFailed(errors)
    if effective_to is not None and effective_to <= effective_from:
        errors.append(FieldError(field="effective_to", message="must be after effective_from"))
    kinds = sorted(set(scope_kinds or []))
    offences = sorted(set(scope_offences or []))
    allowed = sorted(set(allow_offences or []))
    agencies = sorted(set(scope_agencies or []))
    for field, values, valid in (
        ("scope_kinds", kinds, RequestKind.values),
        ("scope_offences", offences, OffenceCategory.values),
        ("allow_offences", allowed, OffenceCategory.values),
    ):
        for value in values:
            if value not in valid:
                errors.append(
                    FieldError(field=field, message=f"{value!r} is not one of {', '.join(valid)}")
                )
    if agencies:
        known = set(
            Agency.objects.filter(pk__in=agencies, jurisdiction_id=code).values_list(
                "pk", flat=True
            )
        )
        for agency_id in agencies:
            if agency_id not in known:
                errors.append(
                    FieldError(field="scope_agencies", message=f"no agency {agency_id} in {code}")
                )
    if errors:
        raise ValidationFailed(errors)

    hold = JurisdictionHold.objects.create(
        jurisdiction_id=code,
        scope_kinds=kinds,
        scope_offences=offences,
        scope_agencies=agencies,
        scope_legal_basis=scope_legal_basis.strip(),
        allow_emergency=allow_emergency,
        allow_offences=allowed,
        effective_from=effective_from,
        effective_to=effective_to,
        reason=reason.strip(),
        review_notes=review_notes.strip(),
        created_at=now,
        created_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="hold.placed",
        object_type="hold",
        object_id=hold.pk,
        data={
            "jurisdiction": code,
            "effective_from": effective_from,
            "effective_to": effective_to,
            "scope_kinds": kinds,
            "scope_offences": offences,
            "scope_agencies": agencies,
            "scope_legal_basis": hold.scope_legal_basis,
            "allow_emergency": allow_emergency,
            "allow_offences": allowed,
            "reason": hold.reason,
        },
        now=now,
    )
    return hold


def hold_flag_retroactive(
    *, actor: Actor, hold: JurisdictionHold, spec: HoldSpec, now: datetime
) -> list[str]:
    """Requests in scope approved on or after the hold's start must be reviewed again."""
    flagged: list[str] = []
    for request, approved_at in approved_since_start(spec):
        HoldReReview.objects.create(
            hold=hold, request=request, approved_at=approved_at, flagged_at=now
        )
        audit_record(
            actor=actor,
            action="hold.re_review_flagged",
            object_type="legal_request",
            object_id=request.public_id,
            data={"hold": hold.pk, "approved_at": approved_at},
            now=now,
        )
        flagged.append(request.reference)
    return flagged


def hold_mark_lifted(
    *, actor: Actor, hold: JurisdictionHold, reason: str, now: datetime
) -> JurisdictionHold:
    """Record that a hold ends now (``lifecycle.holding.hold_lift`` also releases the requests
    it held)."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    hold = JurisdictionHold.objects.select_for_update().get(pk=hold.pk)
    if not reason.strip():
        raise ValidationFailed.single("reason", "say why the hold is lifted")
    if hold.lifted_at is not None:
        raise Conflict(f"hold #{hold.pk} was already lifted", code="hold_already_lifted")
    if hold.effective_to is not None and hold.effective_to <= now:
        raise Conflict(f"hold #{hold.pk} already ended", code="hold_already_ended")
    hold.lifted_at = now
    hold.lifted_by = actor.user
    hold.lift_reason = reason.strip()
    hold.effective_to = max(now, hold.effective_from + _EPSILON)
    hold.save(update_fields=["lifted_at", "lifted_by", "lift_reason", "effective_to"])
    audit_record(
        actor=actor,
        action="hold.lifted",
        object_type="hold",
        object_id=hold.pk,
        data={"reason": hold.lift_reason},
        now=now,
    )
    return hold
