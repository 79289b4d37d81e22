from __future__ import annotations

import json
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
    return row, _parsed(row)


def policy_document_of(row: PolicyVersion) -> dict[str, Any]:
    """A version's document as in force: every field, defaults filled in (a version written
    before a field existed shows that field's default), in the JSON a policy admin edits."""
    return _parsed(row).model_dump(mode="json", by_alias=True)


def _parsed(row: PolicyVersion) -> PolicyDocument:
    # Cached by the document's own text, not by its id and number: a version written in a
    # transaction that was rolled back may have had the id and number the next one gets.
    return _parsed_text(json.dumps(row.document, sort_keys=True, ensure_ascii=False))


@lru_cache(maxsize=16)
def _parsed_text(document: str) -> PolicyDocument:
    return PolicyDocument.model_validate_json(document)
