"""Writes for agencies and officers. Each runs in one transaction with its audit event.

An agency's standing is a fact the legitimacy checks read: ``lifecycle.rechecking`` wraps
verification and suspension to check the agency's open requests again in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.agencies.lookalike import Lookalike
from govreq.agencies.models import (
    AccessRequest,
    AccessRequestStatus,
    Agency,
    AgencyDomain,
    AgencyKind,
    AgencyStatus,
    Officer,
    OfficerStatus,
)
from govreq.agencies.rules import email_domain_allowed, normalise_domain
from govreq.agencies.selectors import (
    access_request_lookalikes,
    domain_lookalikes,
    verified_domains,
)
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.domains import canonical_email
from govreq.core.errors import Conflict, FieldError, ValidationFailed
from govreq.jurisdictions.models import Jurisdiction


def _require_agency_admin(actor: Actor) -> None:
    require_role(actor, StaffRole.INTAKE, StaffRole.POLICY_ADMIN)


LOOKALIKE_OVERRIDE_REQUIRED = "lookalike_override_required"


def _imitated(records: list[dict[str, object]]) -> str:
    return "; ".join(
        f"{record['domain']} of {record['name']} (agency {record['agency']}): {record['why']}"
        for record in records
    )


def _lookalike_refused(field: str, shown: str, findings: list[Lookalike]) -> FieldError:
    return FieldError(
        field=field,
        message=f"{shown} looks like a verified agency's domain: "
        f"{_imitated([finding.as_record() for finding in findings])}. "
        "If it is genuine, give the reason as an override",
    )


@transaction.atomic
def agency_add(
    *,
    actor: Actor,
    name: str,
    jurisdiction_code: str,
    kind: str,
    domains: list[str],
    allow_subdomains: bool = False,
    lookalike_override: str = "",
    now: datetime,
) -> Agency:
    """Register an agency (PENDING until staff verify it).

    A domain that looks like a verified agency's (``agencies.lookalike``) is refused
    (``lookalike_override_required``) unless ``lookalike_override`` says why it is genuine;
    the reason is kept on the domain and audited."""
    _require_agency_admin(actor)
    errors: list[FieldError] = []
    name = name.strip()
    if not name:
        errors.append(FieldError(field="name", message="must not be empty"))
    code = jurisdiction_code.strip().upper()
    jurisdiction = Jurisdiction.objects.filter(code=code).first()
    if jurisdiction is None:
        errors.append(
            FieldError(field="jurisdiction", message=f"{jurisdiction_code!r} is not an ISO code")
        )
    if kind not in AgencyKind.values:
        errors.append(
            FieldError(field="kind", message=f"must be one of {', '.join(AgencyKind.values)}")
        )
    normalised: list[str] = []
    if not domains:
        errors.append(FieldError(field="domains", message="at least one domain is required"))
    for index, raw in enumerate(domains):
        domain = normalise_domain(raw)
        if domain is None:
            errors.append(FieldError(field=f"domains[{index}]", message=f"{raw!r} is not a domain"))
        elif domain in normalised:
            errors.append(FieldError(field=f"domains[{index}]", message="listed twice"))
        else:
            normalised.append(domain)
    taken = set(AgencyDomain.objects.filter(domain__in=normalised).values_list("domain", flat=True))
    for domain in sorted(taken):
        errors.append(FieldError(field="domains", message=f"{domain} belongs to another agency"))
    if (
        jurisdiction is not None
        and Agency.objects.filter(jurisdiction=jurisdiction, name__iexact=name).exists()
    ):
        errors.append(FieldError(field="name", message="an agency of that name exists there"))
    if errors:
        raise ValidationFailed(errors)
    lookalikes = _domains_lookalikes(normalised, lookalike_override)
    assert jurisdiction is not None
    agency = Agency.objects.create(
        name=name,
        jurisdiction=jurisdiction,
        kind=kind,
        allow_subdomains=allow_subdomains,
        created_at=now,
    )
    AgencyDomain.objects.bulk_create(
        AgencyDomain(
            agency=agency,
            domain=d,
            lookalike_override_reason=lookalike_override.strip() if d in lookalikes else "",
        )
        for d in normalised
    )
    data: dict[str, object] = {
        "name": name,
        "jurisdiction": code,
        "kind": kind,
        "domains": normalised,
        "allow_subdomains": allow_subdomains,
    }
    if lookalikes:
        data["lookalikes"] = lookalikes
        data["lookalike_override"] = lookalike_override.strip()
    audit_record(
        actor=actor,
        action="agency.added",
        object_type="agency",
        object_id=agency.pk,
        data=data,
        now=now,
    )
    return agency


def _domains_lookalikes(
    domains: list[str], override: str, *, field: str = "domains"
) -> dict[str, list[dict[str, object]]]:
    """The look-alike findings of each domain; refused unless an override reason is given."""
    findings = {domain: domain_lookalikes(domain) for domain in domains}
    findings = {domain: found for domain, found in findings.items() if found}
    if findings and not override.strip():
        raise ValidationFailed(
            [
                _lookalike_refused(
                    f"{field}[{domains.index(domain)}]" if field == "domains" else field,
                    domain,
                    found,
                )
                for domain, found in findings.items()
            ],
            code=LOOKALIKE_OVERRIDE_REQUIRED,
        )
    return {
        domain: [finding.as_record() for finding in found] for domain, found in findings.items()
    }


@transaction.atomic
def agency_domain_add(
    *, actor: Actor, agency: Agency, domain: str, lookalike_override: str = "", now: datetime
) -> AgencyDomain:
    """Add an official e-mail domain to an agency. One that looks like another verified
    agency's is refused unless ``lookalike_override`` says why it is genuine (as in
    ``agency_add``); one like the agency's own domains is not a look-alike."""
    _require_agency_admin(actor)
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    normalised = normalise_domain(domain)
    if normalised is None:
        raise ValidationFailed.single("domain", f"{domain!r} is not a domain")
    if AgencyDomain.objects.filter(domain=normalised).exists():
        raise ValidationFailed.single("domain", f"{normalised} belongs to an agency already")
    others = [v for v in verified_domains() if v.agency_id != agency.pk]
    findings = domain_lookalikes(normalised, verified=others)
    if findings and not lookalike_override.strip():
        raise ValidationFailed(
            [_lookalike_refused("domain", normalised, findings)], code=LOOKALIKE_OVERRIDE_REQUIRED
        )
    added = AgencyDomain.objects.create(
        agency=agency,
        domain=normalised,
        lookalike_override_reason=lookalike_override.strip() if findings else "",
    )
    data: dict[str, object] = {"domain": normalised}
    if findings:
        data["lookalikes"] = [finding.as_record() for finding in findings]
        data["lookalike_override"] = lookalike_override.strip()
    audit_record(
        actor=actor,
        action="agency.domain_added",
        object_type="agency",
        object_id=agency.pk,
        data=data,
        now=now,
    )
    return added


