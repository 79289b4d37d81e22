"""Hypothesis drives user notice through time: disclosures with and without gag orders and
emergencies, extensions filed (in time or late) and accepted or refused, time passing, and the
worker's sweep.

A model kept here, independently of ``notices.rules``, says when each request's gag is in
force. After every step: no notice was sent while its gag was in force, none twice; after every
sweep, every notice whose delay has ended (and whose gag is not extended by a pending order) is
sent: within one worker cycle.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from govreq.agencies.services import officer_add
from govreq.audit.models import AuditEvent
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, DomainError
from govreq.demo.pdf import tiny_pdf
from govreq.disclosure.models import Production
from govreq.lifecycle import disclosing, notifying
from govreq.notices.models import GagExtension, NoticeEvent, UserNotice
from tests.conftest import SYSTEM, make_agency
from tests.review_helpers import EMERGENCY, approve, make_staff, submit


def end_of(expires_on: date) -> datetime:
    return datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=UTC)


@dataclass
class Case:
    """The model of one request: when its holders may be told."""

    pk: int
    gag_end: datetime | None
    emergency_until: datetime | None
    pending: list[tuple[int, datetime, date]] = field(default_factory=list)  # filed in time

    def gag_in_force(self, moment: datetime) -> bool:
        if self.gag_end is None:
            return False
        return moment < self.gag_end or any(filed < self.gag_end for _, filed, _ in self.pending)

    def may_be_told(self, moment: datetime) -> bool:
        if self.gag_end is not None:
            return not self.gag_in_force(moment)
        return self.emergency_until is None or moment >= self.emergency_until


class Notices(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.clock = timezone.now()
        self.staff = make_staff()
        self.officer = officer_add(
            actor=SYSTEM,
            agency=make_agency("Hong Kong Police Force", "HK", "police.gov.hk"),
            email="chan@police.gov.hk",
            name="Chan",
            now=self.clock,
        )
        self.cases: dict[int, Case] = {}
        self.sent_seen: set[int] = set()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def tick(self) -> datetime:
        self.clock += timedelta(minutes=3)
        return self.clock

    def check_new_sends(self, moment: datetime) -> None:
        """Every notice newly sent at ``moment`` was allowed to be sent then."""
        for notice in UserNotice.objects.filter(status="SENT").exclude(pk__in=self.sent_seen):
            case = self.cases[notice.request_id]
            assert notice.sent_at == moment
            assert case.may_be_told(moment), (notice, moment, case)
            self.sent_seen.add(notice.pk)

    @rule(
        gag_days=st.sampled_from([None, 1, 1, 2, 30]),
        emergency=st.booleans(),
    )
    def a_disclosure(self, gag_days, emergency):
        extra = dict(EMERGENCY) if emergency else {}
        if gag_days is not None:
            extra["gag_order"] = {
                "legal_basis": "Sealed by the court",
                "expires_on": (timezone.now().date() + timedelta(days=gag_days)).isoformat(),
            }
        request = approve(
            submit(self.officer, agency_case_number=f"C-{len(self.cases)}", **extra), self.staff
        )
        production = Production.objects.get(request=request, status="PENDING")
        self.cases[request.pk] = Case(
            pk=request.pk,
            gag_end=end_of(request.gag_expires_on) if request.gag_order else None,
            emergency_until=request.received_at + timedelta(days=90) if emergency else None,
        )
        moment = self.tick()
        disclosing.production_collect_now(actor=SYSTEM, production=production, now=moment)
        self.check_new_sends(moment)

    @precondition(lambda self: any(c.gag_end for c in self.cases.values()))
    @rule(data=st.data(), more_days=st.sampled_from([-1, 0, 1, 3, 40]))
    def the_agency_files_an_extension(self, data, more_days):
        case = data.draw(st.sampled_from([c for c in self.cases.values() if c.gag_end]))
        current = case.gag_end.date() - timedelta(days=1)
        moment = self.tick()
        try:
            with transaction.atomic():
                extension = notifying.gag_extension_file(
                    actor=Actor.for_officer(self.officer),
                    request=self.officer.legal_requests.get(pk=case.pk),
                    upload=io.BytesIO(tiny_pdf([f"A renewed order, {moment.isoformat()}"])),
                    original_name="renewed.pdf",
                    new_expires_on=current + timedelta(days=more_days),
                    legal_basis="Renewed",
                    now=moment,
                )
        except DomainError:
            assert more_days <= 0 or moment >= case.gag_end  # refused: not later, or too late
            return
        assert more_days > 0 and moment < case.gag_end
        case.pending.append((extension.pk, moment, extension.new_expires_on))

    @precondition(lambda self: any(c.pending for c in self.cases.values()))
    @rule(data=st.data(), accept=st.booleans())
    def a_reviewer_decides_it(self, data, accept):
        case = data.draw(st.sampled_from([c for c in self.cases.values() if c.pending]))
        pk, _, new_expires_on = case.pending.pop(0)
        extension = GagExtension.objects.get(pk=pk)
        if accept and end_of(new_expires_on) <= case.gag_end:
            # Another extension accepted since already runs as long: accepting this one is
            # refused (it would shorten the order in force), and the reviewer refuses it.
            with pytest.raises(Conflict) as refused, transaction.atomic():
                notifying.gag_extension_decide(
                    actor=self.staff.actor("rita"),
                    extension=extension,
                    accept=True,
                    note="",
                    now=self.tick(),
                )
            assert refused.value.code == "extension_not_later"
            extension.refresh_from_db()
            accept = False
        notifying.gag_extension_decide(
            actor=self.staff.actor("rita"),
            extension=extension,
            accept=accept,
            note="" if accept else "Not a judge's order",
            now=self.tick(),
        )
        if accept:
            case.gag_end = max(case.gag_end, end_of(new_expires_on))

    @rule(
        passing=st.sampled_from(
            [timedelta(minutes=1), timedelta(hours=5), timedelta(days=1), timedelta(days=20)]
        )
    )
    def time_passes_and_the_worker_sweeps(self, passing):
        self.clock += passing
        moment = self.clock
        notifying.notices_sweep(actor=SYSTEM, now=moment)
        self.check_new_sends(moment)
        for notice in UserNotice.objects.exclude(status="SENT"):
            case = self.cases[notice.request_id]
            assert not case.may_be_told(moment), (notice, moment, case)

    @invariant()
    def never_twice(self):
        sent_events = NoticeEvent.objects.filter(to_status="SENT")
        assert sent_events.count() == len(set(sent_events.values_list("notice_id", flat=True)))
        audited = AuditEvent.objects.filter(action="notice.sent").count()
        assert audited == UserNotice.objects.filter(status="SENT").count()


@pytest.mark.django_db
def test_notice_invariants(platform):
    Notices.TestCase.settings = settings(
        max_examples=150,
        stateful_step_count=10,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    Notices.TestCase().runTest()
