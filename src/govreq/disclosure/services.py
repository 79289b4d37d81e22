"""The disclosure area's own work: collect a production into a sealed, signed package; record
its release, its downloads and its purge; record a delivery made by other means.

These never change a request's status: ``lifecycle.disclosing`` calls them and moves the
request (APPROVED -> PRODUCED -> DELIVERED -> CLOSED, or DECIDED -> PRESERVED) in the same
transactions. Collection is slow and talks to the platform's systems, so it runs outside any
database transaction: it is claimed with a conditional update (safe with two workers), built,
then recorded in one short transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import IO, Any

from django.conf import settings
from django.db.models import F

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.models import Officer
from govreq.audit.selectors import audit_chain_head
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.canonical import canonical_json, sha256_hex
from govreq.core.errors import Conflict, ValidationFailed
from govreq.core.signing import key_id, public_key_b64, sign_payload, signing_key
from govreq.disclosure import store
from govreq.disclosure.models import (
    OtherDelivery,
    PackageDownload,
    Production,
    ProductionPurpose,
    ProductionStatus,
)
from govreq.disclosure.packages import (
    CSV_CELLS,
    MANIFEST_FORMAT,
    PackageBuilder,
    package_zip,
    unsealed,
)
from govreq.disclosure.scope import ApprovedScope, Violation, scope_violations
from govreq.disclosure.sealing import new_package_key, unwrap_key, wrap_key
from govreq.disclosure.sources import DataSource, TargetRef
from govreq.intake.models import Document, LegalRequest
from govreq.review.models import Decision, DecisionOutcome

P = ProductionStatus
# Wide bounds stand for "no range": ISO text of these compares correctly in any SQL database.
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)
# 18 U.S.C. 2703(f)(2): records are preserved 90 days, extendable once by 90 days.
PRESERVATION_PERIOD = timedelta(days=90)
PRESERVATION_REMINDER = timedelta(days=14)
# A collection that has not finished in this long is taken to have died with its worker.
COLLECTION_LEASE = timedelta(hours=1)

README = """This package was produced by govreq in answer to a request for user data.

manifest.json lists every file with its SHA-256, size and record count, the decision it
implements and the audit-chain head when it was collected; manifest.sig is the platform's
Ed25519 signature of manifest.json exactly as stored. To check the package offline:

    python -m govreq.disclosure.verify THIS.zip --public-key <the platform's public key>

(or `govreq production verify THIS.zip`); it names the first file that does not match.
Each account's records are in account-NN/CATEGORY.csv and .json (docs/disclosure.md).

