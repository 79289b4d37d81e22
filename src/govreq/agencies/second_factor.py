"""Whether an agency's officers must confirm each portal sign-in with an authenticator app.

Kept apart from ``agencies.services`` (the agency's registration and verification); the portal
enforces the requirement at sign-in (``portal.second_factor``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import Agency
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict


@transaction.atomic
def agency_officer_totp_set(
    *, actor: Actor, agency: Agency, required: bool, now: datetime
) -> Agency:
    """Require (or stop requiring) the agency's officers to use an authenticator app (TOTP)
    after the e-mailed code. Intake staff and policy admins; audited as
    ``agency.officer_totp_required`` or ``agency.officer_totp_waived``. Takes effect at once:
    officers signed in without one are asked for it on their next page."""
    require_role(actor, StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if agency.require_officer_totp == required:
        state = "already requires" if required else "already does not require"
        raise Conflict(
            f"agency {agency.pk} {state} an authenticator of its officers",
            code="agency_officer_totp_unchanged",
        )
    agency.require_officer_totp = required
    agency.save(update_fields=["require_officer_totp"])
    audit_record(
        actor=actor,
        action="agency.officer_totp_required" if required else "agency.officer_totp_waived",
        object_type="agency",
        object_id=agency.pk,
        data={"require_officer_totp": required},
        now=now,
    )
    return agency
