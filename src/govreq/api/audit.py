"""Staff endpoint: verify the audit chain (/api/v1/staff/audit)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.api.auth import caller_staff
from govreq.api.schemas import ERRORS
from govreq.audit.selectors import audit_chain_verify

router = Router()


class ChainOut(Schema):
    ok: bool
    count: int
    head_hash: str
    first_bad_seq: int | None
    problem: str


@router.get("/verify", response={200: ChainOut, **ERRORS}, summary="Verify the audit chain")
def verify(request: HttpRequest) -> object:
    actor = caller_staff(request)
    require_role(actor, StaffRole.AUDITOR, StaffRole.POLICY_ADMIN)
    return audit_chain_verify()
