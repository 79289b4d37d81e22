"""Times in the viewer's zone: chosen in the preferences; until then the browser's (posted once
by a small script), else the region of Accept-Language, else UTC. Every time names its zone;
deadlines say the time left and are marked when overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.console import zones
from govreq.intake.models import LegalRequest
from tests.console.test_console import signed_in, staff  # noqa: F401 (fixture)
from tests.review_helpers import submit

pytestmark = pytest.mark.django_db
DETECT = "/console/preferences/time-zone"


def test_a_newcomer_sees_the_region_zone_and_the_page_asks_the_browser(staff, chan):  # noqa: F811
    submit(chan)
    rita = signed_in(staff, "rita")
    page = rita.get("/console/", HTTP_ACCEPT_LANGUAGE="zh-HK,zh;q=0.9").content.decode()
    assert "Asia/Hong_Kong" in page and 'src="/static/console/zone.js"' in page
    # Named as people in Hong Kong name it, the unambiguous IANA key as its title.
    assert '<abbr title="Asia/Hong_Kong">HKT</abbr></time>' in page
    # No region with one zone: UTC, said as such.
    page = rita.get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert " UTC</time>" in page


def test_the_browser_zone_is_taken_once_and_never_over_a_choice(staff, chan):  # noqa: F811
    request = submit(chan)
    rita = signed_in(staff, "rita")
    bad = rita.post(DETECT, {"time_zone": "Mars/Olympus"})
    assert bad.status_code == 422 and "time_zone" in bad.json()["errors"]
    assert rita.post(DETECT, {"time_zone": "Asia/Taipei"}).json() == {"changed": True}
    assert rita.post(DETECT, {"time_zone": "Europe/London"}).json() == {"changed": False}
    staff.users["rita"].refresh_from_db()
    assert staff.users["rita"].time_zone == "Asia/Taipei"
    assert AuditEvent.objects.filter(action="staff.time_zone_set").count() == 1
    page = rita.get(f"/console/requests/{request.public_id}", HTTP_ACCEPT_LANGUAGE="zh-HK")
    assert "Asia/Taipei" in page.content.decode() and "zone.js" not in page.content.decode()
    assert '<abbr title="Asia/Taipei">CST</abbr>' in page.content.decode()


def test_utc_chosen_on_purpose_stays_utc(staff):  # noqa: F811
    ana = signed_in(staff, "ana")
    assert ana.post("/console/preferences", {"time_zone": "UTC"}).status_code == 302
    # Even without the session's note, the trail says it was chosen.
    session = ana.session
    del session[zones.CHOSEN]
    session.save()
    again = ana
    page = again.get("/console/", HTTP_ACCEPT_LANGUAGE="zh-HK").content.decode()
    assert "zone.js" not in page
    assert again.post(DETECT, {"time_zone": "Asia/Hong_Kong"}).json() == {"changed": False}


def test_deadlines_say_the_time_left_and_are_marked_when_overdue(staff, chan):  # noqa: F811
    request = submit(chan)
    rita = signed_in(staff, "rita")
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-Hant"}
    due = rita.get(f"/console/requests/{request.public_id}", **zh).content.decode()
    assert "尚餘" in due and "已逾期" not in due.split('data-testid="answer-due"')[1][:400]
    LegalRequest.objects.filter(pk=request.pk).update(
        respond_by=timezone.now() - timedelta(hours=5)
    )
    late = rita.get(f"/console/requests/{request.public_id}", **zh).content.decode()
    answer = late.split('data-testid="answer-due"')[1][:600]
    assert "已逾期 5 小時" in answer and 'class="badge block"' in answer
    queue = rita.get("/console/", **zh).content.decode()
    assert "overdue-row" in queue and "已逾期 5 小時" in queue


# --- the language of a staff member's e-mails ----------------------------------------------------


def test_e_mails_follow_the_language_of_the_first_sign_in_until_one_is_chosen(staff):  # noqa: F811
    from django.test import Client

    from govreq.console import otp
    from tests.console.test_console import PASSWORD, enrol_secret

    rita = staff.users["rita"]
    assert rita.language == ""
    signed_in(staff, "rita", Client(HTTP_ACCEPT_LANGUAGE="zh-Hant"))
    rita.refresh_from_db()
    assert rita.language == "zh-hant"
    chosen = AuditEvent.objects.get(action="staff.language_set", object_id=str(rita.pk))
    assert chosen.data == {"from": "", "to": "zh-hant"}
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # a later sign-in, in English
    client.post("/console/sign-in", {"email": rita.email, "password": PASSWORD})
    code = otp.code_at(enrol_secret(rita), timezone.now() + timedelta(seconds=30))
    assert client.post("/console/sign-in/verify", {"code": code}).status_code == 302
    rita.refresh_from_db()
    assert rita.language == "zh-hant"  # a later sign-in in English does not change it
    page = client.get("/console/preferences").content.decode()
    assert 'name="language"' in page
    saved = client.post("/console/preferences", {"time_zone": "UTC", "language": "en"})
    assert saved.status_code == 302
    rita.refresh_from_db()
    assert rita.language == "en"
    refused = client.post("/console/preferences", {"time_zone": "UTC", "language": "fr"})
    assert refused.status_code == 422
    rita.refresh_from_db()
    assert rita.language == "en"
    assert AuditEvent.objects.filter(action="staff.language_set").count() == 2
