"""Do the accounts a request names exist on the platform? Before deciding, a reviewer looks each
target up in the data source (the preservation snapshot a request names, or the platform's
records): it matches one account, none, or several. No record is read and the account found is
not kept, only whether one matched; the look-up itself is audited, as any access to the
platform's records is.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict
from govreq.disclosure.sources import DataSourceError, Resolution, TargetRef
from govreq.intake.models import FINAL_STATUSES, LegalRequest, Target, TargetMatch
from govreq.intake.services import lock_request
from govreq.lifecycle.disclosing import data_source_for


def targets_match(*, actor: Actor, request: LegalRequest, now: datetime) -> list[Target]:
    """Look every target of ``request`` up and record what matched. The look-ups run outside
    any transaction (a slow source never holds the request's lock); the results are written
    and audited together."""
    require_role(actor, StaffRole.REVIEWER)
    if request.status in FINAL_STATUSES:
        raise Conflict(f"{request.reference} is closed", code="illegal_transition")
    try:
        source, source_name = data_source_for(request)
    except DataSourceError as unavailable:
        raise Conflict(
            f"the data source is not available: {unavailable}", code="data_source_unavailable"
        ) from unavailable
    targets = list(request.targets.order_by("pk"))
    try:
        found = {
            t.pk: _match(source.resolve(TargetRef(type=t.type, value=t.value))) for t in targets
        }
    except DataSourceError as failed:
        raise Conflict(
            f"the data source failed: {failed}", code="data_source_unavailable"
        ) from failed
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    with transaction.atomic():
        request = lock_request(request)
        if request.status in FINAL_STATUSES:
            raise Conflict(f"{request.reference} is closed", code="illegal_transition")
        for target in targets:
            target.match = found[target.pk]
            target.matched_at = now
        Target.objects.bulk_update(targets, ["match", "matched_at"])
        counts = {m.value: sum(1 for v in found.values() if v == m) for m in TargetMatch}
        audit_record(
            actor=actor,
            action="request.targets_matched",
            object_type="legal_request",
            object_id=request.public_id,
            data={"source": source_name, **{k: v for k, v in counts.items() if v}},
            now=now,
        )
    return targets


def _match(resolution: Resolution) -> str:
    if resolution.account is not None:
        return TargetMatch.ONE
    if resolution.several:
        return TargetMatch.SEVERAL
    if not resolution.looked_up:
        return TargetMatch.UNKNOWN
    return TargetMatch.NONE
