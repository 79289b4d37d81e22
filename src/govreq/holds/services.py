"""Recording jurisdiction holds: placing, lifting, and flagging past approvals for re-review.

What a hold does to the requests it covers (on hold, released, checked again) is the
lifecycle's part (``govreq.lifecycle.holding``), in the same transaction as these writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

from django.db import IntegrityError, transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import Agency
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from govreq.holds.models import (
    HoldChange,
    HoldChangeKind,
    HoldChangeState,
    HoldReReview,
    JurisdictionHold,
    ReReviewResolution,
)
from govreq.holds.rules import HoldSpec, HoldTerms
from govreq.holds.selectors import approved_since_start
from govreq.intake.models import OffenceCategory, RequestKind
from govreq.jurisdictions.models import Jurisdiction

# A hold lifted the instant it started still needs effective_to > effective_from.
_EPSILON = timedelta(microseconds=1)


def hold_terms_clean(**terms: Unpack[HoldTerms]) -> HoldTerms:
    """Validate a hold's terms and return them normalised (nothing is written): every problem
    at once, each naming its field."""
    jurisdiction_code = terms["jurisdiction_code"]
    effective_from = terms["effective_from"]
    effective_to = terms.get("effective_to")
    reason = terms["reason"]
    scope_agencies = terms.get("scope_agencies")
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
    kinds = sorted(set(terms.get("scope_kinds") or []))
    offences = sorted(set(terms.get("scope_offences") or []))
    allowed = sorted(set(terms.get("allow_offences") or []))
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

    return HoldTerms(
        jurisdiction_code=code,
        effective_from=effective_from,
        effective_to=effective_to,
        reason=reason.strip(),
        reason_zh_hant=terms.get("reason_zh_hant", "").strip(),
        review_notes=terms.get("review_notes", "").strip(),
        scope_kinds=kinds,
        scope_offences=offences,
        scope_agencies=agencies,
        scope_legal_basis=terms.get("scope_legal_basis", "").strip(),
        received_from_start=bool(terms.get("received_from_start", False)),
        allow_emergency=bool(terms.get("allow_emergency", False)),
        allow_offences=allowed,
    )


def hold_record(
    *, actor: Actor, now: datetime, confirmed_by: Actor | None = None, **terms: Unpack[HoldTerms]
) -> JurisdictionHold:
    """Validate and record a hold (``lifecycle.holding`` also puts the requests it covers on
    hold, in the same transaction)."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    clean = hold_terms_clean(**terms)
    code = clean["jurisdiction_code"]
    effective_from, effective_to = clean["effective_from"], clean.get("effective_to")
    kinds, offences = clean.get("scope_kinds") or [], clean.get("scope_offences") or []
    agencies, allowed = clean.get("scope_agencies") or [], clean.get("allow_offences") or []
    allow_emergency = clean.get("allow_emergency", False)
    received_from_start = clean.get("received_from_start", False)
    scope_legal_basis, reason = clean.get("scope_legal_basis", ""), clean["reason"]
    review_notes = clean.get("review_notes", "")
    hold = JurisdictionHold.objects.create(
        jurisdiction_id=code,
        scope_kinds=kinds,
        scope_offences=offences,
        scope_agencies=agencies,
        scope_legal_basis=scope_legal_basis.strip(),
        received_from_start=received_from_start,
        allow_emergency=allow_emergency,
        allow_offences=allowed,
        effective_from=effective_from,
        effective_to=effective_to,
        reason=reason.strip(),
        reason_zh_hant=clean.get("reason_zh_hant", ""),
        review_notes=review_notes.strip(),
        created_at=now,
        created_by=actor.user,
        confirmed_by=confirmed_by.user if confirmed_by else None,
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
            "received_from_start": received_from_start,
            "allow_emergency": allow_emergency,
            "allow_offences": allowed,
            "reason": hold.reason,
            "reason_zh_hant": hold.reason_zh_hant,
            "confirmed_by": confirmed_by.label if confirmed_by else None,
        },
        now=now,
    )
    return hold


def hold_flag_retroactive(
    *, actor: Actor, hold: JurisdictionHold, spec: HoldSpec, now: datetime
) -> list[str]:
    """Requests in scope approved on or after the hold's start must be reviewed again."""
    flagged: list[str] = []
    for request, approved_at in approved_since_start(spec, now=now):
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
    if hold.voided_at is not None:
        raise Conflict(f"hold #{hold.pk} was voided", code="hold_voided")
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


# --- four eyes: proposed changes ---------------------------------------------------------------


def terms_to_json(terms: HoldTerms) -> dict[str, Any]:
    """Terms as stored on a proposed change (moments in UTC ISO 8601)."""
    stored: dict[str, Any] = dict(terms)
    for name in ("effective_from", "effective_to"):
        moment = stored.get(name)
        stored[name] = moment.astimezone(UTC).isoformat() if moment is not None else None
    return stored


def terms_from_json(stored: dict[str, Any]) -> HoldTerms:
    terms: dict[str, Any] = dict(stored)
    for name in ("effective_from", "effective_to"):
        value = terms.get(name)
        terms[name] = datetime.fromisoformat(value) if value else None
    return HoldTerms(**terms)  # type: ignore[typeddict-item]