In the CSV files, a text cell that begins with =, +, -, @, a tab, a carriage return or an
apostrophe is written with one more apostrophe in front, so that a spreadsheet shows it as text
and never runs it as a formula (numbers such as -1 are written as they are). Remove that one
leading apostrophe to get the value back; the JSON files hold every value exactly as collected,
without it. The manifest says so as "csv_cells": "formula-safe/1".
"""


# --- scope ---------------------------------------------------------------------------------------


def approved_scope(request: LegalRequest, decision: Decision) -> ApprovedScope:
    """What ``decision`` allows to leave: its targets, categories and time range (half-open,
    UTC: from the first day's start to the day after the last)."""
    partial = decision.outcome == DecisionOutcome.PARTIAL
    target_ids = (
        frozenset(int(t) for t in decision.approved_target_ids)
        if partial
        else frozenset(request.targets.values_list("pk", flat=True))
    )
    categories = frozenset(decision.approved_categories if partial else request.data_categories)
    start = decision.approved_from or request.data_from
    end = decision.approved_to or request.data_to
    if start is None or end is None:
        return ApprovedScope(
            target_ids=target_ids,
            categories=categories,
            since=_EARLIEST,
            until=_LATEST,
            range_limited=False,
        )
    return ApprovedScope(
        target_ids=target_ids,
        categories=categories,
        since=datetime.combine(start, time.min, tzinfo=UTC),
        until=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
        range_limited=True,
    )


# --- starting and claiming -----------------------------------------------------------------------


def production_open(
    *, actor: Actor, request: LegalRequest, decision: Decision, now: datetime
) -> Production:
    """The decision's live production, created PENDING if there is none (FAILED ones are
    reused: a retry collects into the same production). Runs in the caller's transaction."""
    existing = (
        Production.objects.select_for_update()
        .filter(decision=decision)
        .exclude(status=P.PURGED)
        .first()
    )
    if existing is not None:
        if existing.status == P.FAILED:
            existing.status = P.PENDING
            existing.save(update_fields=["status"])
        return existing
    purpose = (
        ProductionPurpose.PRESERVATION
        if decision.outcome == DecisionOutcome.PRESERVE
        else ProductionPurpose.DISCLOSURE
    )
    production = Production.objects.create(
        request=request,
        decision=decision,
        purpose=purpose,
        status=P.PENDING,
        created_at=now,
        created_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="production.opened",
        object_type="legal_request",
        object_id=request.public_id,
        data={"production": str(production.public_id), "decision": decision.pk, "purpose": purpose},
        now=now,
    )
    return production


def production_claim(*, production: Production, now: datetime) -> bool:
    """Take the production for collecting. Conditional, so of two workers only one wins; a
    collection older than the lease is taken to have died and may be claimed again."""
    claimed = (
        Production.objects.filter(pk=production.pk)
        .filter(
            status__in=[P.PENDING, P.FAILED],
        )
        .update(status=P.COLLECTING, started_at=now, attempts=F("attempts") + 1, error="")
    ) or (
        Production.objects.filter(
            pk=production.pk, status=P.COLLECTING, started_at__lt=now - COLLECTION_LEASE
        ).update(started_at=now, attempts=F("attempts") + 1, error="")
    )
    return bool(claimed)


# --- building the package (no database writes) ---------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Collected:
    manifest: dict[str, Any]
    signature: str
    wrapped_key: str
    violations: list[Violation]
    accounts_found: int
    accounts_missing: int
    records: int
    size: int


def _prefix(production: Production) -> str:
    return str(production.public_id)


def production_build(
    *, production: Production, source: DataSource, source_name: str, now: datetime
) -> Collected:
    """Collect the approved scope from ``source`` into sealed members and sign the manifest.

    Raises DataSourceError (or any error of the source) after deleting what it wrote; the
    caller records the failure."""
    request = production.request
    decision = production.decision
    scope = approved_scope(request, decision)
    key = new_package_key()
    prefix = _prefix(production)
    store.members_delete(prefix)  # a retry starts clean
    builder = PackageBuilder(prefix=prefix, key=key, open_member=store.member_writer)
    head_seq, head_hash = audit_chain_head()
    targets = list(request.targets.filter(pk__in=scope.target_ids).order_by("pk"))
    try:
        found: list[tuple[int, str]] = []
        for target in targets:
            described = {"id": target.pk, "type": target.type, "value": target.value}
            resolution = source.resolve(TargetRef(type=target.type, value=target.value))
            if resolution.account is None:
                builder.missing(target=described, note=resolution.note or "no such account")
            else:
                builder.account(resolution.account, target=described, note=resolution.note)
                found.append((target.pk, resolution.account))
        for account in dict.fromkeys(account for _, account in found):
            for record in source.collect(account, scope.categories, scope.since, scope.until):
                builder.add(record)
        files = builder.finish()
    except BaseException:
        builder.abort()
        store.members_delete(prefix)
        raise
    signer = signing_key()
    public = public_key_b64(signer)
    records = sum(f["records"] for f in files if f["format"] == "csv")
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "production": str(production.public_id),
        "purpose": production.purpose,
        "request": {
            "id": str(request.public_id),
            "reference": request.reference,
            "agency": request.agency.name,
            "kind": request.kind,
            "agency_case_number": request.agency_case_number,
            "received_at": request.received_at.astimezone(UTC).isoformat(),
        },
        "decision": {
            "id": decision.pk,
            "outcome": decision.outcome,
            "decided_at": decision.decided_at.astimezone(UTC).isoformat(),
            "approved_target_ids": sorted(scope.target_ids),
            "approved_categories": sorted(scope.categories),
            "time_range": {"since": scope.since.isoformat(), "until": scope.until.isoformat()}
            if scope.range_limited
            else None,
        },
        "collected_at": now.astimezone(UTC).isoformat(),
        "source": source_name,
        "audit_chain_head": {"seq": head_seq, "hash": head_hash},
        "accounts": [
            {"index": a.index, "account": a.account or None, "target": a.target, "note": a.note}
            for a in builder.accounts
        ],
        "files": files,
        "csv_cells": CSV_CELLS,
        "totals": {
            "files": len(files),
            "records": records,
            "bytes": sum(f["size"] for f in files),
        },
        "signing_key": {"algorithm": "Ed25519", "public_key": public, "key_id": key_id(public)},
    }
    return Collected(
        manifest=manifest,
        signature=sign_payload(signer, canonical_json(manifest)),
        wrapped_key=wrap_key(key, secret=settings.SECRET_KEY, binding=str(production.public_id)),
        violations=scope_violations(scope, manifest),
        accounts_found=len({account for _, account in found}),
        accounts_missing=sum(1 for a in builder.accounts if not a.account),
        records=records,
        size=manifest["totals"]["bytes"],
    )


