"""Placing and lifting jurisdiction holds, and applying them to requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import Agency
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, FieldError, ValidationFailed
from govreq.holds.models import HoldReReview, JurisdictionHold
from govreq.holds.rules import HoldSpec, excepted, holding, in_force, in_scope
from govreq.holds.selectors import hold_spec, holds_possibly_in_force, request_scope
from govreq.intake.models import (
    LegalRequest,
    OffenceCategory,
    RequestKind,
    RequestStatus,
    StatusChange,
)
from govreq.intake.services import lock_request, request_transition
from govreq.intake.workflow import FINAL_STATUSES
from govreq.jurisdictions.models import Jurisdiction
from govreq.review.models import CheckTrigger

S = RequestStatus
# A hold lifted the instant it started still needs effective_to > effective_from.
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True, kw_only=True)
class HoldPlaced:
    hold: JurisdictionHold
    put_on_hold: list[str]  # references moved to ON_HOLD
    excepted: list[str]  # references in scope that proceed under an exception
    flagged: list[str]  # references approved since effective_from, flagged for re-review


@dataclass(frozen=True, kw_only=True)
class HoldLifted:
    hold: JurisdictionHold
    released: list[str]


@transaction.atomic
def hold_place(
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
) -> HoldPlaced:
    """Pause disclosures to a jurisdiction. Open requests in scope go ON_HOLD at once."""
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
    if effective_from > now:
        errors.append(
            FieldError(
                field="effective_from", message="lies in the future; place the hold when it starts"
            )
        )
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
    spec = hold_spec(hold)
    put_on_hold: list[str] = []
    excepted_refs: list[str] = []
    if in_force(spec, now):
        for request in _open_requests_in_scope(spec):
            scope = request_scope(request)
            if excepted(spec, scope):
                excepted_refs.append(request.reference)
            elif request.status != S.ON_HOLD:
                request_transition(
                    actor=actor,
                    request=request,
                    to_status=S.ON_HOLD,
                    reason=f"Hold #{hold.pk}: {hold.reason}",
                    now=now,
                    audit_data={"hold": hold.pk},
                )
                put_on_hold.append(request.reference)
            _rerun_checks(actor, request, CheckTrigger.HOLD_PLACED, now)
    flagged = _flag_retroactive(actor, hold, spec, now)
    return HoldPlaced(hold=hold, put_on_hold=put_on_hold, excepted=excepted_refs, flagged=flagged)


def _open_requests_in_scope(spec: HoldSpec) -> list[LegalRequest]:
    candidates = LegalRequest.objects.filter(jurisdiction_id=spec.jurisdiction).exclude(
        status__in=FINAL_STATUSES
    )
    if spec.scope_kinds:
        candidates = candidates.filter(kind__in=spec.scope_kinds)
    if spec.scope_offences:
        candidates = candidates.filter(offence_category__in=spec.scope_offences)
    if spec.scope_agencies:
        candidates = candidates.filter(agency_id__in=spec.scope_agencies)
    rows = candidates.select_related("agency").order_by("pk")
    return [r for r in rows if in_scope(spec, request_scope(r))]


def _approved_since_start(spec: HoldSpec) -> list[tuple[LegalRequest, datetime]]:
    """Requests in scope (not excepted) approved within the hold's period."""
    approvals = (
        StatusChange.objects.filter(
            to_status=S.APPROVED,
            occurred_at__gte=spec.effective_from,
            request__jurisdiction_id=spec.jurisdiction,
        )
        .select_related("request", "request__agency")
        .order_by("occurred_at")
    )
    if spec.effective_to is not None:
        approvals = approvals.filter(occurred_at__lt=spec.effective_to)
    found: list[tuple[LegalRequest, datetime]] = []
    seen: set[int] = set()
    for change in approvals:
        request = change.request
        scope = request_scope(request)
        if request.pk in seen or not in_scope(spec, scope) or excepted(spec, scope):
            continue
        seen.add(request.pk)
        found.append((request, change.occurred_at))
    return found


def _flag_retroactive(
    actor: Actor, hold: JurisdictionHold, spec: HoldSpec, now: datetime
) -> list[str]:
    """Requests in scope approved on or after the hold's start must be reviewed again."""
    flagged: list[str] = []
    for request, approved_at in _approved_since_start(spec):
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


