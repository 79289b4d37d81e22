"""Answers owed on time: the worker reminds staff before a request's response target passes,
and alerts every reviewer when an emergency has waited too long without anyone taking it.

Each reminder goes once per request and kind: the ``DeadlineAlert`` row is inserted first, in
the transaction that queues the mail, so of two workers only one sends it. Each recipient gets
the time in their own zone. The mail names the request, never its content or user data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from govreq.accounts.models import RoleAssignment, StaffRole, User
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.durations import span_words, time_left_words
from govreq.core.mail import mail_on_commit
from govreq.intake.models import LegalRequest, RequestKind
from govreq.policy.selectors import policy_current
from govreq.review import wording
from govreq.review.deadlines import RESPONDING_STATUSES, emergency_alert_at, remind_at
from govreq.review.models import AlertKind, DeadlineAlert

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DeadlinesSwept:
    reminded: list[str] = field(default_factory=list)  # references
    emergencies: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # tried again on the next run


def deadlines_sweep(*, actor: Actor, now: datetime) -> DeadlinesSwept:
    """Remind the assignee and the reviewers of every request whose reminder time has come, and
    alert every reviewer of each emergency nobody has taken in time. Idempotent."""
    _, policy = policy_current()
    deadlines = policy.deadlines
    swept = DeadlinesSwept()
    reviewers = list(
        User.objects.filter(
            is_active=True,
            pk__in=RoleAssignment.objects.filter(role=StaffRole.REVIEWER).values("user_id"),
        ).order_by("pk")
    )
    earliest = max(deadlines.remind_before_hours.values())
    due = (
        _not_alerted(AlertKind.DUE_SOON)
        .filter(respond_by__lte=now + timedelta(hours=earliest))
        .select_related("assigned_to", "agency")
        .order_by("respond_by", "pk")
    )
    for request in due.iterator(chunk_size=500):
        if now < remind_at(kind=request.kind, respond_by=request.respond_by, policy=deadlines):
            continue
        people = [request.assigned_to, *reviewers] if request.assigned_to else reviewers
        if _alert(actor, request, AlertKind.DUE_SOON, people, now, swept):
            swept.reminded.append(request.reference)
    untaken = (
        _not_alerted(AlertKind.EMERGENCY_UNTAKEN)
        .filter(
            kind=RequestKind.EMERGENCY,
            assigned_to__isnull=True,
            received_at__lte=now - timedelta(minutes=deadlines.emergency_unassigned_minutes),
        )
        .select_related("agency")
        .order_by("received_at", "pk")
    )
    for request in untaken.iterator(chunk_size=500):
        if now < emergency_alert_at(received_at=request.received_at, policy=deadlines):
            continue
        if _alert(actor, request, AlertKind.EMERGENCY_UNTAKEN, reviewers, now, swept):
            swept.emergencies.append(request.reference)
    return swept


def _not_alerted(kind: str) -> QuerySet[LegalRequest]:
    return LegalRequest.objects.filter(status__in=RESPONDING_STATUSES).exclude(
        Exists(DeadlineAlert.objects.filter(request=OuterRef("pk"), kind=kind))
    )


def _alert(
    actor: Actor,
    request: LegalRequest,
    kind: str,
    people: list[User],
    now: datetime,
    swept: DeadlinesSwept,
) -> bool:
    """Claim the alert and queue one message per person; False if it was sent already, or
    could not be (nobody to tell: it stays unclaimed for the next run; any error is logged and
    the other requests go on)."""
    recipients = list({person.pk: person for person in people if person.is_active}.values())
    if not recipients:
        logger.warning("%s: nobody to remind (no active reviewer)", request.reference)
        swept.failed.append(request.reference)
        return False
    try:
        with transaction.atomic():
            DeadlineAlert.objects.create(
                request=request,
                kind=kind,
                recipients=[person.email for person in recipients],
                sent_at=now,
            )
            for person in recipients:
                subject, body = alert_mail(request, kind, person, now)
                mail_on_commit(
                    subject=subject,
                    body=body,
                    to=[person.email],
                    key=f"deadline-{kind.lower()}-{request.pk}-{person.pk}",
                )
            audit_record(
                actor=actor,
                action="request.deadline_alert",
                object_type="legal_request",
                object_id=request.public_id,
                data={
                    "kind": kind,
                    "respond_by": request.respond_by,
                    "recipients": len(recipients),
                },
                now=now,
            )
    except IntegrityError:
        return False  # another worker sent it
    except Exception:
        logger.exception("%s: the %s reminder failed", request.reference, kind)
        swept.failed.append(request.reference)
        return False
    return True


def alert_mail(request: LegalRequest, kind: str, person: User, now: datetime) -> tuple[str, str]:
    """The subject and body for one staff member, in their language: the reference, the target
    in their zone, and a link to the case."""
    with translation.override(person.language or "en"):
        return _alert_mail(request, kind, person, now)


def _alert_mail(request: LegalRequest, kind: str, person: User, now: datetime) -> tuple[str, str]:
    zone = person.zone
    local = request.respond_by.astimezone(zone)
    when = f"{local:%Y-%m-%d %H:%M} {zone.key}"
    link = f"{settings.BASE_URL.rstrip('/')}/console/requests/{request.public_id}"
    left = time_left_words(request.respond_by - now)
    named = {
        "reference": request.reference,
        "agency": request.agency.name,
        "kind": gettext(wording.KINDS.get(request.kind, wording.KINDS["OTHER"])),
    }
    if kind == AlertKind.EMERGENCY_UNTAKEN:
        subject = _("Emergency %(reference)s has no reviewer") % named
        lead = _(
            "The emergency request %(reference)s from %(agency)s was received %(ago)s ago and "
            "nobody has taken it."
        ) % {**named, "ago": span_words(now - request.received_at)}
    else:
        if request.respond_by <= now:
            subject = _("%(reference)s: answer overdue by %(span)s") % {
                **named,
                "span": span_words(now - request.respond_by),
            }
        else:
            subject = _("%(reference)s: answer due %(left)s") % {**named, "left": left}
        lead = _("%(kind)s from %(agency)s, %(reference)s, is unanswered.") % named
        lead = lead[:1].upper() + lead[1:]
    body = (
        f"{lead}\n"
        + _("Answer by %(when)s (%(left)s).") % {"when": when, "left": left}
        + "\n"
        + _("Open the case: %(link)s") % {"link": link}
        + "\n"
    )
    return subject, body
