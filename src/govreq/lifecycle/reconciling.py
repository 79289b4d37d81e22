"""Replaying the audit trail against the stored requests (``govreq audit reconcile``).

The chain (``govreq audit verify``) proves the trail was not edited; it says nothing about the
rows. Every status change, decision and approval appends an event saying what it changed
(``request.received``, ``request.status_changed`` with ``from``/``to`` and the decisions that
lapsed in ``superseded_decisions``, ``decision.made``, ``approval.given``), so a row edited
directly in the database (an SQL UPDATE, a restore of an old table) leaves the row and the
replayed trail disagreeing. This module names every such request.

The core is pure: ``replay`` folds the events of one request after another into what they say,
``compare`` names each disagreement with what the rows say. ``requests_reconcile`` streams the
events in (request, seq) order (the events' index), compares them a batch of requests at a time,
so memory holds one batch, not the history, and only trusts a disagreement once no event of the
request has committed since the replay began (else it replays that request again under the
audit chain's lock, when rows and events cannot move).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import transaction
from django.db.models import Q

from govreq.audit.models import AuditEvent
from govreq.audit.selectors import audit_chain_head
from govreq.audit.services import audit_chain_lock
from govreq.intake.models import LegalRequest, RequestStatus
from govreq.review.models import Approval, Decision

OBJECT_TYPE = "legal_request"
RECEIVED = "request.received"
STATUS_CHANGED = "request.status_changed"
DECISION_MADE = "decision.made"
APPROVAL_GIVEN = "approval.given"
SUPERSEDED_KEY = "superseded_decisions"
BATCH = 500


@dataclass(frozen=True, kw_only=True)
class DecisionRecord:
    """A decision as the trail or the rows tell it (the fields ``decision.made`` records)."""

    outcome: str
    rejection_reasons: list[str]
    approved_target_ids: list[int]
    approved_categories: list[str]
    approved_range: list[str] | None
    requires_human_rights_approval: bool
    decided_by: str
    current: bool = True


@dataclass(frozen=True, kw_only=True)
class ApprovalRecord:
    decision: int
    kind: str
    slot: int
    approver: str


@dataclass(kw_only=True)
class RequestRecord:
    """What the trail, or the rows, say about one request."""

    public_id: str
    reference: str = ""
    status: str = ""
    decisions: dict[int, DecisionRecord] = field(default_factory=dict)
    approvals: dict[int, ApprovalRecord] = field(default_factory=dict)


# --- the pure core ------------------------------------------------------------------------------


def _apply(said: RequestRecord, action: str, actor_id: str, data: dict[str, Any]) -> None:
    """Fold one event into what the trail says."""
    if action == RECEIVED:
        said.status = RequestStatus.RECEIVED
        said.reference = str(data.get("reference", said.reference))
    elif action == STATUS_CHANGED:
        said.status = str(data.get("to", said.status))
    elif action == DECISION_MADE:
        said.decisions[int(data["decision"])] = DecisionRecord(
            outcome=str(data.get("outcome", "")),
            rejection_reasons=list(data.get("rejection_reasons") or []),
            approved_target_ids=list(data.get("approved_target_ids") or []),
            approved_categories=list(data.get("approved_categories") or []),
            approved_range=data.get("approved_range"),
            requires_human_rights_approval=bool(data.get("requires_human_rights_approval")),
            decided_by=actor_id,
        )
    elif action == APPROVAL_GIVEN:
        said.approvals[int(data["approval"])] = ApprovalRecord(
            decision=int(data["decision"]),
            kind=str(data.get("kind", "")),
            slot=int(data.get("slot", 0)),
            approver=actor_id,
        )
    # Whatever the action, a decision named as superseded has lapsed from then on.
    for pk in data.get(SUPERSEDED_KEY) or []:
        decision = said.decisions.get(int(pk))
        if decision is not None:
            said.decisions[int(pk)] = DecisionRecord(**{**decision.__dict__, "current": False})


def replay(events: Iterable[tuple[str, str, str, Any]]) -> Iterator[RequestRecord]:
    """What the trail says about each request: ``events`` are (object_id, action, actor_id,
    data) ordered by request, then seq; one record is yielded per request, in that order."""
    said: RequestRecord | None = None
    for object_id, action, actor_id, data in events:
        if said is None or said.public_id != object_id:
            if said is not None:
                yield said
            said = RequestRecord(public_id=object_id)
        _apply(said, action, actor_id, data if isinstance(data, dict) else {})
    if said is not None:
        yield said


def _record_differences(
    what: str, stored: DecisionRecord | ApprovalRecord, said: DecisionRecord | ApprovalRecord
) -> list[str]:
    problems = []
    for item in fields(stored):
        mine, theirs = getattr(stored, item.name), getattr(said, item.name)
        if mine != theirs:
            problems.append(f"{what}: {item.name} is {mine!r}, the trail says {theirs!r}")
    return problems


def compare(said: RequestRecord, stored: RequestRecord | None) -> list[str]:
    """Every way the rows (``stored``; None: no row) disagree with what the trail says."""
    if stored is None:
        return ["the trail records this request, but its row is gone"]
    if not said.status:
        return [f"no {RECEIVED} event records it: its row was written outside the services"]
    problems = []
    if stored.status != said.status:
        problems.append(f"status is {stored.status}, the trail says {said.status}")
    for pk in sorted(stored.decisions.keys() | said.decisions.keys()):
        row, event = stored.decisions.get(pk), said.decisions.get(pk)
        if event is None:
            problems.append(f"decision #{pk} ({row.outcome if row else ''}) has no event")
        elif row is None:
            problems.append(f"decision #{pk} ({event.outcome}) in the trail is gone")
        else:
            problems += _record_differences(f"decision #{pk}", row, event)
    for pk in sorted(stored.approvals.keys() | said.approvals.keys()):
        arow, aevent = stored.approvals.get(pk), said.approvals.get(pk)
        if aevent is None:
            problems.append(
                f"approval #{pk} (of decision #{arow.decision if arow else ''}) has no event"
            )
        elif arow is None:
            problems.append(f"approval #{pk} (of decision #{aevent.decision}) in the trail is gone")
        else:
            problems += _record_differences(f"approval #{pk}", arow, aevent)
    return problems


# --- reading the database -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Finding:
    public_id: str
    reference: str
    problems: list[str]


@dataclass(kw_only=True)
class Reconciliation:
    requests: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _trail(*, up_to: int | None, public_ids: list[str] | None = None) -> Iterator[Any]:
    """The events that say something about requests' status, decisions or approvals, by request
    then seq, streamed."""
    events = AuditEvent.objects.filter(
        Q(action__in=[RECEIVED, STATUS_CHANGED, DECISION_MADE, APPROVAL_GIVEN])
        | Q(data__has_key=SUPERSEDED_KEY),
        object_type=OBJECT_TYPE,
    )
    if up_to is not None:
        events = events.filter(seq__lte=up_to)
    if public_ids is not None:
        events = events.filter(object_id__in=public_ids)
    return (
        events.order_by("object_id", "seq")
        .values_list("object_id", "action", "actor_id", "data")
        .iterator(chunk_size=2000)
    )


def _uuids(public_ids: Iterable[str]) -> list[uuid.UUID]:
    valid = []
    for text in public_ids:
        try:
            valid.append(uuid.UUID(text))
        except ValueError:
            continue  # not a request's id: its row cannot exist
    return valid


def _rows(public_ids: list[str]) -> dict[str, RequestRecord]:
    """What the rows say about these requests: three queries."""
    ids = _uuids(public_ids)
    stored = {
        str(public_id): RequestRecord(public_id=str(public_id), reference=reference, status=status)
        for public_id, reference, status in LegalRequest.objects.filter(
            public_id__in=ids
        ).values_list("public_id", "reference", "status")
    }
    decisions = Decision.objects.filter(request__public_id__in=ids).values_list(
        "request__public_id",
        "pk",
        "outcome",
        "rejection_reasons",
        "approved_target_ids",
        "approved_categories",
        "approved_from",
        "approved_to",
        "requires_human_rights_approval",
        "decided_by_id",
        "superseded_at",
    )
    for public_id, pk, outcome, reasons, targets, categories, start, end, hr, by, gone in decisions:
        stored[str(public_id)].decisions[pk] = DecisionRecord(
            outcome=outcome,
            rejection_reasons=list(reasons),
            approved_target_ids=list(targets),
            approved_categories=list(categories),
            approved_range=[start.isoformat(), end.isoformat()] if start and end else None,
            requires_human_rights_approval=hr,
            decided_by="" if by is None else str(by),
            current=gone is None,
        )
    approvals = Approval.objects.filter(decision__request__public_id__in=ids).values_list(
        "decision__request__public_id", "pk", "decision_id", "kind", "slot", "approver_id"
    )
    for public_id, pk, decision, kind, slot, approver in approvals:
        stored[str(public_id)].approvals[pk] = ApprovalRecord(
            decision=decision, kind=kind, slot=slot, approver=str(approver)
        )
    return stored


def _moved_since(head_seq: int, public_ids: list[str]) -> set[str]:
    """Which of these requests have events committed after the replay began."""
    return set(
        AuditEvent.objects.filter(
            seq__gt=head_seq, object_type=OBJECT_TYPE, object_id__in=public_ids
        ).values_list("object_id", flat=True)
    )


def _recheck(public_id: str) -> Finding | None:
    """Replay one request again under the chain's lock: no change can commit meanwhile (every
    change appends its event under that lock), so rows and events describe the same moment."""
    with transaction.atomic():
        audit_chain_lock()
        said = next(replay(_trail(up_to=None, public_ids=[public_id])), None)
        stored = _rows([public_id]).get(public_id)
        if said is None:
            said = RequestRecord(public_id=public_id)
        problems = compare(said, stored)
    if not problems:
        return None
    reference = stored.reference if stored else said.reference
    return Finding(public_id=public_id, reference=reference or public_id, problems=problems)


def _compare_batch(
    batch: list[RequestRecord], head_seq: int, result: Reconciliation, suspects: list[str]
) -> None:
    stored = _rows([said.public_id for said in batch])
    found = []
    for said in batch:
        row = stored.get(said.public_id)
        problems = compare(said, row)
        if problems:
            reference = (row.reference if row else said.reference) or said.public_id
            found.append(Finding(public_id=said.public_id, reference=reference, problems=problems))
    moved = _moved_since(head_seq, [f.public_id for f in found]) if found else set()
    for finding in found:
        if finding.public_id in moved:
            suspects.append(finding.public_id)
        else:
            result.findings.append(finding)


def _rows_without_events(result: Reconciliation) -> None:
    """Requests whose arrival no event records (so the replay above never met them): rows
    written outside the services, or whose trail was never written."""
    rows = LegalRequest.objects.order_by("pk").values_list("public_id", "reference")
    batch: list[tuple[str, str]] = []

    def flush() -> None:
        received = set(
            AuditEvent.objects.filter(
                object_type=OBJECT_TYPE, action=RECEIVED, object_id__in=[i for i, _ in batch]
            ).values_list("object_id", flat=True)
        )
        for public_id, reference in batch:
            if public_id not in received:
                problem = (
                    f"no {RECEIVED} event records it: its row was written outside the services"
                )
                result.findings.append(
                    Finding(public_id=public_id, reference=reference, problems=[problem])
                )
        batch.clear()

    for public_id, reference in rows.iterator(chunk_size=2000):
        result.requests += 1
        batch.append((str(public_id), reference))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()


def requests_reconcile() -> Reconciliation:
    """Replay the whole trail and name every request whose stored status, decisions or
    approvals disagree with it (and every request the trail never mentions)."""
    head_seq, _head_hash = audit_chain_head()
    result = Reconciliation()
    suspects: list[str] = []
    batch: list[RequestRecord] = []
    for said in replay(_trail(up_to=head_seq)):
        batch.append(said)
        if len(batch) >= BATCH:
            _compare_batch(batch, head_seq, result, suspects)
            batch = []
    if batch:
        _compare_batch(batch, head_seq, result, suspects)
    _rows_without_events(result)
    for public_id in suspects:
        finding = _recheck(public_id)
        if finding is not None:
            result.findings.append(finding)
    result.findings.sort(key=lambda finding: finding.reference)
    return result
