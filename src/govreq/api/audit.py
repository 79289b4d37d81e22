"""Staff endpoint: verify the audit chain (/api/v1/staff/audit)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.api.auth import caller_staff
from govreq.api.schemas import ERRORS
from govreq.audit.selectors import (
    audit_chain_verify,
    audit_checkpoints,
    audit_checkpoints_verify,
)
from govreq.core.signing import trusted_public_keys

router = Router()


class ChainOut(Schema):
    ok: bool
    count: int
    head_hash: str
    first_bad_seq: int | None
    problem: str
    checkpoints: int
    checkpoint_problems: list[str]


@router.get(
    "/verify",
    response={200: ChainOut, **ERRORS},
    summary="Verify the audit chain and the stored checkpoints of its head",
)
def verify(request: HttpRequest) -> object:
    """``ok`` only if the chain links and every stored checkpoint is authentic and still matches
    the log (so truncation and re-hashing before the newest checkpoint show too; docs/audit.md).
    """
    actor = caller_staff(request)
    require_role(actor, StaffRole.AUDITOR, StaffRole.POLICY_ADMIN)
    chain = audit_chain_verify()
    stored = audit_checkpoints_verify(audit_checkpoints(), trusted=trusted_public_keys())
    problems = stored.problems + (
        [f"and {stored.more_problems} more"] if stored.more_problems else []
    )
    return {
        "ok": chain.ok and stored.ok,
        "count": chain.count,
        "head_hash": chain.head_hash,
        "first_bad_seq": chain.first_bad_seq,
        "problem": chain.problem,
        "checkpoints": stored.checked,
        "checkpoint_problems": problems,
    }
