"""The periodic jobs, in one table. Each runs once per slot of its period (whichever worker
claims the slot), takes the moment it is run for, and is idempotent: running it twice for the
same moment changes nothing the second time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from govreq.audit.services import audit_checkpoint_write
from govreq.core.actors import Actor
from govreq.lifecycle import disclosing, holding, notifying, reminding, trusting

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[Actor, datetime], str]
    what: str


def slot_of(job: Job, now: datetime) -> datetime:
    """The start of the period ``now`` falls in: the slot a run at ``now`` is for."""
    periods = (now - EPOCH) // job.every
    return EPOCH + periods * job.every


def _holds(actor: Actor, now: datetime) -> str:
    synced = holding.holds_sync(actor=actor, now=now)
    return f"{len(synced.started)} hold(s) started, {len(synced.released)} request(s) released"


def _packages(actor: Actor, now: datetime) -> str:
    purged = disclosing.productions_purge_expired(actor=actor, now=now)
    return (
        f"{len(purged.productions)} package(s) purged, {len(purged.closed)} closed, "
        f"{len(purged.returned)} back to approved"
    )


def _preservations(actor: Actor, now: datetime) -> str:
    swept = disclosing.preservations_sweep(actor=actor, now=now)
    return (
        f"{len(swept.expired)} preservation(s) expired, {len(swept.kept)} kept for a follow-up, "
        f"{len(swept.reminded)} reminder(s)"
    )


def _notices(actor: Actor, now: datetime) -> str:
    swept = notifying.notices_sweep(actor=actor, now=now)
    return (
        f"{len(swept.sent)} notice(s) sent, {len(swept.due)} delay(s) ended, "
        f"{len(swept.not_possible)} not possible, {len(swept.waiting)} waiting for a gag, "
        f"{len(swept.failed)} failed (due still)"
    )


def _deadlines(actor: Actor, now: datetime) -> str:
    swept = reminding.deadlines_sweep(actor=actor, now=now)
    return (
        f"{len(swept.reminded)} reminder(s) of answers due, "
        f"{len(swept.emergencies)} emergency alert(s), {len(swept.failed)} failed (tried again)"
    )


def _checkpoint(actor: Actor, now: datetime) -> str:
    written = audit_checkpoint_write(now=now)
    if written.checkpoint is None:
        return "the audit log is empty: nothing to sign"
    verb = "signed" if written.created else "already signed"
    return f"audit chain head #{written.checkpoint.seq} {verb}"


def _trust(actor: Actor, now: datetime) -> str:
    swept = trusting.trust_sweep(actor=actor, now=now)
    return (
        f"{len(swept.missed)} follow-up(s) missed, {len(swept.reverify)} agency(ies) due for "
        f"re-verification, {swept.refreshed} confidence score(s) computed"
    )


SCHEDULE: tuple[Job, ...] = (
    Job(
        name="notices",
        every=timedelta(minutes=1),
        run=_notices,
        what="Account holders are told: due notices sent once; delays end when their time "
        "comes; nothing while a gag order is in force.",
    ),
    Job(
        name="holds",
        every=timedelta(minutes=1),
        run=_holds,
        what="Holds start and end at their moment: requests go on hold and come back.",
    ),
    Job(
        name="deadlines",
        every=timedelta(minutes=1),
        run=_deadlines,
        what="Staff are reminded once before an answer is due (at once if it is already late); "
        "an emergency nobody took alerts every reviewer.",
    ),
    Job(
        name="packages",
        every=timedelta(minutes=5),
        run=_packages,
        what="Packages past their download period are purged (the manifest stays).",
    ),
    Job(
        name="preservations",
        every=timedelta(minutes=15),
        run=_preservations,
        what="Preservations end after 90 days (180 if extended) unless a follow-up is open; "
        "officers are reminded 14 days before.",
    ),
    Job(
        name="audit-checkpoint",
        every=timedelta(hours=1),
        run=_checkpoint,
        what="The audit chain's head is signed as a checkpoint (when it moved), for "
        "/transparency/audit-checkpoints.json; a broken chain is never signed.",
    ),
    Job(
        name="trust",
        every=timedelta(hours=1),
        run=_trust,
        what="Emergencies whose legal process did not follow in time lower the agency's "
        "confidence and staff are told; confidence scores are computed again; agencies due for "
        "re-verification are flagged.",
    ),
)