def hold_change_record(
    *,
    actor: Actor,
    kind: HoldChangeKind,
    now: datetime,
    preview: dict[str, Any],
    hold: JurisdictionHold | None = None,
    terms: HoldTerms | None = None,
    reason: str = "",
) -> HoldChange:
    """Record a proposed hold change, waiting for a second policy admin."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    if actor.user is None:
        raise PermissionDenied(
            "a hold change is proposed by a named policy admin (--as EMAIL)", code="role_required"
        )
    if kind != HoldChangeKind.PLACE:
        if not reason.strip():
            verb = "lifted" if kind == HoldChangeKind.LIFT else "voided"
            raise ValidationFailed.single("reason", f"say why the hold is {verb}")
        assert hold is not None
        if hold.voided_at is not None:
            raise Conflict(f"hold #{hold.pk} was voided", code="hold_voided")
        if HoldChange.objects.filter(hold=hold, state=HoldChangeState.PENDING).exists():
            raise Conflict(
                f"hold #{hold.pk} already has a change waiting for confirmation",
                code="hold_change_pending",
            )
    try:
        with transaction.atomic():
            change = HoldChange.objects.create(
                kind=kind,
                hold=hold,
                terms=terms_to_json(terms) if terms is not None else {},
                reason=reason.strip(),
                preview=preview,
                proposed_by=actor.user,
                proposed_at=now,
            )
    except IntegrityError:  # another admin's proposal for this hold, a moment earlier
        raise Conflict(
            "this hold already has a change waiting for confirmation", code="hold_change_pending"
        ) from None
    audit_record(
        actor=actor,
        action="hold.change_proposed",
        object_type="hold_change",
        object_id=change.pk,
        data={
            "kind": kind,
            "hold": hold.pk if hold else None,
            "terms": change.terms,
            "reason": change.reason,
            "preview": preview,
        },
        now=now,
    )
    return change


def hold_change_lock(change: HoldChange) -> HoldChange:
    return (
        HoldChange.objects.select_for_update(of=("self",)).select_related("hold").get(pk=change.pk)
    )


def hold_change_decide(
    *, actor: Actor, change: HoldChange, state: HoldChangeState, now: datetime, note: str = ""
) -> HoldChange:
    """Mark a pending change confirmed (by a policy admin other than its proposer) or
    cancelled (by any policy admin, the proposer included)."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    change = hold_change_lock(change)
    if change.state != HoldChangeState.PENDING:
        raise Conflict(
            f"hold change #{change.pk} was already {change.get_state_display().lower()}",
            code="hold_change_decided",
        )
    if state == HoldChangeState.CONFIRMED and (
        actor.user is None
        or change.proposed_by_id is None
        or actor.user.pk == change.proposed_by_id
    ):
        raise Conflict(
            "a hold change needs a second policy admin: the one who proposed it cannot confirm it",
            code="four_eyes",
        )
    change.state = state
    change.decided_by = actor.user
    change.decided_at = now
    change.save(update_fields=["state", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action="hold.change_confirmed"
        if state == HoldChangeState.CONFIRMED
        else "hold.change_cancelled",
        object_type="hold_change",
        object_id=change.pk,
        data={"kind": change.kind, "hold": change.hold_id, "note": note.strip()},
        now=now,
    )
    return change


def hold_change_attach(change: HoldChange, hold: JurisdictionHold) -> None:
    """A confirmed placement names the hold it created."""
    change.hold = hold
    change.save(update_fields=["hold"])


def hold_mark_voided(
    *, actor: Actor, hold: JurisdictionHold, reason: str, now: datetime
) -> JurisdictionHold:
    """A hold placed by mistake: it stays on record, audited, but counts nowhere (reports leave
    it out and say so; its re-review flags lapse)."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    hold = JurisdictionHold.objects.select_for_update().get(pk=hold.pk)
    if hold.voided_at is not None:
        raise Conflict(f"hold #{hold.pk} was already voided", code="hold_voided")
    hold.voided_at = now
    hold.voided_by = actor.user
    hold.void_reason = reason.strip()
    hold.save(update_fields=["voided_at", "voided_by", "void_reason"])
    HoldReReview.objects.filter(hold=hold, resolved_at__isnull=True).update(
        resolved_at=now,
        resolution=ReReviewResolution.VOIDED,
        resolved_by=actor.user,
        resolution_reason=f"Hold #{hold.pk} voided: {hold.void_reason}",
    )
    audit_record(
        actor=actor,
        action="hold.voided",
        object_type="hold",
        object_id=hold.pk,
        data={"reason": hold.void_reason},
        now=now,
    )
    return hold


def re_review_record_resolution(
    *,
    actor: Actor,
    flag: HoldReReview,
    resolution: ReReviewResolution,
    reason: str,
    now: datetime,
) -> HoldReReview:
    """A reviewer's answer to a re-review flag: the approval stands (CONFIRMED), or the request
    goes back to review (RETURNED; the lifecycle moves it)."""
    require_role(actor, StaffRole.REVIEWER)
    if not reason.strip():
        raise ValidationFailed.single("reason", "say why (it is part of the case)")
    flag = HoldReReview.objects.select_for_update(of=("self",)).get(pk=flag.pk)
    if flag.resolved_at is not None:
        raise Conflict("this re-review flag was already resolved", code="re_review_resolved")
    flag.resolved_at = now
    flag.resolution = resolution
    flag.resolved_by = actor.user
    flag.resolution_reason = reason.strip()
    flag.save(update_fields=["resolved_at", "resolution", "resolved_by", "resolution_reason"])
    audit_record(
        actor=actor,
        action="hold.re_review_resolved",
        object_type="legal_request",
        object_id=flag.request.public_id,
        data={"hold": flag.hold_id, "resolution": resolution, "reason": flag.resolution_reason},
        now=now,
    )
    return flag
