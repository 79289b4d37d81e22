from __future__ import annotations

from datetime import datetime
from typing import Any

import pydantic
from django.db import transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.canonical import canonical_json, sha256_hex
from govreq.core.errors import ValidationFailed, pydantic_errors
from govreq.policy.document import PolicyDocument
from govreq.policy.models import PolicyVersion


@transaction.atomic
def policy_version_add(
    *, actor: Actor, document: dict[str, Any], note: str, now: datetime
) -> PolicyVersion:
    """Record a new policy version (``lifecycle.rechecking.policy_update`` also re-runs the
    checks of every open request under it)."""
    require_role(actor, StaffRole.POLICY_ADMIN)
    if not note.strip():
        raise ValidationFailed.single("note", "say what changed and why")
    try:
        parsed = PolicyDocument.model_validate(document)
    except pydantic.ValidationError as error:
        raise pydantic_errors(error.errors()) from None
    normalised = parsed.model_dump(mode="json", by_alias=True)
    previous = PolicyVersion.objects.select_for_update().order_by("-version").first()
    version = PolicyVersion.objects.create(
        version=(previous.version + 1) if previous else 1,
        document=normalised,
        note=note.strip(),
        created_at=now,
        created_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="policy.changed",
        object_type="policy",
        object_id=version.version,
        data={
            "from_version": previous.version if previous else None,
            "sha256": sha256_hex(canonical_json(normalised)),
            "note": version.note,
        },
        now=now,
    )
    return version
