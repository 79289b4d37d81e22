"""The notices area's own writes: open a notice per disclosed account, move it (with its
history), send it once; file and decide a gag order's extension.

Nothing here reads the clock or decides when: the lifecycle (``lifecycle.notifying``) and the
pure rules (``notices.rules``) do.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import IO

from django.db import transaction

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, NotFound, ValidationFailed
from govreq.core.mail import mail_on_commit
from govreq.disclosure.models import Production
from govreq.intake import services as intake
from govreq.intake.models import LegalRequest
from govreq.notices.models import (
    DelayReason,
    ExtensionStatus,
    GagExtension,
    NoticeEvent,
    NoticeStatus,
    UserNotice,
)
from govreq.notices.rules import NoticeFacts, Timing, gag_end
from govreq.policy.document import UserNoticePolicy

N = NoticeStatus
# No order is read as lasting longer than this (a mistyped year would hide a notice for ever).
MAX_GAG_EXTENSION_DAYS = 10 * 365


def notice_facts(request: LegalRequest) -> NoticeFacts:
    """What decides when the request's account holders may be told."""
    pending = (
        GagExtension.objects.filter(request=request, status=ExtensionStatus.PENDING)
        .order_by("filed_at")
        .values_list("filed_at", flat=True)
        .first()
    )
    return NoticeFacts(
        kind=request.kind,
        offence_category=request.offence_category,
        received_at=request.received_at,
        gag_expires_on=request.gag_expires_on if request.gag_order else None,
        extension_pending_since=pending,
    )


def _event(notice: UserNotice, from_status: str, reason: str, now: datetime) -> None:
    NoticeEvent.objects.create(
        notice=notice,
        from_status=from_status,
        to_status=notice.status,
        reason=reason,
        delay_reason=notice.delay_reason if notice.status == N.DELAYED else "",
        occurred_at=now,
    )


def notice_open(
    *,
    request: LegalRequest,
    production: Production | None,
    account: str,
    timing: Timing,
    now: datetime,
) -> UserNotice | None:
    """A notice for one account holder, due or delayed; None if the request has one already."""
    notice, created = UserNotice.objects.get_or_create(
        request=request,
        account=account,
        defaults={
            "production": production,
            "status": timing.status,
            "delay_reason": timing.reason,
            "delayed_until": timing.until,
            "created_at": now,
        },
    )
    if not created:
        return None
    _event(notice, "", timing.reason or "due", now)
    return notice


def notice_move(
    *, notice: UserNotice, to_status: str, reason: str, now: datetime, **fields: object
) -> bool:
    """Move a notice if it is still where it was read (a conditional update: two workers never
    both move it); returns whether this call moved it."""
    moved = UserNotice.objects.filter(pk=notice.pk, status=notice.status).update(
        status=to_status, **fields
    )
    if not moved:
        return False
    before = notice.status
    notice.status = to_status
    for name, value in fields.items():
        setattr(notice, name, value)
    _event(notice, before, reason, now)
    return True


def notice_language(contact_language: str) -> str:
    """The language a notice is written in for the holder's own: Traditional Chinese or
    English."""
    return "zh-Hant" if contact_language.lower().startswith("zh") else "en"


def notice_compose(
    *, request: LegalRequest, notice: UserNotice, policy: UserNoticePolicy, language: str
) -> tuple[str, str]:
    """The subject and text of a notice, in the holder's language (Traditional Chinese or
    English). It names the agency and the process, never the officer."""
    manifest = notice.production.manifest if notice.production else None
    categories = sorted(
        {
            f["category"]
            for f in (manifest or {}).get("files", [])
            if f["account"] == notice.account and f["records"]
        }
    )
    chinese = notice_language(language) == "zh-Hant"
    names = {
        "BASIC_SUBSCRIBER": ("basic subscriber information", "基本用戶資料"),
        "IP_LOGS": ("IP address logs", "IP 位址紀錄"),
        "TRANSACTIONAL": ("transactional (non-content) records", "交易（非內容）紀錄"),
        "CONTENT": ("stored content", "已儲存的內容"),
        "LOCATION": ("location history", "位置紀錄"),
    }
    disclosed = ("、" if chinese else ", ").join(
        names.get(c, (c, c))[1 if chinese else 0] for c in categories
    ) or ("無" if chinese else "nothing")
    values = {
        "platform": policy.text.platform_zh_hant if chinese else policy.text.platform_en,
        "agency": request.agency.name,
        "jurisdiction": request.jurisdiction.name,
        "legal_process": request.legal_basis or request.get_kind_display(),
        "account": notice.account,
        "disclosed": disclosed,
        "received": request.received_at.date().isoformat(),
        "help": policy.help,
    }
    text = policy.text
    if chinese:
        return text.subject_zh_hant.format_map(values), text.zh_hant.format_map(values)
    return text.subject_en.format_map(values), text.en.format_map(values)


