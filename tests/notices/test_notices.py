"""User notice: each account holder whose data is disclosed is told, once, in their language,
before the package leaves; a gag order delays it until it ends (or until a new order the agency
filed in time is reviewed); emergencies and child-safety cases wait; no address, not possible."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, NotFound, ValidationFailed
from govreq.core.models import SentMail
from govreq.demo.pdf import tiny_pdf
from govreq.disclosure.models import Production
from govreq.lifecycle import disclosing, notifying
from govreq.notices.models import GagExtension, UserNotice
from tests.conftest import OnCommitClient
from tests.review_helpers import EMERGENCY, approve, make_staff, submit

pytestmark = pytest.mark.django_db
WORKER = Actor.system("worker")


@pytest.fixture
def staff():
    return make_staff()


def gagged(days: int) -> dict:
    expires = timezone.now().date() + timedelta(days=days)
    return {"legal_basis": "Court order under s.12, sealed", "expires_on": expires.isoformat()}


def notice_mails() -> list:
    return [
        m
        for m in mail.outbox
        if "government request for data" in m.subject or "政府機構" in m.subject
    ]


def approved_and_collected(officer, staff, capture, **submission) -> Production:
    with capture(execute=True):
        request = approve(submit(officer, **submission), staff)
    return Production.objects.get(request=request)


def worker_once(capture, at: datetime) -> str:
    out = StringIO()
    with capture(execute=True):
        call_command("worker", "--once", "--at", at.isoformat(), stdout=out)
    return out.getvalue()


def test_each_disclosed_holder_is_told_once_in_their_language_before_the_package_leaves(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    production = approved_and_collected(chan, staff, django_capture_on_commit_callbacks)
    assert production.status == "READY"
    notices = list(UserNotice.objects.filter(production=production))
    accounts = {a["account"] for a in production.manifest["accounts"] if a["account"]}
    assert {n.account for n in notices} == accounts and len(accounts) == 3
    assert {n.status for n in notices} == {"SENT"}  # told as the package was collected
    sent = notice_mails()
    assert len(sent) == 3
    letter = sent[0]
    # The test platform's accounts are in Hong Kong: the notice is in Traditional Chinese.
    assert letter.subject == "本平台：政府機構要求取得你帳戶的資料"
    assert "Hong Kong Police Force" in letter.body and "Cap. 455" in letter.body
    assert "基本用戶資料" in letter.body and "IP 位址紀錄" in letter.body
    assert "https://www.eff.org/issues/know-your-rights" in letter.body
    # Never the officer's own details.
    for personal in (chan.name, chan.email, chan.badge_number or chan.email):
        assert personal not in letter.body
    with sqlite3.connect(platform) as db:
        addresses = {
            row[0]
            for row in db.execute(
                f"SELECT email FROM accounts WHERE id IN ({','.join('?' * len(accounts))})",  # noqa: S608
                sorted(accounts),
            )
        }
    assert sorted(m.to[0] for m in sent) == sorted(addresses)  # the platform's own addresses
    assert all(m.extra_headers["Message-ID"].startswith("<notice-") for m in sent)
    assert SentMail.objects.count() == 3
    assert AuditEvent.objects.filter(action="notice.sent").count() == 3
    [history] = {tuple(n.events.values_list("to_status", flat=True)) for n in notices}
    assert history == ("DUE", "SENT")

    disclosing.production_release(
        actor=staff.actor("rita"), production=production, now=timezone.now()
    )
    # A second sweep sends nothing.
    mail.outbox.clear()
    worker_once(django_capture_on_commit_callbacks, timezone.now() + timedelta(minutes=1))
    assert notice_mails() == []


def test_a_gag_order_delays_the_notice_until_it_ends_then_one_worker_cycle_sends_it_once(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    production = approved_and_collected(
        chan, staff, django_capture_on_commit_callbacks, gag_order=gagged(30)
    )
    notices = UserNotice.objects.filter(production=production)
    assert {(n.status, n.delay_reason) for n in notices} == {("DELAYED", "GAG_ORDER")}
    end = datetime.combine(
        production.request.gag_expires_on + timedelta(days=1), datetime.min.time(), tzinfo=UTC
    )
    assert {n.delayed_until for n in notices} == {end}
    assert notice_mails() == []
    # A delayed notice does not hold the package back.
    disclosing.production_release(
        actor=staff.actor("rita"), production=production, now=timezone.now()
    )

    worker_once(django_capture_on_commit_callbacks, end - timedelta(seconds=1))
    assert notice_mails() == []  # the last second of the order: nothing
    out = worker_once(django_capture_on_commit_callbacks, end)
    assert "3 notice(s) sent" in out
    assert len(notice_mails()) == 3
    assert len({m.to[0] for m in notice_mails()}) == 3  # one per account
    worker_once(django_capture_on_commit_callbacks, end + timedelta(minutes=1))
    worker_once(django_capture_on_commit_callbacks, end + timedelta(days=3))
    assert len(notice_mails()) == 3  # never twice
    assert {n.status for n in UserNotice.objects.filter(production=production)} == {"SENT"}


def upload_order(request, **fields) -> object:
    return notifying.gag_extension_file(
        actor=Actor.for_officer(request.officer),
        request=request,
        upload=io.BytesIO(tiny_pdf([fields.get("text", "A new non-disclosure order")])),
        original_name="new-order.pdf",
        new_expires_on=fields.get("new_expires_on", request.gag_expires_on + timedelta(days=60)),
        legal_basis="Renewed by the court",
        now=fields.get("now", timezone.now()),
    )


def test_an_extension_filed_before_the_gag_ends_keeps_the_notices_waiting_until_reviewed(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    production = approved_and_collected(
        chan, staff, django_capture_on_commit_callbacks, gag_order=gagged(10)
    )
    request = production.request
    end = datetime.combine(
        request.gag_expires_on + timedelta(days=1), datetime.min.time(), tzinfo=UTC
    )
    extension = upload_order(request, now=end - timedelta(hours=2))
    assert extension.status == "PENDING" and extension.document.original_name == "new-order.pdf"

    worker_once(django_capture_on_commit_callbacks, end + timedelta(hours=1))
    assert notice_mails() == []  # filed in time: it waits for the review

    with pytest.raises(ValidationFailed) as refused:
        notifying.gag_extension_decide(
            actor=staff.actor("rita"), extension=extension, accept=False, note="", now=end
        )
    assert refused.value.errors[0].field == "note"
    notifying.gag_extension_decide(
        actor=staff.actor("rita"),
        extension=extension,
        accept=False,
        note="The new order was signed by a clerk, not a judge",
        now=end + timedelta(hours=2),
    )
    worker_once(django_capture_on_commit_callbacks, end + timedelta(hours=2, minutes=1))
    assert len(notice_mails()) == 3


def test_an_accepted_extension_moves_the_end_and_the_notices_with_it(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    production = approved_and_collected(
        chan, staff, django_capture_on_commit_callbacks, gag_order=gagged(10)
    )
    request = production.request
    old_end = datetime.combine(
        request.gag_expires_on + timedelta(days=1), datetime.min.time(), tzinfo=UTC
    )
    new_expiry = request.gag_expires_on + timedelta(days=60)
    extension = upload_order(request, new_expires_on=new_expiry, now=old_end - timedelta(days=1))
    notifying.gag_extension_decide(
        actor=staff.actor("rita"), extension=extension, accept=True, note="", now=old_end
    )
    request.refresh_from_db()
    assert request.gag_expires_on == new_expiry
    new_end = datetime.combine(new_expiry + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert {n.delayed_until for n in UserNotice.objects.filter(request=request)} == {new_end}
    worker_once(django_capture_on_commit_callbacks, old_end + timedelta(days=1))
    assert notice_mails() == []
    worker_once(django_capture_on_commit_callbacks, new_end)
    assert len(notice_mails()) == 3
    assert AuditEvent.objects.filter(action="gag.extension_accepted").count() == 1


def test_extensions_are_refused_after_the_end_from_another_agency_and_when_not_later(
    chan, rivera, staff, platform, django_capture_on_commit_callbacks
):
    production = approved_and_collected(
        chan, staff, django_capture_on_commit_callbacks, gag_order=gagged(10)
    )
    request = production.request
    end = datetime.combine(
        request.gag_expires_on + timedelta(days=1), datetime.min.time(), tzinfo=UTC
    )
    with pytest.raises(Conflict) as late:
        upload_order(request, now=end)
    assert late.value.code == "gag_ended"
    with pytest.raises(ValidationFailed) as earlier:
        upload_order(request, new_expires_on=request.gag_expires_on)
    assert earlier.value.errors[0].field == "new_expires_on"
    with pytest.raises(NotFound):
        notifying.gag_extension_file(
            actor=Actor.for_officer(rivera),
            request=request,
            upload=io.BytesIO(tiny_pdf(["x"])),
            original_name="x.pdf",
            new_expires_on=request.gag_expires_on + timedelta(days=5),
            legal_basis="",
            now=timezone.now(),
        )
    assert not GagExtension.objects.exists()


def test_emergency_and_child_safety_notices_wait_and_a_reviewer_ends_the_open_ended_delay(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    emergency = approved_and_collected(
        chan, staff, django_capture_on_commit_callbacks, **EMERGENCY, agency_case_number="E-1"
    )
    [reason] = {n.delay_reason for n in UserNotice.objects.filter(production=emergency)}
    assert reason == "EMERGENCY"
    received = emergency.request.received_at
    assert {n.delayed_until for n in UserNotice.objects.filter(production=emergency)} == {
        received + timedelta(days=90)
    }
    child = approved_and_collected(
        chan,
        staff,
        django_capture_on_commit_callbacks,
        offence_category="CHILD_SAFETY",
        agency_case_number="C-1",
        narrative="Grooming of a child through direct messages.",
    )
    child_notices = list(UserNotice.objects.filter(production=child))
    assert {(n.status, n.delay_reason, n.delayed_until) for n in child_notices} == {
        ("DELAYED", "CHILD_SAFETY", None)
    }
    worker_once(django_capture_on_commit_callbacks, timezone.now() + timedelta(days=365))
    sent = {n.production_id for n in UserNotice.objects.filter(status="SENT")}
    assert sent == {emergency.pk}  # the emergency's 90 days ended; the child-safety case waits
    with pytest.raises(Conflict):
        notifying.notice_delay_end(
            actor=staff.actor("rita"),
            notice=UserNotice.objects.filter(status="SENT").first(),
            reason="x",
            now=timezone.now(),
        )
    for notice in child_notices:
        notifying.notice_delay_end(
            actor=staff.actor("rita"),
            notice=notice,
            reason="The investigation closed",
            now=timezone.now(),
        )
    worker_once(django_capture_on_commit_callbacks, timezone.now() + timedelta(days=366))
    assert UserNotice.objects.filter(production=child, status="SENT").count() == len(child_notices)


def test_without_an_address_the_notice_is_not_possible_and_does_not_hold_the_package(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    with sqlite3.connect(platform) as db:
        db.execute("UPDATE accounts SET email = NULL WHERE username = 'scammer_hk'")
    production = approved_and_collected(chan, staff, django_capture_on_commit_callbacks)
    statuses = sorted(
        UserNotice.objects.filter(production=production).values_list("status", flat=True)
    )
    assert statuses == ["NOT_POSSIBLE", "SENT", "SENT"]
    disclosing.production_release(
        actor=staff.actor("rita"), production=production, now=timezone.now()
    )


def broken_contact_lookup(settings) -> None:
    """A data-source file beside the working one whose contact query fails (the records can
    still be collected)."""
    working = settings.DATA_SOURCE_CONFIG
    broken = working.with_name("broken.toml")
    broken.write_text(
        working.read_text().replace(
            "SELECT email, language FROM accounts", "SELECT email, language FROM no_such_table"
        )
    )
    settings.DATA_SOURCE_CONFIG = broken


def test_the_package_waits_while_its_holders_could_not_be_told_yet(
    chan, staff, platform, settings, django_capture_on_commit_callbacks
):
    working = settings.DATA_SOURCE_CONFIG
    broken_contact_lookup(settings)
    production = approved_and_collected(chan, staff, django_capture_on_commit_callbacks)
    assert production.status == "READY"  # collected: only the contact lookup failed
    assert {n.status for n in UserNotice.objects.filter(production=production)} == {"DUE"}
    with pytest.raises(Conflict) as waiting:
        disclosing.production_release(
            actor=staff.actor("rita"), production=production, now=timezone.now()
        )
    assert waiting.value.code == "notice_pending"
    client = OnCommitClient()
    response = client.post(
        f"/api/v1/staff/productions/{production.public_id}/release",
        headers={"Authorization": f"Bearer {staff.tokens['rita']}"},
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "notice_pending"

    settings.DATA_SOURCE_CONFIG = working
    worker_once(django_capture_on_commit_callbacks, timezone.now())
    assert len(notice_mails()) == 3
    disclosing.production_release(
        actor=staff.actor("rita"), production=production, now=timezone.now()
    )


def test_accepting_a_shorter_extension_after_a_longer_one_never_shortens_the_gag(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    production = approved_and_collected(
        chan, staff, django_capture_on_commit_callbacks, gag_order=gagged(10)
    )
    request = production.request
    first_end = request.gag_expires_on
    longer = upload_order(request, new_expires_on=first_end + timedelta(days=60))
    shorter = upload_order(
        request, new_expires_on=first_end + timedelta(days=10), text="Another order"
    )
    notifying.gag_extension_decide(
        actor=staff.actor("rita"), extension=longer, accept=True, note="", now=timezone.now()
    )
    with pytest.raises(Conflict) as refused:
        notifying.gag_extension_decide(
            actor=staff.actor("rita"), extension=shorter, accept=True, note="", now=timezone.now()
        )
    assert refused.value.code == "extension_not_later"
    request.refresh_from_db()
    assert request.gag_expires_on == first_end + timedelta(days=60)
    shorter.refresh_from_db()
    assert shorter.status == "PENDING"  # nothing half-written
    waiting = UserNotice.objects.filter(request=request, status="DELAYED")
    assert {n.delayed_until.date() for n in waiting} == {first_end + timedelta(days=61)}


def test_an_extension_centuries_away_is_refused_naming_the_field(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    production = approved_and_collected(
        chan, staff, django_capture_on_commit_callbacks, gag_order=gagged(10)
    )
    documents = production.request.documents.count()
    with pytest.raises(ValidationFailed) as refused:
        upload_order(production.request, new_expires_on=date(9999, 12, 31))
    assert refused.value.errors[0].field == "new_expires_on"
    assert production.request.documents.count() == documents
    assert GagExtension.objects.count() == 0
