"""A small 2020 history, built through the real services on the historical clock.

Hong Kong: one request decided and produced before the National Security Law hold; then the hold
(30 June 2020, emergencies and trafficking excepted); in H2 a court order that arrives ON_HOLD,
a trafficking warrant and an emergency that go through the exception path and produce data, a
court order naming the same e-mail twice in different case (one account), and a subpoena
withdrawn while on hold.

United States (H2): a court order with a gag order, produced; a subpoena rejected for two
reasons; a warrant closed with no data; a warrant produced in part (no content); a preservation
request preserved (its snapshot sealed); a court order decided in December and approved in
January (pending at the end of H2); a decision that lapsed and was taken again (rejected); a
national-security order (banded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from govreq.agencies.models import Officer
from govreq.core.actors import Actor
from govreq.disclosure.models import Production
from govreq.intake.models import LegalRequest
from govreq.lifecycle import disclosing
from govreq.lifecycle.receiving import request_withdraw
from govreq.lifecycle.reviewing import (
    approval_give,
    call_back,
    decision_make,
    request_close,
    request_escalate,
    request_return_to_review,
    request_start_review,
)
from tests.hold_helpers import hold_place
from tests.review_helpers import EMERGENCY, HR_ASSESSMENT, Staff, submit, verified_contact

HOLD_AT = datetime(2020, 6, 30, 15, 0, tzinfo=UTC)
HOLD_REASON = (
    "National Security Law in force: Hong Kong requests paused pending human-rights due diligence."
)
H2_END = datetime(2021, 1, 1, tzinfo=UTC)


def at(month: int, day: int, hour: int = 9, *, year: int = 2020) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


def dated(received: datetime, **overrides: Any) -> dict[str, Any]:
    """Submission fields that are valid at ``received`` (data range before, deadline after)."""
    return {
        "data_range": {
            "start": (received - timedelta(days=60)).date().isoformat(),
            "end": (received - timedelta(days=1)).date().isoformat(),
        },
        "deadline_at": (received + timedelta(days=30)).isoformat(),
        **overrides,
    }


@dataclass
class History:
    staff: Staff
    chan: Officer
    rivera: Officer
    hold_id: int = 0
    refs: dict[str, LegalRequest] = field(default_factory=dict)

    def actor(self, name: str) -> Actor:
        return self.staff.actor(name)

    def produce(
        self, request: LegalRequest, start: datetime, *, escalate: bool = False, close: bool = True
    ) -> LegalRequest:
        """Review, decide FULL, approve (HR officer first if needed), deliver (collect, release,
        the agency downloads) and close."""
        rita = self.actor("rita")
        request_start_review(actor=rita, request=request, now=start + timedelta(hours=1))
        if escalate:
            request_escalate(
                actor=rita, request=request, reason="Hold exception", now=start + timedelta(hours=2)
            )
        decision_make(
            actor=rita,
            request=request,
            outcome="FULL",
            rationale="Valid and narrow.",
            now=start + timedelta(hours=3),
        )
        if request.kind == "EMERGENCY":  # the second-level check: the agency confirms it
            call_back(
                actor=rita,
                request=request,
                contact_id=verified_contact(request, self.staff).pk,
                called_at=start + timedelta(hours=3, minutes=30),
                outcome="CONFIRMED",
                person_reached="Duty inspector",
                now=start + timedelta(hours=3, minutes=30),
            )
        approvers = (["hana"] if escalate else []) + ["alex", "ana"]
        for index, name in enumerate(approvers):
            approval_give(
                actor=self.actor(name),
                request=request,
                assessment=HR_ASSESSMENT if name == "hana" else None,
                now=start + timedelta(hours=4 + index),
            )
        self.deliver(request, start + timedelta(hours=5))
        if close:
            request_close(
                actor=rita, request=request, reason="Delivered", now=start + timedelta(hours=8)
            )
        request.refresh_from_db()
        return request

    def deliver(self, request: LegalRequest, start: datetime) -> None:
        """Collect the approved request's package, release it, and the agency downloads it."""
        production = disclosing.production_collect_now(
            actor=Actor.system("worker"),
            production=Production.objects.get(request=request, status="PENDING"),
            now=start,
        ).production
        disclosing.production_release(
            actor=self.actor("rita"), production=production, now=start + timedelta(hours=1)
        )
        download = disclosing.package_download(
            actor=Actor.for_officer(request.officer),
            production=production,
            channel="API",
            client_address="192.0.2.1",
            user_agent="history",
            now=start + timedelta(hours=2),
        )
        b"".join(download.chunks)

    def preserve(self, request: LegalRequest, start: datetime) -> LegalRequest:
        """Review, decide PRESERVE and seal the snapshot."""
        rita = self.actor("rita")
        request_start_review(actor=rita, request=request, now=start + timedelta(hours=1))
        decision_make(
            actor=rita,
            request=request,
            outcome="PRESERVE",
            rationale="Valid preservation request.",
            now=start + timedelta(hours=2),
        )
        disclosing.production_collect_now(
            actor=Actor.system("worker"),
            production=Production.objects.get(request=request, status="PENDING"),
            now=start + timedelta(hours=3),
        )
        request.refresh_from_db()
        return request


