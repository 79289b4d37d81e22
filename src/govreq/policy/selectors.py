from __future__ import annotations

from functools import lru_cache

from govreq.core.errors import NotFound
from govreq.policy.document import PolicyDocument
from govreq.policy.models import PolicyVersion


def policy_current() -> tuple[PolicyVersion, PolicyDocument]:
    """The policy in force: the highest version."""
    row = PolicyVersion.objects.order_by("-version").first()
    if row is None:
        raise NotFound("no policy version exists; run migrations", code="policy_missing")
    return row, _parsed(row.pk, row.version)


@lru_cache(maxsize=16)
def _parsed(pk: int, version: int) -> PolicyDocument:
    # Versions are immutable, so a parsed document can be cached by (id, version).
    return PolicyDocument.model_validate(PolicyVersion.objects.get(pk=pk).document)
