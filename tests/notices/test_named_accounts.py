"""User notice by policy for every account a request named (RDR P12): under the NAMED rule the
holders of named accounts that were not disclosed are told too, once the request is decided,
that nothing was disclosed about them; under the default DISCLOSED rule they are not."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from govreq.disclosure.models import Production
from govreq.lifecycle import reviewing
from govreq.lifecycle.notifying import open_named_notices
from govreq.lifecycle.rechecking import policy_update
from govreq.notices.models import UserNotice
from govreq.policy.selectors import policy_current, policy_document_of
from tests.notices.test_notices import gagged, notice_mails
from tests.review_helpers import approve, make_staff, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return make_staff()


def tell_named(staff) -> None:
    document = policy_document_of(policy_current()[0])
    document["user_notice"]["accounts"] = "NAMED"
    policy_update(
        actor=staff.actor("pat"), document=document, note="Tell named holders", now=timezone.now()
    )


def reject(request, staff, capture) -> None:
    now = timezone.now()
    with capture(execute=True):
        reviewing.request_start_review(actor=staff.actor("rita"), request=request, now=now)
        reviewing.decision_make(
            actor=staff.actor("rita"),
            request=request,
            outcome="REJECTED",
            rejection_reasons=["OVERBROAD"],
            rationale="Far broader than the offence",
            now=now,
        )


def test_by_default_a_rejected_requests_holders_are_not_told(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    request = submit(chan)
    reject(request, staff, django_capture_on_commit_callbacks)
    assert not UserNotice.objects.filter(request=request).exists()
    assert notice_mails() == []


def test_under_named_each_named_holder_of_a_rejected_request_is_told_nothing_was_disclosed(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    tell_named(staff)
    request = submit(chan)  # four targets; three are accounts on the platform
    reject(request, staff, django_capture_on_commit_callbacks)
    notices = list(UserNotice.objects.filter(request=request))
    assert len(notices) == 3 and {n.status for n in notices} == {"SENT"}
    assert all(n.production_id is None for n in notices)
    sent = notice_mails()
    assert len(sent) == 3 and len({m.to[0] for m in sent}) == 3
    assert all(("disclosed: nothing" in m.body) or ("披露了：無" in m.body) for m in sent)
    # Idempotent: the task run again opens and sends nothing.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert open_named_notices.call(request_id=request.pk).startswith("0 notice(s)")
    assert notice_mails() == []


def test_under_named_a_partial_disclosure_tells_the_holders_left_out_too(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    tell_named(staff)
    request = submit(chan)
    first = request.targets.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        approve(
            request,
            staff,
            outcome="PARTIAL",
            approved_target_ids=[first.pk],
            approved_categories=["BASIC_SUBSCRIBER"],
        )
    production = Production.objects.get(request=request)
    notices = UserNotice.objects.filter(request=production.request)
    disclosed = notices.filter(production=production)
    left_out = notices.filter(production__isnull=True)
    assert disclosed.count() == 1 and left_out.count() == 2
    bodies = {m.to[0]: m.body for m in notice_mails()}
    assert len(bodies) == 3
    assert sum(("nothing" in b) or ("無" in b) for b in bodies.values()) == 2


def test_under_named_a_gag_order_delays_the_named_holders_notices_as_well(
    chan, staff, platform, django_capture_on_commit_callbacks
):
    tell_named(staff)
    request = submit(chan, gag_order=gagged(30))
    reject(request, staff, django_capture_on_commit_callbacks)
    notices = UserNotice.objects.filter(request=request)
    assert notices.count() == 3
    assert {(n.status, n.delay_reason) for n in notices} == {("DELAYED", "GAG_ORDER")}
    assert notice_mails() == []