# --- recording (inside the lifecycle's transaction) ----------------------------------------------


def production_record_collected(
    *, actor: Actor, production: Production, collected: Collected, now: datetime
) -> Production:
    production.manifest = collected.manifest
    production.manifest_sha256 = sha256_hex(canonical_json(collected.manifest))
    production.manifest_signature = collected.signature
    production.signing_key_id = collected.manifest["signing_key"]["key_id"]
    production.wrapped_key = collected.wrapped_key
    production.scope_violations = [v.__dict__ for v in collected.violations]
    production.accounts_found = collected.accounts_found
    production.accounts_missing = collected.accounts_missing
    production.record_count = collected.records
    production.package_size = collected.size
    production.collected_at = now
    production.source = collected.manifest["source"]
    production.status = P.OUT_OF_SCOPE if collected.violations else P.READY
    if production.purpose == ProductionPurpose.PRESERVATION:
        production.expires_at = now + PRESERVATION_PERIOD
    production.save()
    audit_record(
        actor=actor,
        action="production.collected",
        object_type="legal_request",
        object_id=production.request.public_id,
        data={
            "production": str(production.public_id),
            "manifest_sha256": production.manifest_sha256,
            "files": len(collected.manifest["files"]),
            "records": collected.records,
            "accounts_found": collected.accounts_found,
            "accounts_missing": collected.accounts_missing,
            "scope_violations": [v.message for v in collected.violations],
        },
        now=now,
    )
    return production


def production_record_failure(
    *, actor: Actor, production: Production, error: str, now: datetime
) -> Production:
    Production.objects.filter(pk=production.pk).update(status=P.FAILED, error=error[:5000])
    production.refresh_from_db()
    audit_record(
        actor=actor,
        action="production.failed",
        object_type="legal_request",
        object_id=production.request.public_id,
        data={"production": str(production.public_id), "error": error[:500]},
        now=now,
    )
    return production


# --- release, download, purge --------------------------------------------------------------------


def production_check_before_release(production: Production) -> None:
    """The scope check again, against the decision as it stands, and the package's bytes against
    the manifest; Conflict naming the problem otherwise."""
    if production.purpose != ProductionPurpose.DISCLOSURE:
        raise Conflict(
            "a preservation snapshot is never released: preservation discloses nothing",
            code="preservation_not_released",
        )
    if production.status == P.OUT_OF_SCOPE or production.status != P.READY:
        detail = "; ".join(v["message"] for v in production.scope_violations)
        if production.status == P.OUT_OF_SCOPE:
            raise Conflict(
                f"the production is outside the approved scope: {detail}", code="out_of_scope"
            )
        raise Conflict(
            f"the production is {P(production.status).label.lower()}; only a collected "
            "production within scope can be released",
            code="production_not_ready",
        )
    assert production.manifest is not None
    violations = scope_violations(
        approved_scope(production.request, production.decision), production.manifest
    )
    if violations:
        raise Conflict(
            "the production is outside the approved scope: "
            + "; ".join(v.message for v in violations),
            code="out_of_scope",
        )
    if sha256_hex(canonical_json(production.manifest)) != production.manifest_sha256:
        raise Conflict("the stored manifest was changed after signing", code="manifest_changed")
    if not any(a.get("account") for a in production.manifest["accounts"]):
        raise Conflict(
            "no approved target resolved to an account, so there is nothing to release: send "
            "the request back to review and decide NO_DATA",
            code="nothing_to_release",
        )
    for entry in production.manifest["files"]:
        name = f"{_prefix(production)}/{entry['name']}"
        if not store.member_exists(name):
            raise Conflict(f"the package file {entry['name']} is missing", code="package_damaged")