@transaction.atomic
def agency_verify(*, actor: Actor, agency: Agency, method: str, now: datetime) -> Agency:
    """Record that staff verified the agency is real, and how (never from the request itself)."""
    _require_agency_admin(actor)
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if agency.status == AgencyStatus.VERIFIED:
        raise Conflict(f"agency {agency.pk} is already verified", code="agency_already_verified")
    if not method.strip():
        raise ValidationFailed.single("method", "say how the agency was verified")
    previous = agency.status
    agency.status = AgencyStatus.VERIFIED
    agency.verified_at = now
    agency.verified_by = actor.user
    agency.verification_method = method.strip()
    agency.save(update_fields=["status", "verified_at", "verified_by", "verification_method"])
    audit_record(
        actor=actor,
        action="agency.verified",
        object_type="agency",
        object_id=agency.pk,
        data={"from": previous, "method": agency.verification_method},
        now=now,
    )
    return agency


@transaction.atomic
def agency_suspend(*, actor: Actor, agency: Agency, reason: str, now: datetime) -> Agency:
    """Suspend an agency (e.g. a hijacked mailbox): its officers' tokens and sessions stop
    working and its open requests are checked again (AGENCY_NOT_VERIFIED blocks them)."""
    _require_agency_admin(actor)
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if agency.status == AgencyStatus.SUSPENDED:
        raise Conflict(f"agency {agency.pk} is already suspended", code="agency_already_suspended")
    if not reason.strip():
        raise ValidationFailed.single("reason", "must not be empty")
    previous = agency.status
    agency.status = AgencyStatus.SUSPENDED
    agency.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="agency.suspended",
        object_type="agency",
        object_id=agency.pk,
        data={"from": previous, "reason": reason.strip()},
        now=now,
    )
    return agency