def notice_send(
    *,
    actor: Actor,
    notice: UserNotice,
    address: str,
    subject: str,
    body: str,
    language: str,
    now: datetime,
) -> bool:
    """Send one due notice, once: marked SENT (with the language it was written in) by a
    conditional update, the mail queued in the same transaction (it leaves when that commits).
    Returns whether this call sent it."""
    if notice.status != N.DUE:
        return False
    if not notice_move(
        notice=notice,
        to_status=N.SENT,
        reason="sent",
        now=now,
        sent_at=now,
        language=language,
    ):
        return False
    mail_on_commit(subject=subject, body=body, to=[address], key=f"notice-{notice.pk}")
    audit_record(
        actor=actor,
        action="notice.sent",
        object_type="legal_request",
        object_id=notice.request.public_id,
        data={"notice": notice.pk, "account": notice.account},
        now=now,
    )
    return True


# --- gag extensions ---------------------------------------------------------------------------


@transaction.atomic
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
    """The agency files a new non-disclosure order (the document itself) to extend the gag;
    staff review it. Filed before the gag ends, it keeps the notices waiting until reviewed."""
    if actor.officer is None or actor.officer.agency_id != request.agency_id:
        raise NotFound(f"no request {request.public_id}", code="request_not_found")
    request = intake.lock_request(request)  # the gag as it stands now, not as the caller read it
    if not request.gag_order or request.gag_expires_on is None:
        raise Conflict(f"{request.reference} has no non-disclosure order", code="no_gag_order")
    if new_expires_on <= request.gag_expires_on:
        raise ValidationFailed.single(
            "new_expires_on", f"must be after the current expiry, {request.gag_expires_on}"
        )
    if new_expires_on > now.date() + timedelta(days=MAX_GAG_EXTENSION_DAYS):
        raise ValidationFailed.single(
            "new_expires_on", f"must be within {MAX_GAG_EXTENSION_DAYS // 365} years from today"
        )
    end = gag_end(request.gag_expires_on)
    if end is not None and now >= end:
        raise Conflict(
            f"the non-disclosure order of {request.reference} ended on {request.gag_expires_on}: "
            "an extension must be filed before it ends",
            code="gag_ended",
        )
    document = intake.document_store(
        actor=actor,
        request=request,
        upload=upload,
        original_name=original_name,
        claimed_type=None,
        now=now,
        after_close=True,  # the gag outlives the request: notices wait after it closed
    )
    extension = GagExtension.objects.create(
        request=request,
        document=document,
        new_expires_on=new_expires_on,
        legal_basis=legal_basis.strip(),
        filed_at=now,
        status=ExtensionStatus.PENDING,
    )
    audit_record(
        actor=actor,
        action="gag.extension_filed",
        object_type="legal_request",
        object_id=request.public_id,
        data={"extension": extension.pk, "new_expires_on": new_expires_on},
        now=now,
    )
    return extension


def gag_extension_decide(
    *, actor: Actor, extension: GagExtension, accept: bool, note: str, now: datetime
) -> GagExtension:
    """A reviewer accepts (the gag now ends later) or refuses a filed extension."""
    require_role(actor, StaffRole.REVIEWER)
    if extension.status != ExtensionStatus.PENDING:
        raise Conflict("this extension was already decided", code="already_decided")
    if not accept and not note.strip():
        raise ValidationFailed.single("note", "say why the extension is refused")
    current = extension.request.gag_expires_on
    if accept and current is not None and extension.new_expires_on <= current:
        # Another extension accepted since moved the gag further: accepting this one would
        # shorten an order in force, and tell account holders too early.
        raise Conflict(
            f"the non-disclosure order already runs to {current}, after this extension's "
            f"{extension.new_expires_on}: refuse it instead",
            code="extension_not_later",
        )
    extension.status = ExtensionStatus.ACCEPTED if accept else ExtensionStatus.REFUSED
    extension.decided_at = now
    extension.decided_by = actor.user
    extension.note = note.strip()
    extension.save(update_fields=["status", "decided_at", "decided_by", "note"])
    request = extension.request
    if accept:
        LegalRequest.objects.filter(pk=request.pk).update(
            gag_expires_on=extension.new_expires_on,
            gag_legal_basis=extension.legal_basis or request.gag_legal_basis,
        )
        UserNotice.objects.filter(
            request=request, status=N.DELAYED, delay_reason=DelayReason.GAG_ORDER
        ).update(delayed_until=gag_end(extension.new_expires_on))
    audit_record(
        actor=actor,
        action="gag.extension_accepted" if accept else "gag.extension_refused",
        object_type="legal_request",
        object_id=request.public_id,
        data={"extension": extension.pk, "new_expires_on": extension.new_expires_on},
        now=now,
    )
    return extension