def build_history(staff: Staff, chan: Officer, rivera: Officer) -> History:
    history = History(staff=staff, chan=chan, rivera=rivera)
    refs = history.refs
    rita = staff.actor("rita")

    # Hong Kong before the hold: produced.
    received = at(3, 2)
    refs["hk_h1"] = history.produce(submit(chan, now=received, **dated(received)), received)

    history.hold_id = hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=HOLD_AT,
        reason=HOLD_REASON,
        review_notes="Due-diligence record.",
        allow_emergency=True,
        allow_offences=["HUMAN_TRAFFICKING"],
        now=HOLD_AT,
    ).hold.pk

    # Hong Kong in H2, under the hold.
    received = at(7, 10)
    refs["hk_held"] = submit(chan, now=received, **dated(received))
    received = at(8, 20)
    refs["hk_trafficking"] = history.produce(
        submit(
            chan,
            now=received,
            **dated(
                received,
                kind="SEARCH_WARRANT",
                offence_category="HUMAN_TRAFFICKING",
                legal_basis="Warrant under s.50(7) Police Force Ordinance, Cap. 232",
                targets=[{"type": "USERNAME", "value": "@recruiter_hk"}],
            ),
        ),
        received,
        escalate=True,
    )
    received = at(9, 15)
    refs["hk_emergency"] = history.produce(
        submit(
            chan,
            document=False,
            now=received,
            **dated(
                received,
                **EMERGENCY,
                targets=[
                    {"type": "USERNAME", "value": "@girl_on_bridge"},
                    {"type": "PHONE", "value": "+852 9123 4567"},
                ],
            ),
        ),
        received,
        escalate=True,
    )
    received = at(10, 1)
    refs["hk_duplicates"] = submit(
        chan,
        now=received,
        **dated(
            received,
            targets=[
                {"type": "EMAIL", "value": "Victim@Example.com"},
                {"type": "EMAIL", "value": "victim@example.COM"},
                {"type": "USERNAME", "value": "@scammer"},
            ],
        ),
    )
    received = at(11, 5)
    refs["hk_withdrawn"] = submit(
        chan,
        now=received,
        **dated(
            received,
            kind="SUBPOENA",
            data_categories=["BASIC_SUBSCRIBER"],
            targets=[{"type": "USERNAME", "value": "@someone"}],
        ),
    )
    request_withdraw(
        actor=Actor.for_officer(chan),
        request=refs["hk_withdrawn"],
        reason="No longer needed",
        now=at(11, 20),
    )

    # United States in H2.
    us_court_order = {
        "kind": "COURT_ORDER",
        "legal_basis": "18 U.S.C. 2703(d)",
        "issuing_authority": "U.S. Magistrate Judge, N.D. Cal.",
        "data_categories": ["BASIC_SUBSCRIBER", "IP_LOGS"],
        "targets": [
            {"type": "EMAIL", "value": "someone@example.com"},
            {"type": "USERNAME", "value": "@ransom"},
        ],
    }
    received = at(7, 5)
    refs["us_produced"] = history.produce(
        submit(
            rivera,
            now=received,
            **dated(
                received,
                **us_court_order,
                gag_order={"legal_basis": "18 U.S.C. 2705(b)", "expires_on": "2021-03-31"},
            ),
        ),
        received,
    )
    received = at(8, 1)
    refs["us_rejected"] = submit(
        rivera,
        now=received,
        **dated(
            received,
            kind="SUBPOENA",
            legal_basis="18 U.S.C. 2703(c)(2)",
            data_categories=["BASIC_SUBSCRIBER"],
            targets=[{"type": "USERNAME", "value": "@fraud"}],
        ),
    )
    request_start_review(actor=rita, request=refs["us_rejected"], now=at(8, 2))
    decision_make(
        actor=rita,
        request=refs["us_rejected"],
        outcome="REJECTED",
        rationale="Overbroad and defective.",
        rejection_reasons=["OVERBROAD", "INVALID_PROCESS"],
        now=at(8, 3),
    )
    warrant = {
        "kind": "SEARCH_WARRANT",
        "legal_basis": "Fed. R. Crim. P. 41; 18 U.S.C. 2703(a)",
        "data_categories": ["BASIC_SUBSCRIBER", "CONTENT"],
        "targets": [
            {"type": "USERNAME", "value": "@target_one"},
            {"type": "USERNAME", "value": "@target_two"},
        ],
    }
    received = at(9, 1)
    refs["us_no_data"] = submit(rivera, now=received, **dated(received, **warrant))
    request_start_review(actor=rita, request=refs["us_no_data"], now=at(9, 2))
    decision_make(
        actor=rita,
        request=refs["us_no_data"],
        outcome="NO_DATA",
        rationale="No such accounts.",
        now=at(9, 3),
    )
    received = at(11, 1)
    partial = submit(rivera, now=received, **dated(received, **warrant))
    request_start_review(actor=rita, request=partial, now=at(11, 2))
    decision_make(
        actor=rita,
        request=partial,
        outcome="PARTIAL",
        rationale="Subscriber data for one account only.",
        approved_target_ids=[partial.targets.order_by("pk").first().pk],  # type: ignore[union-attr]
        approved_categories=["BASIC_SUBSCRIBER"],
        now=at(11, 3),
    )
    for index, name in enumerate(["alex", "ana"]):
        approval_give(actor=staff.actor(name), request=partial, now=at(11, 4 + index))
    history.deliver(partial, at(11, 7))
    refs["us_partial"] = partial
    received = at(10, 1)
    refs["us_preservation"] = history.preserve(
        submit(
            rivera,
            document=False,
            now=received,
            **dated(
                received,
                kind="PRESERVATION",
                legal_basis="18 U.S.C. 2703(f)",
                targets=[{"type": "USERNAME", "value": "@keep_me"}],
            ),
        ),
        received,
    )
    # Decided in December, approved in January: pending at the end of H2.
    received = at(12, 20)
    late = submit(rivera, now=received, **dated(received, **us_court_order))
    request_start_review(actor=rita, request=late, now=at(12, 21))
    decision_make(actor=rita, request=late, outcome="FULL", rationale="Valid.", now=at(12, 28))
    for index, name in enumerate(["alex", "ana"]):
        approval_give(actor=staff.actor(name), request=late, now=at(1, 4 + index, year=2021))
    refs["us_late"] = late
    # A decision that lapsed (sent back to review), then a rejection.
    received = at(7, 15)
    lapsed = submit(rivera, now=received, **dated(received, **us_court_order))
    request_start_review(actor=rita, request=lapsed, now=at(7, 16))
    decision_make(actor=rita, request=lapsed, outcome="FULL", rationale="Valid.", now=at(7, 20))
    request_return_to_review(
        actor=rita, request=lapsed, reason="New facts: the account is a victim's", now=at(7, 25)
    )
    decision_make(
        actor=rita,
        request=lapsed,
        outcome="REJECTED",
        rationale="The account belongs to the victim.",
        rejection_reasons=["OTHER"],
        now=at(8, 1),
    )
    refs["us_lapsed"] = lapsed
    # National-security process: published only as a band.
    received = at(7, 20)
    refs["us_national_security"] = submit(
        rivera,
        now=received,
        **dated(received, **us_court_order | {"offence_category": "NATIONAL_SECURITY"}),
    )
    for request in refs.values():
        request.refresh_from_db()
    return history
