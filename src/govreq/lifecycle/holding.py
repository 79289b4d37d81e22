"""What a jurisdiction hold does to requests: on hold while it is in force, back when it ends.

Holds are governed with four eyes: a policy admin proposes a placement, a lift or a void (with a
preview of what it would do), and a different policy admin confirms it; only the confirmation
changes anything (``hold_change_confirm``). Placing a hold records it (``holds.services``) and,
in the same transaction, puts every open request it covers ON_HOLD, re-runs their checks and
flags the approvals given since its start for re-review. Lifting or ending it returns each
request it held to where it was, unless another hold still covers it; a re-review flag still
stops delivery until a reviewer resolves it (``re_review_resolve``). Voiding a hold placed by
mistake releases what it held and lapses its flags; reports leave it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Unpack

from django.db import transaction
from django.db.models import Q

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, ValidationFailed
from govreq.holds import services as holds
from govreq.holds.models import (
    HoldChange,
    HoldChangeKind,
    HoldChangeState,
    HoldReReview,
    JurisdictionHold,
    ReReviewResolution,
)
from govreq.holds.rules import HoldTerms, excepted, holding, in_force, in_scope
from govreq.holds.selectors import (
    HoldPreview,
    hold_preview,
    hold_release_preview,
    hold_spec,
    holds_possibly_in_force,
    open_requests_in_scope,
    request_scope,
)
from govreq.intake.models import FINAL_STATUSES, LegalRequest, RequestStatus
from govreq.intake.services import lock_request, lock_requests
from govreq.lifecycle.guards import refuse_if_held
from govreq.lifecycle.transitions import request_transition
from govreq.review.models import CheckTrigger
from govreq.review.services import checks_run

S = RequestStatus


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


def _hold_place(
    *, actor: Actor, confirmed_by: Actor, now: datetime, terms: HoldTerms
) -> HoldPlaced:
    """Pause disclosures to a jurisdiction. Open requests in scope go ON_HOLD at once."""
    hold = holds.hold_record(actor=actor, now=now, confirmed_by=confirmed_by, **terms)
    spec = hold_spec(hold)
    put_on_hold: list[str] = []
    excepted_refs: list[str] = []
    if in_force(spec, now):
        put_on_hold, excepted_refs = _apply(confirmed_by, hold, now)
    # A hold that starts later is applied by the worker when its moment comes (holds_sync).
    flagged = holds.hold_flag_retroactive(actor=confirmed_by, hold=hold, spec=spec, now=now)
    return HoldPlaced(hold=hold, put_on_hold=put_on_hold, excepted=excepted_refs, flagged=flagged)


def _apply(actor: Actor, hold: JurisdictionHold, now: datetime) -> tuple[list[str], list[str]]:
    """The hold is in force: every open request it covers goes ON_HOLD (or proceeds under its
    exception) and is checked again."""
    spec = hold_spec(hold)
    put_on_hold: list[str] = []
    excepted_refs: list[str] = []
    for request in open_requests_in_scope(spec):
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
    JurisdictionHold.objects.filter(pk=hold.pk).update(applied_at=now)
    return put_on_hold, excepted_refs


@dataclass(frozen=True, kw_only=True)
class HoldsSynced:
    started: list[int]  # holds whose start was applied now
    released: list[str]  # references released by holds that ended


def holds_sync(*, actor: Actor, now: datetime) -> HoldsSynced:
    """Apply holds whose moment has come and release the requests of holds that have ended (the
    worker runs this every minute; safe to run twice, or in two workers at once)."""
    started: list[int] = []
    due = JurisdictionHold.objects.filter(
        applied_at__isnull=True,
        lifted_at__isnull=True,
        voided_at__isnull=True,
        effective_from__lte=now,
    ).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=now))
    for pk, jurisdiction in due.values_list("pk", "jurisdiction_id"):
        with transaction.atomic():
            _lock_open_requests(jurisdiction)
            hold = JurisdictionHold.objects.select_for_update().get(pk=pk)
            if (
                hold.applied_at is not None
                or hold.voided_at is not None
                or hold.lifted_at is not None
                or not in_force(hold_spec(hold), now)
            ):
                continue  # applied by another worker meanwhile, or voided or lifted
            _apply(actor, hold, now)
            audit_record(
                actor=actor,
                action="hold.started",
                object_type="hold",
                object_id=hold.pk,
                data={"effective_from": hold.effective_from},
                now=now,
            )
            started.append(hold.pk)
    return HoldsSynced(started=started, released=holds_release_expired(actor=actor, now=now))


@transaction.atomic
def holds_release_expired(*, actor: Actor, now: datetime) -> list[str]:
    """Release requests held by holds whose ``effective_to`` has passed (run it from cron)."""
    ended = JurisdictionHold.objects.filter(
        effective_to__lte=now, lifted_at__isnull=True, voided_at__isnull=True
    )
    released: list[str] = []
    lock_requests(  # every ended hold's open requests at once, in one primary-key order
        LegalRequest.objects.filter(
            jurisdiction_id__in=set(ended.values_list("jurisdiction_id", flat=True))
        ).exclude(status__in=FINAL_STATUSES)
    )
    for hold in ended:
        released += _release(actor, hold, now, f"Hold #{hold.pk} ended")
    return released


def hold_apply_to_new_request(
    *, actor: Actor, request: LegalRequest, now: datetime
) -> LegalRequest:
    """A new request in scope of a hold in force arrives ON_HOLD."""
    holds_now = holding(
        holds_possibly_in_force(request.jurisdiction_id, now), request_scope(request), now
    )
    if not holds_now:
        return request
    return request_transition(
        actor=actor,
        request=request,
        to_status=S.ON_HOLD,
        reason=f"Hold #{holds_now[0].id}: {holds_now[0].reason}",
        now=now,
        audit_data={"hold": holds_now[0].id},
    )


def _lock_open_requests(jurisdiction_code: str) -> None:
    """A hold changes many requests: lock every open request of its jurisdiction first, in
    primary-key order, before anything touches the audit chain (the one lock order: request rows,
    then the chain), so approvals and answers in flight wait instead of deadlocking."""
    lock_requests(
        LegalRequest.objects.filter(jurisdiction_id=jurisdiction_code.strip().upper()).exclude(
            status__in=FINAL_STATUSES
        )
    )


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


def _rerun_checks(actor: Actor, request: LegalRequest, trigger: str, now: datetime) -> None:
    checks_run(actor=actor, request=lock_request(request), trigger=trigger, now=now)


# --- four eyes ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HoldVoided:
    hold: JurisdictionHold
    released: list[str]


def _preview_json(preview: HoldPreview) -> dict[str, object]:
    return {
        "would_hold": preview.would_hold,
        "excepted": preview.excepted,
        "would_flag": preview.would_flag,
        "received_before_start": preview.received_before_start,
        "received_from_start": preview.received_from_start,
    }


@transaction.atomic
def hold_propose(*, actor: Actor, now: datetime, **terms: Unpack[HoldTerms]) -> HoldChange:
    """Propose a hold: validated and previewed now, placed when a second policy admin confirms."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    clean = holds.hold_terms_clean(**terms)
    preview = hold_preview(now=now, **clean)
    return holds.hold_change_record(
        actor=actor,
        kind=HoldChangeKind.PLACE,
        terms=clean,
        preview=_preview_json(preview),
        now=now,
    )


