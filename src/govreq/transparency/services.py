"""Publishing a report (freeze, sign, audit) and verifying what was published."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import IntegrityError, transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.audit.models import AuditEvent
from govreq.audit.selectors import audit_chain_head
from govreq.audit.services import audit_chain_lock, audit_checkpoint_write, audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govreq.holds.models import JurisdictionHold
from govreq.transparency import signing
from govreq.transparency.changes import body_changes
from govreq.transparency.counting import report_compute
from govreq.transparency.models import PublishedReport
from govreq.transparency.periods import Period, parse_period
from govreq.transparency.selectors import published_versions

AUDIT_OBJECT_TYPE = "transparency_report"


def _audit_object_id(period: str, version: int) -> str:
    return f"{period}/v{version}"


def _freeze_audit_chain() -> None:
    """Hold the audit chain's append lock until the transaction ends.

    Every change to a request appends its audit event inside its own transaction, so while this
    lock is held nothing can commit a change: the numbers computed next are exactly the state
    the chain head read next describes. (SQLite's IMMEDIATE transactions already hold the
    database's write lock.)
    """
    audit_chain_lock()


@transaction.atomic
def report_publish(*, actor: Actor, period: str, now: datetime, note: str = "") -> PublishedReport:
    """Freeze the period's report as a new signed version. Policy administrators only.

    The report is computed and the audit chain head read under the chain's lock, so the version
    records exactly the history it counts. A correction (version 2 on) must say why, and records
    what changed; publishing the same numbers again is refused. The audit chain's head, this
    publication's event included, is then signed as a checkpoint.
    """
    require_role(actor, StaffRole.POLICY_ADMIN)
    if actor.user is None:
        raise PermissionDenied(
            "a report is published by a named policy administrator (--as EMAIL)",
            code="role_required",
        )
    parsed = parse_period(period)
    if now < parsed.end:
        raise Conflict(
            f"the {parsed} period ends on {parsed.end:%Y-%m-%d}; a report is published after "
            "its period has ended",
            code="period_not_ended",
        )
    key = signing.signing_key()
    _freeze_audit_chain()
    head_seq, head_hash = audit_chain_head()
    body = report_compute(period=parsed, now=now)
    digest = signing.body_sha256(body)
    previous = published_versions(parsed).first()
    if previous is not None and previous.body_sha256 == digest:
        raise Conflict(
            f"nothing changed since version {previous.version} of the {parsed} report",
            code="report_unchanged",
        )
    if previous is not None and not note.strip():
        raise ValidationFailed.single("note", "say what this version corrects")
    version = previous.version + 1 if previous else 1
    public_key = signing.public_key_b64(key)
    fields = {
        "period": parsed.label,
        "version": version,
        "period_start": parsed.start,
        "period_end": parsed.end,
        "body": body,
        "body_sha256": digest,
        "previous_sha256": previous.body_sha256 if previous else "",
        "changes": body_changes(previous.body, body) if previous else [],
        "note": note.strip(),
        "audit_head_seq": head_seq,
        "audit_head_hash": head_hash,
        "key_id": signing.key_id(public_key),
        "public_key": public_key,
        "published_at": now,
        "published_by": actor.user,
    }
    unsigned = PublishedReport(**fields, signature="")
    statement = signing.statement_of(unsigned)
    try:
        with transaction.atomic():
            report = PublishedReport.objects.create(
                **fields, signature=signing.sign(key, statement)
            )
    except IntegrityError:
        raise Conflict(
            f"version {version} of the {parsed} report was published at the same moment; "
            "reload and try again",
            code="report_version_taken",
        ) from None
    audit_record(
        actor=actor,
        action="report.published",
        object_type=AUDIT_OBJECT_TYPE,
        object_id=_audit_object_id(parsed.label, version),
        data={
            "period": parsed.label,
            "version": version,
            "body_sha256": digest,
            "audit_head_seq": head_seq,
            "audit_head_hash": head_hash,
            "key_id": report.key_id,
            "changes": len(report.changes),
        },
        now=now,
    )
    # Sign the head, publication included, in the same transaction: every report leaves a
    # checkpoint that outside copies of /transparency/audit-checkpoints.json pin.
    audit_checkpoint_write(now=now)
    return report


def periods_touched_by_hold(hold: JurisdictionHold) -> list[str]:
    """Published periods a hold was in force in: a hold placed or voided later changes them."""
    touched = PublishedReport.objects.filter(period_end__gt=hold.effective_from)
    if hold.effective_to is not None:
        touched = touched.filter(period_start__lt=hold.effective_to)
    return sorted(set(touched.values_list("period", flat=True)))


def reports_correct_for_hold(
    *, actor: Actor, hold: JurisdictionHold, now: datetime
) -> list[PublishedReport]:
    """A hold recorded for a period already published, or voided, corrects those reports: each
    is published again as a new version saying why, its changes listed on the public page.
    Periods whose numbers do not change are left as they are."""
    state = "voided" if hold.voided_at is not None else "recorded"
    note = (
        f"Correction: hold #{hold.pk} on {hold.jurisdiction_id} (in force from "
        f"{hold.effective_from.astimezone(UTC):%Y-%m-%d %H:%M} UTC) was {state} on "
        f"{now.astimezone(UTC):%Y-%m-%d}."
    )
    corrected: list[PublishedReport] = []
    for period in periods_touched_by_hold(hold):
        try:
            corrected.append(report_publish(actor=actor, period=period, now=now, note=note))
        except Conflict as unchanged:
            if unchanged.code != "report_unchanged":
                raise
    return corrected


@dataclass(frozen=True, kw_only=True)
class Verification:
    period: str
    version: int
    key_id: str
    audit_head_seq: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _trusted_public_keys() -> set[str]:
    """The operator's current key, and any earlier keys listed in
    GOVREQ_REPORT_TRUSTED_PUBLIC_KEYS (base64, comma-separated) after a rotation."""
    return signing.trusted_public_keys()


def _verify_one(
    report: PublishedReport, *, trusted: set[str], previous: PublishedReport | None
) -> Verification:
    name = f"{report.period} v{report.version}"
    problems: list[str] = []
    recomputed = signing.body_sha256(report.body)
    if recomputed != report.body_sha256:
        problems.append(
            f"{name}: the stored numbers were changed after publication (their SHA-256 is "
            f"{recomputed[:16]}..., the signed one {report.body_sha256[:16]}...)"
        )
    if not signing.signature_valid(
        public_key=report.public_key,
        signature=report.signature,
        statement=signing.statement_of(report),
    ):
        problems.append(f"{name}: the signature does not match the stored report")
    if signing.key_id(report.public_key) != report.key_id:
        problems.append(f"{name}: the key id does not belong to the stored public key")
    if report.public_key not in trusted:
        problems.append(
            f"{name}: signed by key {report.key_id}, which is not the operator's report-signing "
            "key (nor listed in GOVREQ_REPORT_TRUSTED_PUBLIC_KEYS)"
        )
    if report.audit_head_seq:
        head = AuditEvent.objects.filter(seq=report.audit_head_seq).values_list("hash", flat=True)
        if list(head) != [report.audit_head_hash]:
            problems.append(
                f"{name}: the audit log no longer holds event #{report.audit_head_seq} as it was "
                "when the report was computed"
            )
    published = AuditEvent.objects.filter(
        action="report.published",
        object_type=AUDIT_OBJECT_TYPE,
        object_id=_audit_object_id(report.period, report.version),
    ).values_list("data", flat=True)
    if [data.get("body_sha256") for data in published] != [report.body_sha256]:
        problems.append(f"{name}: the audit log does not record this publication")
    if previous is not None and previous.body_sha256 != report.previous_sha256:
        problems.append(f"{name}: it does not correct the stored version {previous.version}")
    return Verification(
        period=report.period,
        version=report.version,
        key_id=report.key_id,
        audit_head_seq=report.audit_head_seq,
        problems=problems,
    )


def report_verify(*, period: str, version: int | None = None) -> list[Verification]:
    """Check every published version of the period (or one): stored numbers against their
    hash, the Ed25519 signature, the signing key, the audit-chain head and the audit event."""
    parsed: Period = parse_period(period)
    reports = list(published_versions(parsed).select_related("published_by").order_by("version"))
    chosen = reports if version is None else [r for r in reports if r.version == version]
    if not chosen:
        what = f"version {version} of the {parsed} report" if version else f"the {parsed} report"
        raise NotFound(f"{what} has not been published", code="report_not_published")
    trusted = _trusted_public_keys()
    by_version = {r.version: r for r in reports}
    return [
        _verify_one(report, trusted=trusted, previous=by_version.get(report.version - 1))
        for report in chosen
    ]


def published_at_text(report: PublishedReport) -> str:
    return report.published_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
