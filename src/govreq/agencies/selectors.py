from __future__ import annotations

from django.db.models import Count, QuerySet

from govreq.agencies.models import Agency, Officer
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
