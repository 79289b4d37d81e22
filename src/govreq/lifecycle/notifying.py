"""User notice as a stage of the request's life: account holders are told, by default before
their data is disclosed, unless a gag order, an emergency or a child-safety case delays it; and
told when the delay ends.

- A disclosure's production, once collected, opens a notice per disclosed account (due or
  delayed, ``notices.rules``).
- The worker's ``notices_sweep`` (every minute) moves delayed notices whose time has come to due
  (unless a new gag order filed in time awaits review) and sends the due ones, once each, with
  the holder's address and language from the data source (none: not possible).
- Under the policy's ``BEFORE_DISCLOSURE`` timing a package is released only once none of its
  notices is still due.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.tasks import task
from django.utils import timezone

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, ValidationFailed
from govreq.core.queue import enqueue_with_transaction
from govreq.disclosure.models import Production
from govreq.disclosure.sources import (
    DataSource,
    DataSourceError,
    TargetRef,
    data_source_from_file,
)
from govreq.intake.models import LegalRequest, RequestKind
from govreq.intake.services import lock_request
from govreq.notices import services as notices
from govreq.notices.models import DelayReason, GagExtension, NoticeStatus, UserNotice
from govreq.notices.rules import gag_end, gag_in_force, notice_timing
from govreq.policy.document import PolicyDocument
from govreq.policy.selectors import policy_current

N = NoticeStatus
logger = logging.getLogger(__name__)


def notices_open(*, production: Production, now: datetime) -> list[UserNotice]:
    """A notice for each account the production discloses (in the collection's transaction)."""
    _, policy = policy_current()
    request = production.request
    timing = notice_timing(
        notices.notice_facts(request),
        emergency_delay_days=policy.user_notice.emergency_delay_days,
    )
    accounts = dict.fromkeys(
        str(a["account"]) for a in (production.manifest or {}).get("accounts", []) if a["account"]
    )
    opened = []
    for account in accounts:
        notice = notices.notice_open(
            request=request, production=production, account=account, timing=timing, now=now
        )
        if notice is not None:
            opened.append(notice)
    return opened


def notices_for_named(*, request: LegalRequest) -> None:
    """Under the policy's NAMED rule, once a request is decided, its holders are told too when
    their account was named but not disclosed: queued with this transaction (the data source
    is asked by the worker, never inside a reviewer's click)."""
    _, policy = policy_current()
    if policy.user_notice.accounts != "NAMED" or request.kind == RequestKind.PRESERVATION:
        return
    enqueue_with_transaction(open_named_notices, request_id=request.pk)


@task()
def open_named_notices(request_id: int) -> str:
    """Open a notice for every account the request named that the data source knows and that
    has none yet (the disclosed ones have theirs), then send the due ones. Idempotent: a notice
    is unique per request and account. A source that is down fails the task: it is retried."""
    request = LegalRequest.objects.select_related("agency", "jurisdiction").get(pk=request_id)
    now = timezone.now()
    source = data_source_from_file(settings.DATA_SOURCE_CONFIG)
    try:
        accounts = []
        for target in request.targets.order_by("pk"):
            found = source.resolve(TargetRef(type=target.type, value=target.value))
            if found.account is not None:
                accounts.append(found.account)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    _, policy = policy_current()
    timing = notice_timing(
        notices.notice_facts(request),
        emergency_delay_days=policy.user_notice.emergency_delay_days,
    )
    with transaction.atomic():
        opened = [
            notice
            for account in dict.fromkeys(accounts)
            if (
                notice := notices.notice_open(
                    request=request, production=None, account=account, timing=timing, now=now
                )
            )
            is not None
        ]
    swept = NoticesSwept()
    _send_due(
        actor=Actor.system("worker"),
        now=now,
        due=UserNotice.objects.filter(pk__in=[n.pk for n in opened], status=N.DUE),
        swept=swept,
    )
    return f"{len(opened)} notice(s) opened for named accounts, {len(swept.sent)} sent"


def refuse_while_notices_due(production: Production) -> None:
    """Under BEFORE_DISCLOSURE timing, the holders are told before their data leaves."""
    _, policy = policy_current()
    if policy.user_notice.timing != "BEFORE_DISCLOSURE":
        return
    due = UserNotice.objects.filter(production=production, status=N.DUE).count()
    if due:
        raise Conflict(
            f"{due} account holder(s) have not been told yet; notices go out before disclosure "
            "(the worker sends them within a minute)",
            code="notice_pending",
        )


@dataclass(frozen=True, kw_only=True)
class NoticesSwept:
    due: list[int] = field(default_factory=list)  # delays that ended
    sent: list[int] = field(default_factory=list)
    not_possible: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # a gag still in force
    failed: list[int] = field(default_factory=list)  # the source failed: still due


def notices_sweep(*, actor: Actor, now: datetime) -> NoticesSwept:
    """End the delays whose time has come and send what is due: each notice once, never while a
    gag order is in force. Idempotent, and safe with two workers (conditional updates)."""
    swept = NoticesSwept()
    delayed = UserNotice.objects.filter(
        status=N.DELAYED, delayed_until__isnull=False, delayed_until__lte=now
    ).select_related("request")
    for notice in delayed:
        with transaction.atomic():
            facts = notices.notice_facts(notice.request)
            if gag_in_force(facts, now):
                end = gag_end(facts.gag_expires_on)
                if (
                    end is not None
                    and notice.delayed_until is not None
                    and end > notice.delayed_until
                ):
                    UserNotice.objects.filter(pk=notice.pk).update(delayed_until=end)
                swept.waiting.append(notice.pk)
                continue
            if notices.notice_move(
                notice=notice, to_status=N.DUE, reason="the delay ended", now=now
            ):
                swept.due.append(notice.pk)
    _send_due(actor=actor, now=now, due=UserNotice.objects.filter(status=N.DUE), swept=swept)
    return swept


def notices_send_for(*, actor: Actor, production: Production, now: datetime) -> NoticesSwept:
    """Send a just-collected production's due notices at once, so that its release does not
    wait for the worker's next sweep."""
    swept = NoticesSwept()
    due = UserNotice.objects.filter(production=production, status=N.DUE)
    _send_due(actor=actor, now=now, due=due, swept=swept)
    return swept


def _send_due(
    *, actor: Actor, now: datetime, due: QuerySet[UserNotice], swept: NoticesSwept
) -> None:
    waiting = list(due.select_related("request__agency", "request__jurisdiction", "production"))
    if not waiting:
        return
    try:
        source = data_source_from_file(settings.DATA_SOURCE_CONFIG)
    except DataSourceError:
        return  # the source is down: the notices stay due, the next run tries again
    _, policy = policy_current()
    try:
        for notice in waiting:
            try:
                with transaction.atomic():
                    _send_one(
                        actor=actor,
                        notice=notice,
                        source=source,
                        policy=policy,
                        now=now,
                        swept=swept,
                    )
            except Exception:  # the source failed for this account: due still, tried next run
                logger.exception("user notice %s: the contact lookup failed", notice.pk)
                swept.failed.append(notice.pk)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


def _send_one(
    *,
    actor: Actor,
    notice: UserNotice,
    source: DataSource,
    policy: PolicyDocument,
    now: datetime,
    swept: NoticesSwept,
) -> None:
    facts = notices.notice_facts(notice.request)
    if gag_in_force(facts, now):  # a gag that appeared after the notice opened
        notices.notice_move(
            notice=notice,
            to_status=N.DELAYED,
            reason="a non-disclosure order is in force",
            now=now,
            delay_reason=DelayReason.GAG_ORDER,
            delayed_until=gag_end(facts.gag_expires_on),
        )
        swept.waiting.append(notice.pk)
        return
    contact = source.contact(notice.account)
    if contact is None:
        if notices.notice_move(
            notice=notice,
            to_status=N.NOT_POSSIBLE,
            reason="the platform has no contact address for the account",
            now=now,
        ):
            swept.not_possible.append(notice.pk)
        return
    subject, body = notices.notice_compose(
        request=notice.request, notice=notice, policy=policy.user_notice, language=contact.language
    )
    if notices.notice_send(
        actor=actor,
        notice=notice,
        address=contact.address,
        subject=subject,
        body=body,
        language=notices.notice_language(contact.language),
        now=now,
    ):
        swept.sent.append(notice.pk)


@transaction.atomic
def notice_delay(
    *, actor: Actor, notice: UserNotice, until: datetime | None, reason: str, now: datetime
) -> UserNotice:
    """A reviewer delays a due notice because the agency asked (with the reason recorded)."""
    require_role(actor, StaffRole.REVIEWER)
    if not reason.strip():
        raise ValidationFailed.single("reason", "say why the agency's request was accepted")
    if until is not None and until <= now:
        raise ValidationFailed.single("until", "must lie in the future")
    if until is not None and until > now + timedelta(days=notices.MAX_GAG_EXTENSION_DAYS):
        raise ValidationFailed.single("until", "must be within 10 years from now")
    notice = UserNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != N.DUE:
        raise Conflict("only a due notice can be delayed", code="notice_not_due")
    notices.notice_move(
        notice=notice,
        to_status=N.DELAYED,
        reason=reason.strip(),
        now=now,
        delay_reason=DelayReason.AGENCY_REQUEST,
        delayed_until=until,
    )
    audit_record(
        actor=actor,
        action="notice.delayed",
        object_type="legal_request",
        object_id=notice.request.public_id,
        data={"notice": notice.pk, "until": until, "reason": reason.strip()},
        now=now,
    )
    return notice


@transaction.atomic
def notice_delay_end(*, actor: Actor, notice: UserNotice, reason: str, now: datetime) -> UserNotice:
    """A reviewer ends a delay that is not a gag order (a child-safety case, an agency's
    request, an emergency): the notice is due."""
    require_role(actor, StaffRole.REVIEWER)
    if not reason.strip():
        raise ValidationFailed.single("reason", "say why the delay ends")
    notice = UserNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != N.DELAYED or notice.delay_reason == DelayReason.GAG_ORDER:
        raise Conflict(
            "only a delay that is not a gag order can be ended by hand", code="notice_not_delayed"
        )
    notices.notice_move(notice=notice, to_status=N.DUE, reason=reason.strip(), now=now)
    audit_record(
        actor=actor,
        action="notice.delay_ended",
        object_type="legal_request",
        object_id=notice.request.public_id,
        data={"notice": notice.pk, "reason": reason.strip()},
        now=now,
    )
    return notice


def gag_extension_file(
    *,
    actor: Actor,
    request: LegalRequest,
    upload: IO[bytes],
    original_name: str,
    new_expires_on: date,
    legal_basis: str,
    now: datetime,
) -> GagExtension:
    return notices.gag_extension_file(
        actor=actor,
        request=request,
        upload=upload,
        original_name=original_name,
        new_expires_on=new_expires_on,
        legal_basis=legal_basis,
        now=now,
    )


@transaction.atomic
def gag_extension_decide(
    *, actor: Actor, extension: GagExtension, accept: bool, note: str, now: datetime
) -> GagExtension:
    """Accepting moves the gag's end, and the waiting notices with it (never earlier: an
    extension that is no longer later than the order in force is refused). The request row is
    locked first, then the extension, as everywhere."""
    require_role(actor, StaffRole.REVIEWER)
    lock_request(extension.request)
    extension = (
        GagExtension.objects.select_for_update().select_related("request").get(pk=extension.pk)
    )
    return notices.gag_extension_decide(
        actor=actor, extension=extension, accept=accept, note=note, now=now
    )
