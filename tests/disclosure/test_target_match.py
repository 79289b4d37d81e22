"""Before deciding, a reviewer looks the named accounts up in the platform's records: each target
matches one account, none or several; only that is kept (never the account), the look-up is
audited, and the case page shows it in the reader's language."""

from __future__ import annotations

import pytest
from django.utils import timezone

from govreq.audit.models import AuditEvent
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, PermissionDenied
from govreq.lifecycle.matching import targets_match
from tests.console.test_console import PASSWORD, signed_in
from tests.review_helpers import make_staff, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    staff = make_staff()
    for user in staff.users.values():
        user.set_password(PASSWORD)
        user.save()
    return staff


def matches(request) -> dict[str, str]:
    return {t.type: t.match for t in request.targets.order_by("pk")}


def test_each_target_is_looked_up_and_only_the_match_is_kept(chan, staff, platform):
    request = submit(chan)
    assert set(matches(request).values()) == {""}  # not looked up yet
    now = timezone.now()
    targets_match(actor=Actor.for_user(staff.users["rita"]), request=request, now=now)
    # The test platform has the username, the e-mail and the phone; the IPv6 address names none.
    assert matches(request) == {
        "USERNAME": "ONE",
        "EMAIL": "ONE",
        "PHONE": "ONE",
        "IP_ADDRESS": "NONE",
    }
    assert {t.matched_at for t in request.targets.all()} == {now}
    event = AuditEvent.objects.filter(action="request.targets_matched").get()
    assert event.object_id == str(request.public_id)
    assert event.data == {"source": "sql", "ONE": 3, "NONE": 1}


def test_two_accounts_under_one_name_are_several_and_not_one(chan, staff, platform):
    import sqlite3

    connection = sqlite3.connect(platform)
    # Another account signs in from an address an account already used.
    account, address = connection.execute(
        "SELECT account_id, ip_address FROM logins ORDER BY rowid LIMIT 1"
    ).fetchone()
    other = connection.execute("SELECT min(id) FROM accounts WHERE id != ?", (account,)).fetchone()
    columns = [row[1] for row in connection.execute("PRAGMA table_info(logins)")]
    copied = [c for c in columns if c not in ("id", "account_id")]
    names = ", ".join(copied)  # the schema's own column names
    sql = f"INSERT INTO logins (account_id, {names}) SELECT ?, {names} FROM logins "  # noqa: S608
    connection.execute(
        sql + "WHERE account_id = ? AND ip_address = ? LIMIT 1", (other[0], account, address)
    )
    connection.commit()
    connection.close()
    request = submit(chan, targets=[{"type": "IP_ADDRESS", "value": address}])
    targets_match(actor=Actor.for_user(staff.users["rita"]), request=request, now=timezone.now())
    assert matches(request) == {"IP_ADDRESS": "SEVERAL"}


def test_without_a_data_source_nothing_is_written(chan, staff, settings, tmp_path):
    settings.DATA_SOURCE_CONFIG = tmp_path / "missing.toml"
    request = submit(chan)
    with pytest.raises(Conflict) as refused:
        targets_match(
            actor=Actor.for_user(staff.users["rita"]), request=request, now=timezone.now()
        )
    assert refused.value.code == "data_source_unavailable"
    assert set(matches(request).values()) == {""}
    assert not AuditEvent.objects.filter(action="request.targets_matched").exists()


def test_only_a_reviewer_looks_accounts_up(chan, staff, platform):
    request = submit(chan)
    with pytest.raises(PermissionDenied):
        targets_match(
            actor=Actor.for_user(staff.users["alex"]), request=request, now=timezone.now()
        )
    assert set(matches(request).values()) == {""}


def test_the_case_page_offers_the_look_up_and_shows_the_matches_in_chinese(chan, staff, platform):
    request = submit(chan)
    client = signed_in(staff, "rita")
    page = client.get(f"/console/requests/{request.public_id}").content.decode()
    assert 'data-testid="match-targets"' in page and "not looked up yet" in page
    done = client.post(f"/console/requests/{request.public_id}/match_targets")
    assert done.status_code == 302
    page = client.get(
        f"/console/requests/{request.public_id}", HTTP_ACCEPT_LANGUAGE="zh-Hant"
    ).content.decode()
    assert page.count('data-match="ONE"') == 3 and page.count('data-match="NONE"') == 1
    assert "符合一個帳戶" in page and "查無此帳戶" in page
    approver = signed_in(staff, "alex")
    page = approver.get(f"/console/requests/{request.public_id}").content.decode()
    assert 'data-testid="match-targets"' not in page
    assert approver.post(f"/console/requests/{request.public_id}/match_targets").status_code == 403