@transaction.atomic
def hold_lift(*, actor: Actor, hold: JurisdictionHold, reason: str, now: datetime) -> HoldLifted:
    """End a hold: each request it held returns to where it was, and is checked again."""
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
    released = _release(actor, hold, now, f"Hold #{hold.pk} lifted: {hold.lift_reason}")
    return HoldLifted(hold=hold, released=released)


def _release(actor: Actor, hold: JurisdictionHold, now: datetime, reason: str) -> list[str]:
    spec = hold_spec(hold)
    released: list[str] = []
    on_hold = (
        LegalRequest.objects.filter(jurisdiction_id=spec.jurisdiction, status=S.ON_HOLD)
        .select_related("agency")
        .order_by("pk")
    )
    for request in on_hold:
        scope = request_scope(request)
        if not in_scope(spec, scope):
            continue
        if holding(holds_possibly_in_force(spec.jurisdiction, now), scope, now):
            continue  # another hold still covers it
        request_transition(
            actor=actor,
            request=request,
            to_status=S(request.status_before_hold),
            reason=reason,
            now=now,
            audit_data={"hold": hold.pk},
        )
        _rerun_checks(actor, request, CheckTrigger.HOLD_LIFTED, now)
        released.append(request.reference)
    return released


@transaction.atomic
def holds_release_expired(*, actor: Actor, now: datetime) -> list[str]:
    """Release requests held by holds whose ``effective_to`` has passed (run it from cron)."""
    ended = JurisdictionHold.objects.filter(effective_to__lte=now, lifted_at__isnull=True)
    released: list[str] = []
    for hold in ended:
        released += _release(actor, hold, now, f"Hold #{hold.pk} ended")
    return released


def hold_apply_to_new_request(
    *, actor: Actor, request: LegalRequest, now: datetime
) -> LegalRequest:
    """A new request in scope of a hold in force arrives ON_HOLD."""
    holds = holding(
        holds_possibly_in_force(request.jurisdiction_id, now), request_scope(request), now
    )
    if not holds:
        return request
    return request_transition(
        actor=actor,
        request=request,
        to_status=S.ON_HOLD,
        reason=f"Hold #{holds[0].id}: {holds[0].reason}",
        now=now,
        audit_data={"hold": holds[0].id},
    )


def _rerun_checks(actor: Actor, request: LegalRequest, trigger: str, now: datetime) -> None:
    from govreq.review.services import checks_run

    checks_run(actor=actor, request=lock_request(request), trigger=trigger, now=now)


@dataclass(frozen=True, kw_only=True)
class HoldPreview:
    would_hold: list[str]
    excepted: list[str]
    would_flag: list[str]


def hold_preview(
    *,
    jurisdiction_code: str,
    effective_from: datetime,
    now: datetime,
    effective_to: datetime | None = None,
    scope_kinds: list[str] | None = None,
    scope_offences: list[str] | None = None,
    scope_agencies: list[int] | None = None,
    scope_legal_basis: str = "",
    allow_emergency: bool = False,
    allow_offences: list[str] | None = None,
) -> HoldPreview:
    """What placing this hold would do, without doing it ("this hold would put N on hold")."""
    spec = HoldSpec(
        id=0,
        jurisdiction=jurisdiction_code.strip().upper(),
        scope_kinds=frozenset(scope_kinds or []),
        scope_offences=frozenset(scope_offences or []),
        scope_agencies=frozenset(scope_agencies or []),
        scope_legal_basis=scope_legal_basis.strip(),
        allow_emergency=allow_emergency,
        allow_offences=frozenset(allow_offences or []),
        effective_from=effective_from,
        effective_to=effective_to,
    )
    would_hold: list[str] = []
    excepted_refs: list[str] = []
    if in_force(spec, now):
        for request in _open_requests_in_scope(spec):
            if excepted(spec, request_scope(request)):
                excepted_refs.append(request.reference)
            elif request.status != S.ON_HOLD:
                would_hold.append(request.reference)
    flagged = [request.reference for request, _ in _approved_since_start(spec)]
    return HoldPreview(would_hold=would_hold, excepted=excepted_refs, would_flag=flagged)
