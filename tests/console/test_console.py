"""The staff console: two-factor sign-in, every page for every role, case actions, security."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from govreq.agencies.models import AccessRequest, AgencyStatus, Officer
from govreq.agencies.services import access_request_submit
from govreq.audit.models import AuditEvent
from govreq.console import otp
from govreq.console.auth import REAUTH_AT
from govreq.console.models import TotpDevice
from govreq.holds.models import JurisdictionHold
from govreq.lifecycle import reviewing as review
from govreq.web.middleware import LAST_SEEN
from tests.hold_helpers import hold_place, second_admin
from tests.review_helpers import make_staff, submit

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(db):
    staff = make_staff()
    for user in staff.users.values():
        user.set_password(PASSWORD)
        user.save()
    return staff


def enrol(user) -> bytes:
    """Give the user a confirmed authenticator; return its secret."""
    enrolment = otp.totp_enrol_start(user=user, now=timezone.now())
    secret = otp.device_secret(TotpDevice.objects.get(user=user))
    assert otp.totp_confirm(user=user, code=otp.code_at(secret, timezone.now()), now=timezone.now())
    assert enrolment.secret_base32
    return secret


def signed_in(staff, name: str, client: Client | None = None) -> Client:
    client = client or Client()
    user = staff.users[name]
    secret = enrol(user)
    TotpDevice.objects.filter(user=user).update(last_counter=0)
    response = client.post("/console/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    response = client.post("/console/sign-in/verify", {"code": otp.code_at(secret, timezone.now())})
    assert response.status_code == 302, response.content
    return client


# --- sign-in ----------------------------------------------------------------------------------


def test_password_alone_does_not_sign_in(staff):
    client = Client()
    enrol(staff.users["rita"])
    response = client.post(
        "/console/sign-in", {"email": "rita@platform.example", "password": PASSWORD}
    )
    assert response["Location"].startswith("/console/sign-in/verify")
    assert client.get("/console/")["Location"].startswith("/console/sign-in")
    assert client.get("/admin/", follow=True).redirect_chain[-1][0].startswith("/console/sign-in")
    assert client.get("/api/v1/docs")["Location"].startswith("/console/sign-in")
    wrong = client.post("/console/sign-in/verify", {"code": "000000"})
    assert wrong.status_code == 200
    assert "not valid" in wrong.content.decode()
    assert client.get("/console/")["Location"].startswith("/console/sign-in")
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() == 1


def test_wrong_password(staff):
    response = Client().post(
        "/console/sign-in", {"email": "rita@platform.example", "password": "nope"}
    )
    assert response.status_code == 200
    assert "not right" in response.content.decode()


def test_first_sign_in_enrols_an_authenticator(staff):
    client = Client()
    response = client.post(
        "/console/sign-in", {"email": "rita@platform.example", "password": PASSWORD}
    )
    assert response["Location"].startswith("/console/sign-in/enrol")
    page = client.get(response["Location"]).content.decode()
    assert "<svg" in page
    secret = otp.device_secret(TotpDevice.objects.get(user=staff.users["rita"]))
    done = client.post("/console/sign-in/enrol", {"code": otp.code_at(secret, timezone.now())})
    assert done.status_code == 200
    codes = re.findall(r"<li>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</li>", done.content.decode())
    assert len(codes) == 10
    assert client.get("/console/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.signed_in").count() == 1


def test_a_code_cannot_be_replayed_and_recovery_codes_work_once(staff):
    user = staff.users["rita"]
    secret = enrol(user)
    code = otp.code_at(secret, timezone.now() + timedelta(seconds=30))
    assert otp.second_factor_verify(user=user, code=code, now=timezone.now())
    assert not otp.second_factor_verify(user=user, code=code, now=timezone.now())
    recovery = otp.recovery_codes_regenerate(user=user, now=timezone.now())
    assert otp.second_factor_verify(user=user, code=recovery[0], now=timezone.now())
    assert not otp.second_factor_verify(user=user, code=recovery[0], now=timezone.now())


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/portal/", "javascript:alert(1)"]
)
def test_no_open_redirect_after_sign_in(staff, target):
    client = Client()
    user = staff.users["rita"]
    secret = enrol(user)
    TotpDevice.objects.filter(user=user).update(last_counter=0)
    client.post("/console/sign-in", {"email": user.email, "password": PASSWORD, "next": target})
    response = client.post(
        "/console/sign-in/verify", {"code": otp.code_at(secret, timezone.now()), "next": target}
    )
    assert response["Location"] == "/console/"


def test_local_next_is_kept(staff, chan):
    request = submit(chan)
    client = Client()
    user = staff.users["rita"]
    secret = enrol(user)
    TotpDevice.objects.filter(user=user).update(last_counter=0)
    path = f"/console/requests/{request.public_id}"
    client.post(
        f"/console/sign-in?next={path}", {"email": user.email, "password": PASSWORD, "next": path}
    )
    response = client.post(
        "/console/sign-in/verify", {"code": otp.code_at(secret, timezone.now()), "next": path}
    )
    assert response["Location"] == path


def test_idle_sessions_end(staff):
    client = signed_in(staff, "rita")
    session = client.session
    session[LAST_SEEN] = time.time() - 31 * 60
    session.save()
    assert client.get("/console/")["Location"].startswith("/console/sign-in")


# --- pages for every role ---------------------------------------------------------------------

PAGES = {
    "queue": ("/console/", None),
    "case": ("/console/requests/{request}", None),
    "holds": ("/console/holds", None),
    "hold": ("/console/holds/{hold}", None),
    "hold-new": ("/console/holds/new", {"pat", "root"}),
    "agencies": ("/console/agencies", None),
    "agency": ("/console/agencies/{agency}", None),
    "access": ("/console/access-requests", {"ivy", "pat", "root"}),
    "audit": ("/console/audit", {"aud", "pat", "root"}),
    "document": ("/console/documents/{document}", None),
}
EVERYONE = {"ivy", "rita", "raj", "alex", "ana", "hana", "pat", "aud", "root"}


def test_every_role_against_every_page(staff, chan):
    request = submit(chan)
    hold = hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="US",
        effective_from=timezone.now(),
        reason="test",
        now=timezone.now(),
    ).hold
    values = {
        "request": request.public_id,
        "hold": hold.pk,
        "agency": chan.agency_id,
        "document": request.documents.get().pk,
    }
    anonymous = Client()
    for name in [*EVERYONE, "nobody"]:
        client = signed_in(staff, name)
        for page, (pattern, allowed) in PAGES.items():
            url = pattern.format(**values)
            expected = 200 if name != "nobody" and (allowed is None or name in allowed) else 403
            response = client.get(url)
            assert response.status_code == expected, (name, page, response.status_code)
    for pattern, _ in PAGES.values():
        response = anonymous.get(pattern.format(**values))
        assert response.status_code == 302 and response["Location"].startswith("/console/sign-in")


# --- the case page ----------------------------------------------------------------------------


def test_reviewer_decides_and_approvers_approve_in_the_browser_flow(staff, chan):
    request = submit(chan)
    rita = signed_in(staff, "rita")
    page = rita.get(f"/console/requests/{request.public_id}").content.decode()
    assert 'data-testid="start-review"' in page and 'data-testid="approve"' not in page
    rita.post(f"/console/requests/{request.public_id}/start_review")
    response = rita.post(
        f"/console/requests/{request.public_id}/decide",
        {"outcome": "FULL", "rationale": "Valid and narrow"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "DECIDED"
    assert (
        'data-testid="approve"'
        not in rita.get(f"/console/requests/{request.public_id}").content.decode()
    )
    for name in ("alex", "ana"):
        client = signed_in(staff, name)
        assert (
            'data-testid="approve"'
            in client.get(f"/console/requests/{request.public_id}").content.decode()
        )
        assert client.post(f"/console/requests/{request.public_id}/approve", {}).status_code == 302
    request.refresh_from_db()
    assert request.status == "APPROVED"


def test_hold_banner_no_approve_button_and_direct_post_refused(staff, chan):
    request = submit(chan)
    review.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    review.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="ok",
        now=timezone.now(),
    )
    hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=timezone.now() - timedelta(hours=1),
        reason="National Security Law due diligence",
        now=timezone.now(),
    )
    alex = signed_in(staff, "alex")
    page = alex.get(f"/console/requests/{request.public_id}").content.decode()
    assert 'data-testid="hold-banner"' in page
    assert "National Security Law due diligence" in page
    assert "On hold: hold #" in page and " on Hong Kong (HK), in force since " in page
    assert 'data-testid="approve"' not in page
    response = alex.post(f"/console/requests/{request.public_id}/approve", {})
    assert response.status_code == 409
    assert "on hold" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "ON_HOLD"
    assert not request.decisions.get().approvals.exists()


def test_approval_needs_fresh_reauthentication(staff, chan):
    request = submit(chan)
    review.request_start_review(actor=staff.actor("rita"), request=request, now=timezone.now())
    review.decision_make(
        actor=staff.actor("rita"),
        request=request,
        outcome="FULL",
        rationale="ok",
        now=timezone.now(),
    )
    alex = signed_in(staff, "alex")
    session = alex.session
    session[REAUTH_AT] = time.time() - 3600
    session.save()
    assert 'name="code"' in alex.get(f"/console/requests/{request.public_id}").content.decode()
    refused = alex.post(f"/console/requests/{request.public_id}/approve", {})
    assert refused.status_code == 422
    assert not request.decisions.get().approvals.exists()
    secret = otp.device_secret(TotpDevice.objects.get(user=staff.users["alex"]))
    ok = alex.post(
        f"/console/requests/{request.public_id}/approve",
        {"code": otp.code_at(secret, timezone.now() + timedelta(seconds=30))},
    )
    assert ok.status_code == 302
    assert request.decisions.get().approvals.count() == 1


def test_user_text_is_escaped(staff, chan):
    request = submit(chan, narrative='<script>alert("x")</script><img src=x onerror=alert(1)>')
    page = signed_in(staff, "rita").get(f"/console/requests/{request.public_id}").content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_documents_download_as_attachments_and_are_audited(staff, chan):
    request = submit(chan)
    document = request.documents.get()
    response = signed_in(staff, "aud").get(f"/console/documents/{document.pk}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="document.downloaded").count() == 1


def test_csrf_is_enforced(staff, chan):
    request = submit(chan)
    client = Client(enforce_csrf_checks=True)
    client.cookies = signed_in(staff, "rita").cookies
    assert client.get("/console/").status_code == 200
    assert client.post(f"/console/requests/{request.public_id}/start_review").status_code == 403
    assert (
        Client(enforce_csrf_checks=True)
        .post("/console/sign-in", {"email": "x@y.z", "password": "p"})
        .status_code
        == 403
    )


def test_security_headers_on_console_pages(staff):
    response = Client().get("/console/sign-in")
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"


# --- holds, agencies, audit -------------------------------------------------------------------


def test_hold_preview_propose_then_a_second_admin_confirms(staff, chan):
    request = submit(chan)
    pat = signed_in(staff, "pat")
    form = {
        "jurisdiction": "HK",
        "effective_from": "2020-06-30T23:00",
        "time_zone": "Asia/Hong_Kong",
        "reason": "NSL",
        "reason_zh_hant": "國安法",
        "allow_emergency": "on",
    }
    preview = pat.post("/console/holds/new", {**form, "preview": "1"})
    assert "This hold would put 1 open request on hold." in preview.content.decode()
    proposed = pat.post("/console/holds/new", {**form, "confirm": "1"})
    assert proposed.status_code == 302
    change_url = proposed["Location"]
    page = pat.get(change_url).content.decode()
    assert "Waiting for a second policy admin" in page and request.reference in page
    assert 'data-testid="confirm-change"' not in page  # not offered to the proposer
    refused = pat.post(change_url + "/decide", {"confirm": "1"}, follow=True)
    assert "second policy admin" in refused.content.decode()
    assert not JurisdictionHold.objects.exists()

    pam = signed_in(_second_admin_staff(staff), "second")
    # A stale second factor: the confirmation asks for a current code first.
    session = pam.session
    session.pop(REAUTH_AT)
    session.save()
    stale = pam.post(change_url + "/decide", {"confirm": "1"}, follow=True)
    assert "current authenticator code" in stale.content.decode()
    assert not JurisdictionHold.objects.exists()
    secret = enrol_secret(staff.users["second"])
    placed = pam.post(
        change_url + "/decide",
        # The next step's code: the sign-in used this one, and a code is accepted only once.
        {"confirm": "1", "code": otp.code_at(secret, timezone.now() + timedelta(seconds=30))},
    )
    assert placed.status_code == 302
    hold = JurisdictionHold.objects.get()
    assert hold.effective_from == datetime(2020, 6, 30, 15, 0, tzinfo=UTC)
    assert (hold.reason, hold.reason_zh_hant) == ("NSL", "國安法")
    page = pam.get(placed["Location"]).content.decode()
    assert "On hold (1)" in page
    lift = pat.post(placed["Location"] + "/lift", {"reason": "done"})
    assert lift.status_code == 302
    assert request.reference in pat.get(lift["Location"]).content.decode()  # what it releases
    request.refresh_from_db()
    assert request.status == "ON_HOLD"
    done = pam.post(lift["Location"] + "/decide", {"confirm": "1"})
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.status == "RECEIVED"


def _second_admin_staff(staff):
    """A second policy admin with the console password, added to ``staff`` as "second"."""
    user = second_admin().user
    user.set_password(PASSWORD)
    user.save()
    staff.users["second"] = user
    return staff


def enrol_secret(user) -> bytes:
    """The TOTP secret ``signed_in`` enrolled for ``user`` (stored on the device)."""
    device = TotpDevice.objects.get(user=user)
    return otp.device_secret(device)


def test_access_request_is_verified_and_granted(staff):
    access = access_request_submit(
        name="Lee",
        email="lee@newpolice.gov.example",
        agency_name="New Police",
        jurisdiction_code="SG",
        agency_kind="POLICE",
        now=timezone.now(),
    )
    ivy = signed_in(staff, "ivy")
    assert "New Police" in ivy.get("/console/access-requests").content.decode()
    prefix = f"a{access.pk}"
    response = ivy.post(
        "/console/access-requests",
        {
            "access": access.pk,
            "approve": "1",
            f"{prefix}-agency": "",
            f"{prefix}-new_agency_domain": "newpolice.gov.example",
            f"{prefix}-new_agency_kind": "POLICE",
            f"{prefix}-method": "Called the number listed in the government directory",
        },
    )
    assert response.status_code == 302
    officer = Officer.objects.get(email="lee@newpolice.gov.example")
    assert officer.agency.status == AgencyStatus.VERIFIED
    assert "government directory" in officer.agency.verification_method
    assert AccessRequest.objects.get().status == "APPROVED"


def test_agency_suspend_from_the_console(staff, chan):
    ivy = signed_in(staff, "ivy")
    ivy.post(f"/console/agencies/{chan.agency_id}/suspend", {"reason": "Hijacked mailbox"})
    chan.agency.refresh_from_db()
    assert chan.agency.status == "SUSPENDED"
    rita = signed_in(staff, "rita")
    assert (
        rita.post(f"/console/agencies/{chan.agency_id}/suspend", {"reason": "x"}).status_code == 403
    )


def test_audit_page_shows_the_chain_state(staff, chan):
    aud = signed_in(staff, "aud")
    assert 'data-testid="verify-chain"' in aud.get("/console/audit").content.decode()
    assert 'data-testid="chain-ok"' in aud.get("/console/audit?verify=1").content.decode()
    AuditEvent.objects.filter(seq=2).update(action="tampered")
    assert 'data-testid="chain-broken"' in aud.get("/console/audit?verify=1").content.decode()
    filtered = aud.get("/console/audit", {"action": "agency."}).content.decode()
    assert "added the agency" in filtered and "added the officer" not in filtered
