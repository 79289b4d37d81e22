"""Replaying a policy version over history: which checks would have read differently.

For each request received in the window that was checked, the facts are gathered as of its
latest check run (``review.facts``, read-only) and every pure check (``review.checks``) is run
twice: under the policy version that run used, and under the alternative. A check *changes*
when its outcome differs; a request changes when its worst outcome, or whether it needs a
human-rights officer's approval, differs. Both sides are recomputed from the same facts, so a
difference is the policy's alone.

This reads a request's facts one request at a time (a handful of index look-ups each): slower per
request than the hold back-test, which reads only the status history.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Subquery
from pydantic import ValidationError

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.backtest.engine import Window
from govreq.core.actors import Actor
from govreq.core.errors import FieldError, NotFound, ValidationFailed
from govreq.intake.models import LegalRequest
from govreq.policy.document import PolicyDocument
from govreq.policy.models import PolicyVersion
from govreq.policy.selectors import policy_current
from govreq.review.checks import needs_human_rights_approval, run_checks, worst
from govreq.review.facts import request_facts
from govreq.review.models import CheckRun

_CHUNK = 500


@dataclass(frozen=True, kw_only=True)
class CheckChange:
    code: str
    recorded: str
    alternative: str
    message: str  # the alternative finding's message: why it reads so

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


@dataclass(frozen=True, kw_only=True)
class PolicyRow:
    reference: str
    received_at: datetime
    checked_at: datetime
    recorded_version: int
    worst_recorded: str
    worst_alternative: str
    human_rights_recorded: bool
    human_rights_alternative: bool
    changes: tuple[CheckChange, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "received_at": self.received_at.isoformat().replace("+00:00", "Z"),
            "checked_at": self.checked_at.isoformat().replace("+00:00", "Z"),
            "recorded_version": self.recorded_version,
            "worst_recorded": self.worst_recorded,
            "worst_alternative": self.worst_alternative,
            "human_rights_recorded": self.human_rights_recorded,
            "human_rights_alternative": self.human_rights_alternative,
            "changes": [change.as_dict() for change in self.changes],
        }


@dataclass(kw_only=True)
class PolicyTotals:
    requests_replayed: int = 0
    never_checked: int = 0
    requests_changed: int = 0
    worst_changed: int = 0
    human_rights_changed: int = 0
    by_check: Counter[str] = field(default_factory=Counter)  # "CODE: WARN -> BLOCK" -> n

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items() if k != "by_check"},
            "by_check": dict(sorted(self.by_check.items())),
        }


def policy_alternative(
    *, actor: Actor, version: int | None = None, document: str | None = None
) -> tuple[str, PolicyDocument]:
    """The alternative policy: an existing version by number, or a document not saved (JSON, as
    a policy admin edits it); a bad document is refused naming the field. For the same roles
    as a hold back-test."""
    require_role(actor, StaffRole.POLICY_ADMIN, StaffRole.HUMAN_RIGHTS_OFFICER, StaffRole.AUDITOR)
    if version is not None:
        row = PolicyVersion.objects.filter(version=version).first()
        if row is None:
            raise NotFound(f"no policy version {version}", code="policy_version_not_found")
        return f"version {version}", PolicyDocument.model_validate(row.document)
    if document is None:
        _, current = policy_current()
        return "current", current
    try:
        return "draft", PolicyDocument.model_validate(json.loads(document))
    except json.JSONDecodeError as error:
        raise ValidationFailed.single("policy", f"is not JSON: {error}") from None
    except ValidationError as error:
        raise ValidationFailed(
            [
                FieldError(
                    field="policy." + ".".join(str(part) for part in problem["loc"]),
                    message=problem["msg"],
                )
                for problem in error.errors()
            ]
        ) from None


@dataclass(kw_only=True)
class PolicyBacktest:
    label: str
    alternative: PolicyDocument
    window: Window
    jurisdiction: str | None = None
    totals: PolicyTotals = field(default_factory=PolicyTotals)

    def run(self) -> Iterator[PolicyRow]:
        """Yield every checked request in the window whose checks would read differently."""
        self.totals = PolicyTotals()
        latest = CheckRun.objects.filter(request=OuterRef("pk")).order_by("-id")
        requests = LegalRequest.objects.filter(
            received_at__gte=self.window.start, received_at__lt=self.window.end
        ).annotate(
            run_at=Subquery(latest.values("ran_at")[:1]),
            run_version=Subquery(latest.values("policy_version__version")[:1]),
        )
        if self.jurisdiction:
            requests = requests.filter(jurisdiction_id=self.jurisdiction)
        versions: dict[int, PolicyDocument] = {}
        last = 0
        while True:
            chunk = list(
                requests.filter(pk__gt=last).select_related("agency").order_by("pk")[:_CHUNK]
            )
            if not chunk:
                return
            last = chunk[-1].pk
            for request in chunk:
                self.totals.requests_replayed += 1
                ran_at = getattr(request, "run_at", None)
                number = getattr(request, "run_version", None)
                if ran_at is None or number is None:
                    self.totals.never_checked += 1
                    continue
                if number not in versions:
                    row = PolicyVersion.objects.get(version=number)
                    versions[number] = PolicyDocument.model_validate(row.document)
                row_out = self._compare(request, versions[number], number, ran_at)
                if row_out is not None:
                    yield row_out

    def _compare(
        self, request: LegalRequest, recorded: PolicyDocument, number: int, ran_at: datetime
    ) -> PolicyRow | None:
        before = run_checks(request_facts(request, recorded, now=ran_at), recorded)
        after = run_checks(request_facts(request, self.alternative, now=ran_at), self.alternative)
        then = {finding.code: finding for finding in before}
        changes = tuple(
            CheckChange(
                code=finding.code,
                recorded=then[finding.code].outcome if finding.code in then else "",
                alternative=finding.outcome,
                message=finding.message,
            )
            for finding in after
            if finding.code not in then or then[finding.code].outcome != finding.outcome
        )
        worst_before, worst_after = worst(before), worst(after)
        hr_before = needs_human_rights_approval(before)
        hr_after = needs_human_rights_approval(after)
        if not changes and worst_before == worst_after and hr_before == hr_after:
            return None
        totals = self.totals
        totals.requests_changed += 1
        totals.worst_changed += worst_before != worst_after
        totals.human_rights_changed += hr_before != hr_after
        for change in changes:
            totals.by_check[f"{change.code}: {change.recorded} -> {change.alternative}"] += 1
        return PolicyRow(
            reference=request.reference,
            received_at=request.received_at,
            checked_at=ran_at,
            recorded_version=number,
            worst_recorded=worst_before,
            worst_alternative=worst_after,
            human_rights_recorded=hr_before,
            human_rights_alternative=hr_after,
            changes=changes,
        )