@transaction.atomic
def hold_lift_propose(
    *, actor: Actor, hold: JurisdictionHold, reason: str, now: datetime
) -> HoldChange:
    """Propose lifting a hold, with the requests it would release; a second admin confirms."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    if hold.lifted_at is not None:
        raise Conflict(f"hold #{hold.pk} was already lifted", code="hold_already_lifted")
    if hold.effective_to is not None and hold.effective_to <= now:
        raise Conflict(f"hold #{hold.pk} already ended", code="hold_already_ended")
    return holds.hold_change_record(
        actor=actor,
        kind=HoldChangeKind.LIFT,
        hold=hold,
        reason=reason,
        preview={"would_release": hold_release_preview(hold, now)},
        now=now,
    )


@transaction.atomic
def hold_void_propose(
    *, actor: Actor, hold: JurisdictionHold, reason: str, now: datetime
) -> HoldChange:
    """Propose voiding a hold placed by mistake; a second admin confirms."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    flags = HoldReReview.objects.filter(hold=hold, resolved_at__isnull=True)
    return holds.hold_change_record(
        actor=actor,
        kind=HoldChangeKind.VOID,
        hold=hold,
        reason=reason,
        preview={
            "would_release": hold_release_preview(hold, now),
            "flags_lapsing": sorted(flags.values_list("request__reference", flat=True)),
        },
        now=now,
    )