@transaction.atomic
def officer_add(
    *,
    actor: Actor,
    agency: Agency,
    email: str,
    name: str,
    badge_number: str = "",
    lookalike_override: str = "",
    now: datetime,
) -> Officer:
    """Add an officer whose address is at one of the agency's official domains.

    An address whose domain looks like another verified agency's is refused
    (``lookalike_override_required``) unless staff recorded why that domain is genuine when it
    was added, or give ``lookalike_override`` now."""
    _require_agency_admin(actor)
    errors: list[FieldError] = []
    email = canonical_email(email) or email.strip().lower()
    lookalikes: list[dict[str, object]] = []
    try:
        validate_email(email)
    except DjangoValidationError:
        errors.append(FieldError(field="email", message=f"{email!r} is not an e-mail address"))
    else:
        domains = list(agency.domains.values_list("domain", flat=True))
        if not email_domain_allowed(email, domains, allow_subdomains=agency.allow_subdomains):
            errors.append(
                FieldError(
                    field="email",
                    message=f"must be at one of the agency's domains: {', '.join(domains)}",
                )
            )
        elif Officer.objects.filter(email=email).exists():
            errors.append(FieldError(field="email", message="an officer with it exists"))
        else:
            host = email.rpartition("@")[2]
            findings = domain_lookalikes(host)
            if findings and not (lookalike_override.strip() or _override_on_record(agency, host)):
                raise ValidationFailed(
                    [_lookalike_refused("email", email, findings)],
                    code=LOOKALIKE_OVERRIDE_REQUIRED,
                )
            lookalikes = [finding.as_record() for finding in findings]
    if not name.strip():
        errors.append(FieldError(field="name", message="must not be empty"))
    if agency.status == AgencyStatus.SUSPENDED:
        errors.append(FieldError(field="agency", message="the agency is suspended"))
    if errors:
        raise ValidationFailed(errors)
    officer = Officer.objects.create(
        agency=agency,
        email=email,
        name=name.strip(),
        badge_number=badge_number.strip(),
        created_at=now,
    )
    audit_record(
        actor=actor,
        action="officer.added",
        object_type="officer",
        object_id=officer.pk,
        data={
            "agency": agency.pk,
            "email": email,
            "badge_number": officer.badge_number,
            **(
                {"lookalikes": lookalikes, "lookalike_override": lookalike_override.strip()}
                if lookalikes
                else {}
            ),
        },
        now=now,
    )
    return officer


def _override_on_record(agency: Agency, host: str) -> bool:
    """Whether staff recorded why the agency's domain covering ``host`` is genuine."""
    for official in agency.domains.exclude(lookalike_override_reason=""):
        if host == official.domain or (
            agency.allow_subdomains and host.endswith("." + official.domain)
        ):
            return True
    return False


@transaction.atomic
def officer_suspend(*, actor: Actor, officer: Officer, reason: str, now: datetime) -> Officer:
    _require_agency_admin(actor)
    officer = Officer.objects.select_for_update().get(pk=officer.pk)
    if officer.status == OfficerStatus.SUSPENDED:
        raise Conflict("the officer is already suspended", code="officer_already_suspended")
    officer.status = OfficerStatus.SUSPENDED
    officer.save(update_fields=["status"])
    officer.tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
    audit_record(
        actor=actor,
        action="officer.suspended",
        object_type="officer",
        object_id=officer.pk,
        data={"reason": reason.strip()},
        now=now,
    )
    return officer


@transaction.atomic
def access_request_submit(
    *,
    name: str,
    email: str,
    agency_name: str,
    jurisdiction_code: str,
    agency_kind: str,
    badge_number: str = "",
    note: str = "",
    now: datetime,
) -> AccessRequest:
    """Record an officer's request for access. Nothing is granted until staff verify.

    The address's domain is compared with every verified agency's: what it imitates is kept
    on the request for staff to see (the requester is not told)."""
    errors: list[FieldError] = []
    email = canonical_email(email) or email.strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        errors.append(FieldError(field="email", message="is not an e-mail address"))
    if not name.strip():
        errors.append(FieldError(field="name", message="must not be empty"))
    if not agency_name.strip():
        errors.append(FieldError(field="agency_name", message="must not be empty"))
    jurisdiction = Jurisdiction.objects.filter(code=jurisdiction_code.strip().upper()).first()
    if jurisdiction is None:
        errors.append(FieldError(field="jurisdiction", message="choose a country or territory"))
    if agency_kind not in AgencyKind.values:
        errors.append(FieldError(field="agency_kind", message="choose a kind of agency"))
    if errors or jurisdiction is None:
        raise ValidationFailed(errors)
    lookalikes = [finding.as_record() for finding in domain_lookalikes(email.rpartition("@")[2])]
    access = AccessRequest.objects.create(
        name=name.strip(),
        email=email,
        badge_number=badge_number.strip(),
        agency_name=agency_name.strip(),
        jurisdiction=jurisdiction,
        agency_kind=agency_kind,
        note=note.strip(),
        created_at=now,
        lookalikes=lookalikes,
    )
    audit_record(
        actor=Actor.system("portal"),
        action="access.requested",
        object_type="access_request",
        object_id=access.pk,
        data={
            "email": email,
            "agency_name": access.agency_name,
            "jurisdiction": jurisdiction_code,
            "lookalikes": [record["agency"] for record in lookalikes],
        },
        now=now,
    )
    return access


