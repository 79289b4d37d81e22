"""Staff endpoints for the review policy (/api/v1/staff/policy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from govreq.api.auth import caller_staff
from govreq.api.schemas import ERRORS
from govreq.lifecycle.rechecking import policy_update
from govreq.policy.models import PolicyVersion
from govreq.policy.selectors import policy_current, policy_document_of

router = Router()


class PolicyVersionOut(Schema):
    version: int
    note: str
    created_at: datetime
    created_by: str | None
    document: dict[str, Any]

    @staticmethod
    def resolve_document(obj: PolicyVersion) -> dict[str, Any]:
        return policy_document_of(obj)

    @staticmethod
    def resolve_created_by(obj: PolicyVersion) -> str | None:
        return obj.created_by.email if obj.created_by else None


class PolicyIn(Schema):
    document: dict[str, Any] = Field(description="The whole policy document (see GET).")
    note: str = Field(min_length=1, max_length=5000, description="What changed and why.")


@router.get("", response={200: PolicyVersionOut, **ERRORS}, summary="The policy in force")
def current(request: HttpRequest) -> PolicyVersion:
    caller_staff(request)
    return policy_current()[0]


@router.get("/versions", response={200: list[PolicyVersionOut], **ERRORS}, summary="History")
def versions(request: HttpRequest) -> list[PolicyVersion]:
    caller_staff(request)
    return list(PolicyVersion.objects.select_related("created_by").order_by("-version")[:100])


@router.post("", response={201: PolicyVersionOut, **ERRORS}, summary="Publish a new version")
def publish(request: HttpRequest, payload: PolicyIn) -> Status[PolicyVersion]:
    actor = caller_staff(request)
    return Status(
        201,
        policy_update(
            actor=actor, document=payload.document, note=payload.note, now=timezone.now()
        ),
    )
