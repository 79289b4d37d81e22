from __future__ import annotations

from functools import lru_cache
from typing import Any

from govreq.core.errors import NotFound
from govreq.policy.document import PolicyDocument
from govreq.policy.models import PolicyVersion


def policy_current() -> tuple[PolicyVersion, PolicyDocument]:
    """The policy in force: the highest version."""
    row = PolicyVersion.objects.order_by("-version").first()
    if row is None:
        raise NotFound("no policy version exists; run migrations", code="policy_missing")
    return row, _parsed(row.pk, row.version)


def policy_document_of(row: PolicyVersion) -> dict[str, Any]:
    """A version's document as in force: every field, defaults filled in (a version written
    before a field existed shows that field's default), in the JSON a policy admin edits."""
    return _parsed(row.pk, row.version).model_dump(mode="json", by_alias=True)


@lru_cache(maxsize=16)
def _parsed(pk: int, version: int) -> PolicyDocument:
    # Versions are immutable, so a parsed document can be cached by (id, version).
    return PolicyDocument.model_validate(PolicyVersion.objects.get(pk=pk).document)
