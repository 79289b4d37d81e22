"""Telling the requesting officer that there is news: a question was asked, a decision was
taken, a package is ready. The mail carries no user data and no decision, only the request's
reference and a link to the portal, where the officer signs in to read it.

Mail leaves only when the transaction that caused it commits, through a task (``mail_officer``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.tasks import task

from govreq.core.queue import enqueue_with_transaction
from govreq.intake.models import LegalRequest

# Agencies in these jurisdictions read Traditional Chinese first, then English.
TRADITIONAL_CHINESE = frozenset({"HK", "MO", "TW"})
NEWS = {
    "question": (
        "The platform has a question about your request {reference}.",
        "平台就貴機構的請求 {reference} 提出問題。",
    ),
    "decision": (
        "The platform has answered your request {reference}.",
        "平台已答覆貴機構的請求 {reference}。",
    ),
    "package": (
        "The records produced for your request {reference} are ready to download.",
        "為貴機構的請求 {reference} 提供的記錄已可供下載。",
    ),
    "preservation_expiring": (
        "The preservation {reference} ends in 14 days unless your agency extends it (once).",
        "保存請求 {reference} 將於 14 日後結束，除非貴機構申請延長（只可延長一次）。",
    ),
}
_READ_IT = (
    "Sign in to the agency portal to read it: {link}",
    "請登入機構入口網站查閱：{link}",
)


def tell_officer(request: LegalRequest, news: str) -> None:
    """E-mail the requesting officer once this transaction commits (queued with it)."""
    if news not in NEWS:
        raise ValueError(f"no such news: {news}")
    enqueue_with_transaction(mail_officer, request_id=request.pk, news=news)


def officer_mail(request: LegalRequest, news: str) -> tuple[str, str]:
    """The subject and body of one message (no user data: the reference and a link)."""
    link = f"{settings.BASE_URL.rstrip('/')}/portal/requests/{request.public_id}"
    english, chinese = (text.format(reference=request.reference) for text in NEWS[news])
    read_en, read_zh = (text.format(link=link) for text in _READ_IT)
    if request.jurisdiction_id in TRADITIONAL_CHINESE:
        return f"{chinese} / {english}", f"{chinese}\n{read_zh}\n\n{english}\n{read_en}\n"
    return english, f"{english}\n{read_en}\n"


@task()
def mail_officer(request_id: int, news: str) -> str:
    request = LegalRequest.objects.select_related("officer").filter(pk=request_id).first()
    if request is None:
        return "gone"
    subject, body = officer_mail(request, news)
    EmailMessage(subject, body, None, [request.officer.email]).send()
    return "sent"
