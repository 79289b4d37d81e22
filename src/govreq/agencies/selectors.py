from __future__ import annotations

from django.db.models import Count, QuerySet

from govreq.agencies.lookalike import Lookalike, VerifiedDomain, find_lookalikes, is_official
from govreq.agencies.models import AccessRequest, Agency, AgencyDomain, AgencyStatus, Officer
from govreq.core.errors import NotFound


def agency_list() -> QuerySet[Agency]:
    return (
        Agency.objects.select_related("jurisdiction")
        .prefetch_related("domains")
        .annotate(officer_count=Count("officers", distinct=True))
        .order_by("jurisdiction_id", "name")
    )


def agency_get(agency_id: int) -> Agency:
    agency = Agency.objects.select_related("jurisdiction").filter(pk=agency_id).first()
    if agency is None:
        raise NotFound(f"no agency with id {agency_id}", code="agency_not_found")
    return agency


def officer_get_by_email(email: str) -> Officer:
    officer = (
        Officer.objects.select_related("agency", "agency__jurisdiction")
        .filter(email=email.strip().lower())
        .first()
    )
    if officer is None:
        raise NotFound(f"no officer with e-mail {email}", code="officer_not_found")
    return officer


def verified_domains() -> list[VerifiedDomain]:
    """Every official domain of every verified agency: what a new domain is compared with."""
    rows = AgencyDomain.objects.filter(agency__status=AgencyStatus.VERIFIED).values_list(
        "agency_id", "agency__name", "domain", "agency__allow_subdomains"
    )
    return [
        VerifiedDomain(agency_id=agency, agency_name=name, domain=domain, allow_subdomains=subs)
        for agency, name, domain, subs in rows
    ]


def domain_lookalikes(
    domain: str, *, verified: list[VerifiedDomain] | None = None
) -> list[Lookalike]:
    """The verified agencies' domains ``domain`` imitates (``agencies.lookalike``)."""
    return find_lookalikes(domain, verified_domains() if verified is None else verified)


def access_request_lookalikes(
    access: AccessRequest, *, verified: list[VerifiedDomain] | None = None
) -> list[dict[str, object]]:
    """What the access request's address imitates now and what it imitated when it arrived
    (an agency verified since is compared too; one suspended since still counts), unless the
    address is now at a verified agency's own domain."""
    verified = verified_domains() if verified is None else verified
    host = access.email.rpartition("@")[2]
    if is_official(host, verified):
        return []
    records = [finding.as_record() for finding in find_lookalikes(host, verified)]
    seen = {(record["agency"], record["domain"]) for record in records}
    for stored in access.lookalikes:
        if (stored.get("agency"), stored.get("domain")) not in seen:
            records.append(stored)
    return records