@transaction.atomic
def access_request_approve(
    *,
    actor: Actor,
    access: AccessRequest,
    agency: Agency,
    method: str,
    lookalike_override: str = "",
    now: datetime,
) -> Officer:
    """Grant access: the agency must be verified (here, or already), then the officer is added.

    ``method`` records how the agency and the officer were verified (for example, a call-back to
    a number from an independent directory); it is required. When the requester's domain looks
    like a verified agency's (found on arrival or now), access is refused
    (``lookalike_override_required``, naming the agency imitated) unless ``lookalike_override``
    says why it is genuine; the reason is kept on the request and audited.
    """
    _require_agency_admin(actor)
    access = AccessRequest.objects.select_for_update().get(pk=access.pk)
    if access.status != AccessRequestStatus.PENDING:
        raise Conflict("this access request was already decided", code="already_decided")
    if not method.strip():
        raise ValidationFailed.single("method", "say how the agency and officer were verified")
    lookalikes = access_request_lookalikes(access)
    if lookalikes and not lookalike_override.strip():
        raise ValidationFailed(
            [
                FieldError(
                    field="lookalike_override",
                    message=f"{access.email} looks like a verified agency's domain: "
                    f"{_imitated(lookalikes)}. If it is genuine, give the reason as an override",
                )
            ],
            code=LOOKALIKE_OVERRIDE_REQUIRED,
        )
    if agency.status == AgencyStatus.PENDING:
        agency = agency_verify(actor=actor, agency=agency, method=method, now=now)
    elif agency.status == AgencyStatus.SUSPENDED:
        raise Conflict("the agency is suspended", code="agency_suspended")
    officer = officer_add(
        actor=actor,
        agency=agency,
        email=access.email,
        name=access.name,
        badge_number=access.badge_number,
        lookalike_override=lookalike_override if lookalikes else "",
        now=now,
    )
    access.status = AccessRequestStatus.APPROVED
    access.decided_at = now
    access.decided_by = actor.user
    access.decision_note = method.strip()
    access.officer = officer
    access.lookalikes = lookalikes
    access.lookalike_override_reason = lookalike_override.strip() if lookalikes else ""
    access.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            "decision_note",
            "officer",
            "lookalikes",
            "lookalike_override_reason",
        ]
    )
    data: dict[str, object] = {"agency": agency.pk, "officer": officer.pk, "method": method.strip()}
    if lookalikes:
        data["lookalikes"] = lookalikes
        data["lookalike_override"] = access.lookalike_override_reason
    audit_record(
        actor=actor,
        action="access.approved",
        object_type="access_request",
        object_id=access.pk,
        data=data,
        now=now,
    )
    return officer


@transaction.atomic
def access_request_refuse(
    *, actor: Actor, access: AccessRequest, reason: str, now: datetime
) -> AccessRequest:
    _require_agency_admin(actor)
    access = AccessRequest.objects.select_for_update().get(pk=access.pk)
    if access.status != AccessRequestStatus.PENDING:
        raise Conflict("this access request was already decided", code="already_decided")
    if not reason.strip():
        raise ValidationFailed.single("reason", "must not be empty")
    access.status = AccessRequestStatus.REFUSED
    access.decided_at = now
    access.decided_by = actor.user
    access.decision_note = reason.strip()
    access.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    audit_record(
        actor=actor,
        action="access.refused",
        object_type="access_request",
        object_id=access.pk,
        data={
            "reason": reason.strip(),
            "lookalikes": [record.get("agency") for record in access.lookalikes],
        },
        now=now,
    )
    return access
