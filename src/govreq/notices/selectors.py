"""Reads for user notice: a request's notices with their history, its gag extensions, and
whether the agency may still file one."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from govreq.core.errors import NotFound
from govreq.intake.models import LegalRequest
from govreq.notices.models import GagExtension, UserNotice
from govreq.notices.rules import gag_end


def notices_of(request: LegalRequest) -> QuerySet[UserNotice]:
    """The request's notices, oldest first, each with its history (prefetched)."""
    return UserNotice.objects.filter(request=request).prefetch_related("events")


def gag_extensions_of(request: LegalRequest) -> QuerySet[GagExtension]:
    """The extensions the agency filed for the request, newest first, with their documents."""
    return GagExtension.objects.filter(request=request).select_related("document", "decided_by")


def notice_get(notice_id: int) -> UserNotice:
    notice = UserNotice.objects.select_related("request").filter(pk=notice_id).first()
    if notice is None:
        raise NotFound(f"no notice {notice_id}", code="notice_not_found")
    return notice


def gag_extension_get(extension_id: int) -> GagExtension:
    extension = (
        GagExtension.objects.select_related("request", "document", "decided_by")
        .filter(pk=extension_id)
        .first()
    )
    if extension is None:
        raise NotFound(f"no gag extension {extension_id}", code="gag_extension_not_found")
    return extension


def gag_extension_open(request: LegalRequest, now: datetime) -> bool:
    """Whether the agency may still file a new order: its gag has not ended yet (afterwards the
    service refuses with ``gag_ended``)."""
    end = gag_end(request.gag_expires_on) if request.gag_order else None
    return end is not None and now < end