def production_mark_released(*, actor: Actor, production: Production, now: datetime) -> Production:
    require_role(actor, StaffRole.REVIEWER)
    production.status = P.RELEASED
    production.released_at = now
    production.released_by = actor.user
    production.expires_at = now + timedelta(days=settings.PACKAGE_DOWNLOAD_DAYS)
    production.save(update_fields=["status", "released_at", "released_by", "expires_at"])
    audit_record(
        actor=actor,
        action="production.released",
        object_type="legal_request",
        object_id=production.request.public_id,
        data={
            "production": str(production.public_id),
            "manifest_sha256": production.manifest_sha256,
            "expires_at": production.expires_at,
        },
        now=now,
    )
    return production


def download_record(
    *,
    actor: Actor,
    production: Production,
    officer: Officer,
    channel: str,
    client_address: str,
    user_agent: str,
    now: datetime,
) -> bool:
    """Record one download; returns True when it is the first (the delivery receipt)."""
    PackageDownload.objects.create(
        production=production,
        officer=officer,
        channel=channel,
        client_address=client_address[:64],
        user_agent=user_agent[:300],
        downloaded_at=now,
    )
    first = production.delivered_at is None
    if first:
        production.delivered_at = now
        production.status = P.DELIVERED
        production.save(update_fields=["delivered_at", "status"])
    audit_record(
        actor=actor,
        action="package.downloaded",
        object_type="legal_request",
        object_id=production.request.public_id,
        data={
            "production": str(production.public_id),
            "officer": officer.pk,
            "channel": channel,
            "ip": client_address,
            "first": first,
        },
        now=now,
    )
    return first


def production_purge(*, actor: Actor, production: Production, now: datetime) -> int:
    """Delete the package's bytes; the manifest and its hashes stay. Returns bytes freed."""
    freed = store.members_delete(_prefix(production))
    production.status = P.PURGED
    production.purged_at = now
    production.save(update_fields=["status", "purged_at"])
    audit_record(
        actor=actor,
        action="production.purged",
        object_type="legal_request",
        object_id=production.request.public_id,
        data={"production": str(production.public_id), "bytes": freed},
        now=now,
    )
    return freed


def package_stream(production: Production) -> Iterator[bytes]:
    """The package ZIP as the agency receives it: decrypted member by member, authenticated
    chunk by chunk, never held whole in memory."""
    assert production.manifest is not None
    key = unwrap_key(
        production.wrapped_key, secret=settings.SECRET_KEY, binding=str(production.public_id)
    )
    prefix = _prefix(production)

    def opener(name: str) -> Callable[[], IO[bytes]]:
        return lambda: store.member_open(f"{prefix}/{name}")

    return package_zip(
        manifest_bytes=canonical_json(production.manifest),
        signature=production.manifest_signature,
        readme=README,
        members=[
            (entry["name"], unsealed(opener(entry["name"]), key))
            for entry in production.manifest["files"]
        ],
    )


def package_file_name(production: Production) -> str:
    return f"{production.request.reference}-production-{str(production.public_id)[:8]}.zip"


# --- deliveries outside govreq -------------------------------------------------------------------


def other_delivery_record(
    *,
    actor: Actor,
    request: LegalRequest,
    decision: Decision,
    reason: str,
    evidence: Document,
    now: datetime,
) -> OtherDelivery:
    require_role(actor, StaffRole.REVIEWER)
    if not reason.strip():
        raise ValidationFailed.single("reason", "say how and when it was delivered")
    delivery = OtherDelivery.objects.create(
        request=request,
        decision=decision,
        reason=reason.strip(),
        evidence=evidence,
        recorded_at=now,
        recorded_by=actor.user,
    )
    audit_record(
        actor=actor,
        action="delivery.other_means",
        object_type="legal_request",
        object_id=request.public_id,
        data={"decision": decision.pk, "evidence": evidence.pk, "reason": delivery.reason},
        now=now,
    )
    return delivery
