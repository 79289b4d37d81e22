"""When a fact the checks read changes, the open requests it touches are checked again.

An agency verified or suspended, access granted to a pending agency, a new policy version: each
is recorded by its own area and, in the same transaction, the checks of the open requests it
affects run again, so no request is decided on a stale result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from govreq.agencies import services as agencies
from govreq.agencies.models import AccessRequest, Agency, AgencyStatus, Officer
from govreq.core.actors import Actor
from govreq.core.errors import ValidationFailed
from govreq.intake.models import FINAL_STATUSES, LegalRequest
from govreq.policy.models import PolicyVersion
from govreq.policy.services import policy_version_add
from govreq.review.models import CheckTrigger
from govreq.review.services import checks_rerun_open, checks_run


def _recheck_open_requests(actor: Actor, agency: Agency, now: datetime) -> None:
    """The agency's standing is a fact the checks read: run them again on its open requests."""
    open_requests = (
        LegalRequest.objects.filter(agency=agency)
        .exclude(status__in=FINAL_STATUSES)
        .select_related("agency")
        .order_by("pk")
    )
    for request in open_requests.iterator(chunk_size=500):
        checks_run(actor=actor, request=request, trigger=CheckTrigger.AGENCY_CHANGED, now=now)


@transaction.atomic
def agency_verify(*, actor: Actor, agency: Agency, method: str, now: datetime) -> Agency:
    """Record that staff verified the agency is real, and how (never from the request itself);
    its open requests are checked again."""
    agency = agencies.agency_verify(actor=actor, agency=agency, method=method, now=now)
    _recheck_open_requests(actor, agency, now)
    return agency


@transaction.atomic
def agency_suspend(*, actor: Actor, agency: Agency, reason: str, now: datetime) -> Agency:
    """Suspend an agency (e.g. a hijacked mailbox): its officers' tokens and sessions stop
    working and its open requests are checked again (AGENCY_NOT_VERIFIED blocks them)."""
    agency = agencies.agency_suspend(actor=actor, agency=agency, reason=reason, now=now)
    _recheck_open_requests(actor, agency, now)
    return agency


@transaction.atomic
def access_request_approve(
    *,
    actor: Actor,
    access: AccessRequest,
    agency: Agency,
    method: str,
    lookalike_override: str = "",
    now: datetime,
) -> Officer:
    """Grant access (verifying a pending agency on the way); a newly verified agency's open
    requests are checked again. A look-alike domain needs ``lookalike_override``."""
    was_pending = agency.status == AgencyStatus.PENDING
    officer = agencies.access_request_approve(
        actor=actor,
        access=access,
        agency=agency,
        method=method,
        lookalike_override=lookalike_override,
        now=now,
    )
    if was_pending:
        _recheck_open_requests(actor, officer.agency, now)
    return officer


@transaction.atomic
def access_request_grant(
    *,
    actor: Actor,
    access: AccessRequest,
    agency: Agency | None,
    new_agency_kind: str,
    new_agency_domain: str,
    method: str,
    lookalike_override: str = "",
    now: datetime,
) -> Officer:
    """Grant access for an existing agency, or register the requester's agency first (from the
    access request's name and jurisdiction, with the domain and kind staff confirmed).

    A new agency's domain is the one staff found in the directory they verified it with, typed
    by them: never taken from the request by default. One override reason covers a look-alike
    domain of the new agency and the requester's address."""
    if agency is None:
        if not new_agency_domain.strip():
            raise ValidationFailed.single(
                "new_agency_domain",
                "give the new agency's official domain, as listed where you verified it",
            )
        agency = agencies.agency_add(
            actor=actor,
            name=access.agency_name,
            jurisdiction_code=access.jurisdiction_id,
            kind=new_agency_kind or access.agency_kind,
            domains=[new_agency_domain],
            lookalike_override=lookalike_override,
            now=now,
        )
    return access_request_approve(
        actor=actor,
        access=access,
        agency=agency,
        method=method,
        lookalike_override=lookalike_override,
        now=now,
    )


@transaction.atomic
def policy_update(
    *, actor: Actor, document: dict[str, Any], note: str, now: datetime
) -> PolicyVersion:
    """Publish a new policy version and re-run the checks of every open request under it."""
    version = policy_version_add(actor=actor, document=document, note=note, now=now)
    checks_rerun_open(actor=actor, trigger="POLICY_CHANGED", now=now)
    return version