@transaction.atomic
def hold_change_confirm(
    *, actor: Actor, change: HoldChange, now: datetime
) -> HoldPlaced | HoldLifted | HoldVoided:
    """A second policy admin confirms a proposed change, and it happens now."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    jurisdiction = (
        change.hold.jurisdiction_id
        if change.hold is not None
        else change.terms["jurisdiction_code"]
    )
    _lock_open_requests(jurisdiction)  # the request rows first, the chain last
    change = holds.hold_change_decide(
        actor=actor, change=change, state=HoldChangeState.CONFIRMED, now=now
    )
    proposer = Actor.for_user(change.proposed_by) if change.proposed_by else actor
    if change.kind == HoldChangeKind.PLACE:
        placed = _hold_place(
            actor=proposer, confirmed_by=actor, now=now, terms=holds.terms_from_json(change.terms)
        )
        holds.hold_change_attach(change, placed.hold)
        return placed
    assert change.hold is not None
    if change.kind == HoldChangeKind.LIFT:
        hold = holds.hold_mark_lifted(actor=actor, hold=change.hold, reason=change.reason, now=now)
        released = _release(actor, hold, now, f"Hold #{hold.pk} lifted: {hold.lift_reason}")
        return HoldLifted(hold=hold, released=released)
    hold = holds.hold_mark_voided(actor=actor, hold=change.hold, reason=change.reason, now=now)
    released = _release(actor, hold, now, f"Hold #{hold.pk} voided: {hold.void_reason}")
    return HoldVoided(hold=hold, released=released)


@transaction.atomic
def hold_change_cancel(
    *, actor: Actor, change: HoldChange, now: datetime, note: str = ""
) -> HoldChange:
    """Withdraw a proposed change (its proposer, or another policy admin)."""
    return holds.hold_change_decide(
        actor=actor, change=change, state=HoldChangeState.CANCELLED, now=now, note=note
    )


# --- re-review ----------------------------------------------------------------------------------


@transaction.atomic
def re_review_resolve(
    *, actor: Actor, flag: HoldReReview, resolution: str, reason: str, now: datetime
) -> HoldReReview:
    """A reviewer answers a re-review flag. CONFIRMED: the approval stands. RETURNED: the request
    goes back to review and its decision lapses. Until then nothing is delivered or closed
    (``lifecycle.guards``), whatever happens to the hold."""
    require_role(actor, StaffRole.REVIEWER)
    request = lock_request(flag.request)
    choice = ReReviewResolution(resolution) if resolution in ReReviewResolution.values else None
    if choice not in (ReReviewResolution.CONFIRMED, ReReviewResolution.RETURNED):
        raise ValidationFailed.single("resolution", "must be CONFIRMED or RETURNED")
    refuse_if_held(request, now)
    if choice == ReReviewResolution.RETURNED and request.status not in (S.DECIDED, S.APPROVED):
        raise Conflict(
            f"{request.reference} is {S(request.status).label.lower()}: only a decided or "
            "approved request can be returned to review (a released package must expire first; "
            "what was delivered cannot be undone, so confirm it with the reason)",
            code="illegal_transition",
        )
    flag = holds.re_review_record_resolution(
        actor=actor, flag=flag, resolution=choice, reason=reason, now=now
    )
    if choice == ReReviewResolution.RETURNED:
        request_transition(
            actor=actor,
            request=request,
            to_status=S.IN_REVIEW,
            reason=f"Re-review under hold #{flag.hold_id}: {flag.resolution_reason}",
            now=now,
        )
    return flag
